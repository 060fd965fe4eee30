"""`hongfan serve` in a process of its own, for tests that need a real server (gunicorn)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 5) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@dataclass
class Server:
    process: subprocess.Popen
    base: str
    port: int
    log: IO[str]

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


def start(tmp_path: Path, env: dict[str, str], *args: str, timeout: float = 90) -> Server:
    """Start `python -m learning serve` on a free port with `env` (HONGFAN_* settings) and wait
    until /healthz answers 200."""
    port = free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith(("HONGFAN_", "FLASK_"))}
    full.update(PYTHONPATH=str(ROOT), **env)
    log = (tmp_path / f"serve-{port}.log").open("w+")
    process = subprocess.Popen([sys.executable, "-m", "learning", "serve", "--bind", f"127.0.0.1:{port}", *args],
                               env=full, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(process, f"http://127.0.0.1:{port}", port, log)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if get(f"{server.base}/healthz", timeout=2)[0] == 200:
                return server
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            text = server.output()
            server.stop()
            raise RuntimeError(f"hongfan serve did not come up:\n{text[-3000:]}")
        time.sleep(0.3)
