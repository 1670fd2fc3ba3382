"""Starting the emulator: on a free port in a background thread for tests, or in the foreground for
`python -m sf_emulator`. HTTPS with a CA made at start-up; clients verify with `emu.ca_path`."""
from __future__ import annotations

import json
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from .app import build_app
from .emulator import Emulator
from .metadata import METADATA_DIR
from .org import Org
from .pubsub import KEEPALIVE_S, PubSubServer
from .seed import CONSUMER_KEY, CONSUMER_SECRET, DEMO_PASSWORD, DEMO_SECURITY_TOKEN, DOMAIN, grant_access, seed
from .store import RecordStore
from .tls import make_signing_identity, make_tls_files


class EmulatorServer:
    def __init__(self, *, seed_kind: str = "empty", db_path: str | None = None, host: str = "127.0.0.1",
                 port: int = 0, api_limit: int = 15000, session_ttl: float = 7200, state_dir: str | None = None,
                 fault_seed: int = 0, pubsub_port: int = 0, pubsub_keepalive_s: float = KEEPALIVE_S,
                 metadata: Path | None = METADATA_DIR):
        self._own_state_dir = state_dir is None
        self.state_dir = Path(state_dir or tempfile.mkdtemp(prefix="sf_emulator-"))
        org = Org(RecordStore(db_path), api_limit=api_limit, session_ttl=session_ttl, metadata=metadata)
        if org.store.is_empty:
            seed(org, seed_kind)
        elif org.store.meta("assignments") is None:
            grant_access(org)
        self.tls = make_tls_files(self.state_dir)
        # proto=IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections; without it every response
        # waits ~40 ms for a delayed ACK (uvicorn writes headers and body separately).
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.socket.bind((host, port))
        base_url = f"https://{host}:{self.socket.getsockname()[1]}"
        self.emulator = Emulator(org, base_url=base_url, ca_path=self.tls.ca_path)
        self.emulator.faults.reseed(fault_seed)
        self.pubsub = PubSubServer(self.emulator, cert_pem=self.tls.cert_path.read_bytes(),
                                   key_pem=self.tls.key_path.read_bytes(), host=host, port=pubsub_port,
                                   keepalive_s=pubsub_keepalive_s)
        self.emulator.pubsub, self.emulator.pubsub_address = self.pubsub, self.pubsub.address
        self._register_demo_jwt_key()
        config = uvicorn.Config(build_app(self.emulator), ssl_keyfile=str(self.tls.key_path),
                                ssl_certfile=str(self.tls.cert_path), lifespan="off", access_log=False,
                                log_level="warning", timeout_keep_alive=30, timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def _register_demo_jwt_key(self) -> None:
        """The demo connected app gets a fresh certificate; its private key is written next to the CA."""
        key_pem, cert_pem = make_signing_identity("response-desk-demo")
        key_path = self.state_dir / "jwt-demo-key.pem"
        key_path.write_bytes(key_pem)
        key_path.chmod(0o600)
        org = self.emulator.org
        if org.connected_app(CONSUMER_KEY):
            org.update_connected_app(CONSUMER_KEY, certificate_pem=cert_pem.decode())
        self.emulator.jwt_private_key_path = key_path
        (self.state_dir / "connected-app.json").write_text(json.dumps({
            "login_url": self.emulator.base_url, "consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET,
            "jwt_private_key_path": str(key_path), "integration_username": f"integration@{DOMAIN}",
            "password": DEMO_PASSWORD, "security_token": DEMO_SECURITY_TOKEN, "ca_path": str(self.tls.ca_path),
            "pubsub_address": self.emulator.pubsub_address,
        }, indent=2))

    def start(self, timeout: float = 15.0) -> Emulator:
        self.pubsub.start()
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                        name="sf-emulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("sf_emulator did not start")
            time.sleep(0.01)
        return self.emulator

    def serve_forever(self) -> None:
        self.pubsub.start()
        self.server.run(sockets=[self.socket])

    def stop(self) -> None:
        # Idle keep-alive TLS connections would hold a graceful shutdown until the client hangs up.
        self.server.should_exit = self.server.force_exit = True
        if self._thread:
            self._thread.join(timeout=10)
        self.pubsub.stop()
        self.socket.close()
        self.emulator.org.store.close()
        if self._own_state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)


@contextmanager
def run_emulator(seed: str = "empty", *, db_path: str | None = None, api_limit: int = 15000,
                 session_ttl: float = 7200, fault_seed: int = 0, state_dir: str | None = None,
                 pubsub_keepalive_s: float = KEEPALIVE_S) -> Iterator[Emulator]:
    """`with run_emulator(seed="empty") as emu:` serves HTTPS and the Pub/Sub API on free ports until the
    block ends."""
    server = EmulatorServer(seed_kind=seed, db_path=db_path, api_limit=api_limit, session_ttl=session_ttl,
                            fault_seed=fault_seed, state_dir=state_dir, pubsub_keepalive_s=pubsub_keepalive_s)
    emulator = server.start()
    try:
        yield emulator
    finally:
        server.stop()
