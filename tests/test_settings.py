"""Settings: read from the environment, checked at start, documented in one table, the one in
docs/operations.md."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from app.settings import ENV_PREFIX, Settings, SettingsError, load_settings, local_url

OPERATIONS = Path(__file__).parent.parent / "docs" / "operations.md"


def test_the_settings_table_lists_every_setting() -> None:
    text = OPERATIONS.read_text()
    table = text.split("<!-- settings-table -->")[1].split("<!-- /settings-table -->")[0]
    documented = re.findall(rf"^\| `{ENV_PREFIX}(\w+)` \|", table, flags=re.MULTILINE)
    assert sorted(documented) == sorted(name.upper() for name in Settings.model_fields)


def test_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RETRIEVER_PAGES_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(
        "RETRIEVER_PAGES_API_KEYS", " ns:key-0123456789abcdef , other-key-0123456789 "
    )
    monkeypatch.setenv("RETRIEVER_PAGES_PUBLIC_URL", "https://search.example.test/")
    settings = load_settings()
    assert settings.api_keys == ["ns:key-0123456789abcdef", "other-key-0123456789"]
    assert settings.public_url == "https://search.example.test"
    assert settings.effective_database_url == f"sqlite:///{tmp_path}/retriever-pages.db"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PUBLIC_URL", "ftp://example.test"),
        ("API_KEYS", "short"),
        ("SECRET_KEY", "too-short"),
        ("DATABASE_URL", "mysql://x"),
        ("MAX_BODY_BYTES", "lots"),
        ("LOG_LEVEL", "loud"),
    ],
)
def test_a_bad_setting_names_itself(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(ENV_PREFIX + name, value)
    with pytest.raises(SettingsError, match=ENV_PREFIX + name):
        load_settings()


def test_the_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).effective_secret_key
    second = Settings(data_dir=tmp_path).effective_secret_key
    assert first == second
    assert len(first) >= 32
    mode = (tmp_path / "secret_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_a_configured_secret_key_wins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="s" * 40)
    assert settings.effective_secret_key == "s" * 40
    assert not (tmp_path / "secret_key").exists()


def test_one_client_share_of_the_connections() -> None:
    assert Settings().effective_max_connections_per_client == 100  # a tenth of 1000
    assert Settings(max_connections=5).effective_max_connections_per_client == 1
    assert Settings(max_connections_per_client=30).effective_max_connections_per_client == 30
    # A share larger than the whole is the whole.
    settings = Settings(max_connections=20, max_connections_per_client=50)
    assert settings.effective_max_connections_per_client == 20


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "http://localhost:9000"),
        ("0.0.0.0", "http://localhost:9000"),  # noqa: S104 - every address, reached locally
        ("::", "http://localhost:9000"),
        ("192.168.1.20", "http://192.168.1.20:9000"),
        ("fd00::20", "http://[fd00::20]:9000"),
        ("search.internal", "http://search.internal:9000"),
    ],
)
def test_an_unset_public_url_is_the_address_served(host: str, expected: str) -> None:
    assert local_url(host, 9000) == expected
    assert Settings().served_at(host, 9000).public_url == expected
    chosen = Settings(public_url="https://search.example.test")
    assert chosen.served_at(host, 9000).public_url == "https://search.example.test"
