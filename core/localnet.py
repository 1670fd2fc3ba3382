"""Loopback helpers shared by the launcher, the benchmarks and the tests: a free port, and waiting
until a local server answers."""
from __future__ import annotations

import socket
import time

import requests


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment of asking."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, *, timeout: float = 60.0, verify: bool | str = True) -> requests.Response:
    """The first answer from `url`, whatever its status; RuntimeError if none comes within `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=2, verify=verify)
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up within {timeout:.0f} s") from None
            time.sleep(0.3)
