"""A real Milvus 2.3.5 standalone server (the PyPI ``milvus`` wheel) on loopback ports, for the smoke test.

Not a fake: the wheel's own ``milvus run standalone`` binary with embedded etcd and local storage, started in a data
folder of the test's own. What this wrapper adds to ``milvus.MilvusServer``:

- every port on 127.0.0.1 is one the kernel just handed out (``bind(0)``), fixed for this object's life, so a busy
  19530 (another test, another helper, a developer's Milvus) neither blocks it nor is talked to by mistake, and a
  restart listens where the client already points;
- a stop that waits for the server to shut down cleanly (SIGTERM, then up to ``STOP_GRACE`` seconds) before killing
  it: the wheel's own ``stop`` kills after one second, which leaves the old components' sessions in etcd, and a
  restart on that data then fails ("QueryCoord unimplemented", shared/docs/scale-out.md);
- ``start`` waits for the health endpoint *and* for a client call to succeed, up to a generous timeout (start-up
  took 6-53 s on two busy cores), and on failure stops the process and raises ``ServerUnavailable`` with the tail
  of the server's log, so a fixture can skip saying why.

Use it as a context manager, or ``start``/``stop`` (a restart is ``stop(); start()`` on the same folder)::

    with MilvusServer(tmp_path / "milvus") as server:
        client = pymilvus.MilvusClient(server.uri)
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

START_TIMEOUT = 240.0  # seconds; start-up took 6-53 s on two busy cores, a first run also unpacks ~200 MB
GRACEFUL_STOP = 10  # seconds the server itself allows its components to stop before it quits anyway
STOP_GRACE = 30.0  # seconds a clean shutdown may take before the process is killed
# Every listening port of the wheel's config template (milvus/data/config.yaml.template), given explicitly.
PORT_KEYS = (
    "etcd_port",
    "root_coord_port",
    "proxy_port",
    "proxy_internal_port",
    "query_coord_port",
    "query_node_port",
    "index_coord_port",
    "index_node_port",
    "data_coord_port",
    "data_node_port",
)


class ServerUnavailable(RuntimeError):
    """The server could not be started on this machine (the message says why)."""


def free_ports(n: int) -> list[int]:
    """``n`` distinct loopback ports that were free a moment ago (all held open together while choosing)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _try_bind(port: int) -> socket.socket | None:
    """A socket listening on 127.0.0.1:``port`` (SO_REUSEADDR), or None when the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        return sock
    except OSError:
        sock.close()
        return None


def _milvus_module() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the wheel's dependencies import pkg_resources, which warns
        import milvus

    return milvus


class MilvusServer:
    """One standalone Milvus server with its data under ``base_dir``, on ports of its own."""

    def __init__(self, base_dir: Path) -> None:
        milvus = _milvus_module()
        self.base_dir = Path(base_dir)
        *ports, self.health_port = free_ports(len(PORT_KEYS) + 1)
        self.ports = dict(zip(PORT_KEYS, ports, strict=True))
        config = milvus.MilvusServerConfig(**self.ports)
        # The wheel checks each port by binding it first, without SO_REUSEADDR (and leaks the socket when that
        # fails): right after a stop, a port with connections in TIME_WAIT fails its check though the server, which
        # binds with SO_REUSEADDR, could listen there. The same check, as the server binds.
        config.try_bind_port = _try_bind
        self._server = milvus.MilvusServer(config, wait_for_started=False)
        self._server.set_base_dir(str(self.base_dir))
        # Milvus waits up to 30 minutes for a graceful stop by default; a test's server has nothing to finish.
        self._server.config.set("common.gracefulStopTimeout", GRACEFUL_STOP)
        self.version = str(milvus.__version__)

    @property
    def port(self) -> int:
        """The gRPC port clients connect to."""
        return self.ports["proxy_port"]

    @property
    def uri(self) -> str:
        """What ``QABOT_MILVUS_URI`` (and ``pymilvus.MilvusClient``) take."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        proc = self._server.server_proc
        return proc is not None and proc.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of the server's stdout log (where it says why it stopped)."""
        path = self.base_dir / "logs" / "milvus-stdout.log"
        try:
            return "\n".join(path.read_text("utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the server and wait until a client is served; ``ServerUnavailable`` (and no process left) if not."""
        self._server.webservice_port = self.health_port  # the wheel looks for a free port from here up
        try:
            self._server.start()
            self.health_port = self._server.webservice_port
            self._wait_ready(time.monotonic() + timeout)
        except Exception as err:
            tail = self.log_tail()
            self.stop()
            if isinstance(err, ServerUnavailable):
                raise
            raise ServerUnavailable(f"Milvus {self.version} did not start: {err}\n{tail}") from err

    def _wait_ready(self, deadline: float) -> None:
        health = f"http://127.0.0.1:{self.health_port}/healthz"
        last = "no answer yet"
        while time.monotonic() < deadline:
            if not self.running:
                raise ServerUnavailable(f"Milvus {self.version} exited during start-up:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(health, timeout=5) as resp:
                    healthy = b"OK" in resp.read()
                if healthy and self._client_answers():
                    return
                last = "healthz not OK yet"
            except OSError as err:
                last = str(err)
            time.sleep(0.5)
        raise ServerUnavailable(f"Milvus {self.version} not ready after {START_TIMEOUT:.0f} s ({last})")

    def _client_answers(self) -> bool:
        # A connection of its own: MilvusClients of one URI share theirs, and closing a MilvusClient here would
        # close the one the code under test holds.
        from pymilvus import connections, utility

        alias = f"readiness-{id(self)}"
        try:
            connections.connect(alias=alias, uri=self.uri, timeout=10)
            utility.list_collections(using=alias)
            return True
        except Exception:  # the proxy is up before the coordinators: keep waiting
            return False
        finally:
            connections.disconnect(alias)

    def stop(self) -> None:
        """Stop the server cleanly (SIGTERM, then SIGKILL after ``STOP_GRACE`` seconds); a no-op when stopped."""
        proc: subprocess.Popen[bytes] | None = self._server.server_proc
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=STOP_GRACE)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
            self._server.server_proc = None
        self._server.stop()  # closes its log files; the process is gone already

    def __enter__(self) -> MilvusServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
