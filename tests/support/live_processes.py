"""Real `history-gateway` processes for load and lifecycle tests: start, wait, inspect, stop.

Each process gets a free port of 127.0.0.1, an environment holding only the settings given (any
gateway setting inherited from the caller's environment is removed), and a log file whose tail
goes into every failure message. Stopping is idempotent and always ends with a kill.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.config import Settings

_STOP_SECONDS = 10.0


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_executable() -> str:
    """The `history-gateway` console script of the running interpreter's environment."""
    beside = Path(sys.executable).parent / "history-gateway"
    if beside.exists():
        return str(beside)
    found = shutil.which("history-gateway")
    if found is None:
        raise RuntimeError("the history-gateway command is not installed")
    return found


def clean_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment minus every gateway setting, plus SETTINGS."""
    names = {name.upper() for name in Settings.model_fields}
    inherited = {key: value for key, value in os.environ.items() if key.upper() not in names}
    return inherited | dict(settings)


@dataclass
class LiveProcess:
    """A started process, its base URL and its log."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def describe(self) -> str:
        return f"{self.name} (pid {self.pid}, exit {self.process.poll()}):\n{self.log_tail()}"

    def open_fds(self) -> int:
        """How many file descriptors the process holds open now (Linux /proc)."""
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def fds_by_peer(self, peers: Mapping[str, int]) -> Counter[str]:
        """The process's open fds by kind: "served" (TCP sockets on its own port, the listening
        one included), each name of PEERS (TCP sockets connected to that port) and "other"."""
        own_port = int(self.url.rsplit(":", 1)[1])
        names = {port: name for name, port in peers.items()}
        ports = _tcp_ports_by_inode(self.pid)
        kinds: Counter[str] = Counter()
        for fd in os.listdir(f"/proc/{self.pid}/fd"):
            try:
                target = os.readlink(f"/proc/{self.pid}/fd/{fd}")
            except OSError:  # closed meanwhile
                continue
            local, remote = ports.get(target, (None, None))
            if local == own_port:
                kinds["served"] += 1
            elif remote in names:
                kinds[names[remote]] += 1
            else:
                kinds["other"] += 1
        return kinds

    async def wait_ready(self, path: str, seconds: float) -> None:
        """Poll GET PATH until it answers 200; fail with the log if it dies or SECONDS pass."""
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(base_url=self.url, timeout=1.0) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited during start-up: {self.describe()}")
                try:
                    if (await client.get(path)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} not ready in {seconds} s: {self.describe()}")
                await asyncio.sleep(0.05)

    async def wait_exit(self, seconds: float) -> int | None:
        """The exit status once the process ends within SECONDS, else None."""
        deadline = time.monotonic() + seconds
        while True:
            status = self.process.poll()
            if status is not None or time.monotonic() > deadline:
                return status
            await asyncio.sleep(0.02)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers; safe to call on an ended process."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=_STOP_SECONDS)


def _tcp_ports_by_inode(pid: int) -> dict[str, tuple[int, int]]:
    """(local port, remote port) of the TCP sockets in PID's network namespace, keyed as the
    fd links name them ("socket:[inode]")."""
    ports: dict[str, tuple[int, int]] = {}
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            ports[f"socket:[{inode}]"] = (
                int(local.rsplit(":", 1)[1], 16),
                int(remote.rsplit(":", 1)[1], 16),
            )
    return ports


@contextmanager
def live_process(
    name: str, arguments: Sequence[str], *, port: int, env: Mapping[str, str], log_dir: Path
) -> Iterator[LiveProcess]:
    """Run `history-gateway ARGUMENTS` until the block ends (stopped even when it fails)."""
    log_path = log_dir / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [cli_executable(), *arguments],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=clean_environment(env),
        )
    live = LiveProcess(name, process, f"http://127.0.0.1:{port}", log_path)
    try:
        yield live
    finally:
        live.stop()
