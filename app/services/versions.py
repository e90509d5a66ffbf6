"""A page's published versions: publishing a display config (the first time or again) through
`Publishing`, the API's own calls, so that each check is the same; the history each publish
leaves (see `page_versions.snapshot`); the difference between a version and the page now; and
a rollback, which publishes an old version again as a new one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from app import jsonutil
from app.adapters.store import Store
from app.adapters.store import page_versions as stored
from app.adapters.store.page_versions import Byline, VersionRecord
from app.errors import NotFound, from_validation_error
from app.schemas.display import DisplayConfig
from app.schemas.publishing import PublishRetrieverRequest, UpdatePublishedRetrieverRequest
from app.schemas.versions import PageVersion, PageVersionList
from app.services.publishing import Publishing
from app.services.retrievers import retriever_or_404

SERVER_FILLED = ("retriever_config",)  # written by the server when published, never edited
MAX_SHOWN_CHARS = 300


@dataclass(frozen=True)
class Change:
    """One difference between two configs, at a path such as `theme.primary_color`."""

    path: str
    kind: str  # "added", "removed" or "changed"
    before: str | None
    after: str | None


def edited(config: dict[str, Any]) -> dict[str, Any]:
    """A config as the publisher wrote it: without what the server fills in."""
    return {key: value for key, value in config.items() if key not in SERVER_FILLED}


def as_model(config: dict[str, Any]) -> DisplayConfig:
    return DisplayConfig.model_validate_json(jsonutil.dumps(edited(config)))


class PageVersions:
    def __init__(self, store: Store, publishing: Publishing) -> None:
        self.store = store
        self.publishing = publishing

    def current(self, namespace: str, retriever_id: str) -> dict[str, Any] | None:
        """The display config the page shows now (None while it is not published)."""
        with self.store.read() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            published = tx.get_published(namespace, retriever_id)
        return edited(published.display_config) if published else None

    def publish(
        self,
        namespace: str,
        retriever_id: str,
        config: DisplayConfig,
        by: Byline,
        public_name: str | None = None,
    ) -> None:
        """Publish `config`: the first publish takes `public_name`, checked as the API's
        publish checks it, or chooses one from the retriever's name, as the API's does
        without one; later ones update the page (and `public_name` is not read)."""
        with self.store.read() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            published = tx.get_published(namespace, retriever_id) is not None
        if published:
            update = UpdatePublishedRetrieverRequest(display_config=config)
            self.publishing.update_published(namespace, retriever_id, update, by)
        else:
            try:
                request = PublishRetrieverRequest.model_validate(
                    {"display_config": config, "public_name": public_name}
                )
            except ValidationError as error:
                raise from_validation_error(error) from None
            self.publishing.publish(namespace, retriever_id, request, by)
        with self.store.write() as tx:
            stored.drop_draft(tx.conn, namespace, retriever_id)  # the draft is the page now

    def listing(
        self, namespace: str, retriever_id: str, limit: int, offset: int
    ) -> PageVersionList:
        with self.store.read() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            records, total = stored.versions(tx.conn, namespace, retriever_id, limit, offset)
            newest, _ = stored.versions(tx.conn, namespace, retriever_id, 1, 0)
            live = tx.get_published(namespace, retriever_id) is not None
        current = newest[0].number if newest and live else None
        return PageVersionList(
            results=[_version(r, r.number == current) for r in records],
            total=total,
            limit=limit,
            offset=offset,
        )

    def get(self, namespace: str, retriever_id: str, number: int) -> VersionRecord:
        with self.store.read() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            found = stored.version(tx.conn, namespace, retriever_id, number)
        if found is None:
            raise NotFound(f"Retriever {retriever_id!r} has no published version {number}.")
        return found

    def diff(self, namespace: str, retriever_id: str, number: int) -> list[Change]:
        """What publishing version `number` again would change on the page now."""
        old = self.get(namespace, retriever_id, number)
        now = self.current(namespace, retriever_id) or {}
        return changes(now, edited(old.display_config))

    def rollback(self, namespace: str, retriever_id: str, number: int, who: str) -> PageVersion:
        """Publish version `number` again, as a new version; the new one."""
        old = self.get(namespace, retriever_id, number)
        by = Byline(who, f"rollback to version {number}")
        self.publish(namespace, retriever_id, as_model(old.display_config), by)
        return self.listing(namespace, retriever_id, 1, 0).results[0]


def _version(record: VersionRecord, current: bool) -> PageVersion:
    return PageVersion(
        number=record.number,
        published_by=record.published_by,
        published_at=datetime.fromisoformat(record.published_at),
        note=record.note,
        current=current,
        display_config=record.display_config,
    )


def changes(before: Any, after: Any, path: str = "") -> list[Change]:
    """Every leaf that differs, by path (`inputs[0].label`), in the configs' own order."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[Change] = []
        for key in [*before, *(k for k in after if k not in before)]:
            where = f"{path}.{key}" if path else str(key)
            if key not in after:
                found.append(Change(where, "removed", _shown(before[key]), None))
            elif key not in before:
                found.append(Change(where, "added", None, _shown(after[key])))
            else:
                found += changes(before[key], after[key], where)
        return found
    if isinstance(before, list) and isinstance(after, list):
        found = []
        for number in range(max(len(before), len(after))):
            where = f"{path}[{number}]"
            if number >= len(after):
                found.append(Change(where, "removed", _shown(before[number]), None))
            elif number >= len(before):
                found.append(Change(where, "added", None, _shown(after[number])))
            else:
                found += changes(before[number], after[number], where)
        return found
    if before == after:
        return []
    return [Change(path or "(the whole config)", "changed", _shown(before), _shown(after))]


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else jsonutil.dumps(value).decode()
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 1] + "…"
