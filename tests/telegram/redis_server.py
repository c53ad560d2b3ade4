"""A real Redis for a test: Debian's ``redis-server`` on a free loopback port, nothing saved, stopped afterwards.

Where ``redis-server`` is not installed, or does not start, the test is skipped and says why (``.ci/run`` installs
it, so CI never skips).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

START_WITHIN = 20.0  # seconds: a loaded two-core box starts it in well under one


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers_ping(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith((b"+PONG", b"-NOAUTH"))  # up, with or without a password
    return False


@contextlib.contextmanager
def redis_server(folder: Path, *, password: str | None = None) -> Iterator[str]:
    """``redis://127.0.0.1:<port>/0`` of a fresh server working in ``folder`` (with ``password``: requirepass)."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server); needed for a real Redis")
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    args += ["--daemonize", "no", "--dir", str(folder)] + (["--requirepass", password] if password else [])
    log = folder / "redis.log"
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_WITHIN
        while not _answers_ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text("utf-8", "replace").strip().splitlines()[-3:]
                pytest.skip(f"redis-server did not start on 127.0.0.1:{port}: {' | '.join(tail) or 'no output'}")
            time.sleep(0.02)
        auth = f":{password}@" if password else ""
        yield f"redis://{auth}127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
