"""`python -m sf_emulator --port 8443 [--seed demo|empty] [--db PATH]`"""
from __future__ import annotations

import argparse
from pathlib import Path

from .metadata import METADATA_DIR
from .runner import EmulatorServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sf_emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--pubsub-port", type=int, default=0, help="Pub/Sub API (gRPC) port (default: a free one)")
    parser.add_argument("--seed", choices=["demo", "empty"], default="demo",
                        help="org to create when the store is empty (default: demo)")
    parser.add_argument("--db", help="SQLite file to keep the org in across restarts (default: memory)")
    parser.add_argument("--state-dir", help="where the CA, server certificate and demo JWT key are written")
    parser.add_argument("--api-limit", type=int, default=15000, help="daily API request limit")
    parser.add_argument("--session-ttl", type=float, default=7200, help="session lifetime in seconds")
    parser.add_argument("--metadata", default=str(METADATA_DIR),
                        help="SFDX source folder deployed to the org (default: the project's salesforce/)")
    args = parser.parse_args(argv)
    server = EmulatorServer(seed_kind=args.seed, db_path=args.db, host=args.host, port=args.port,
                            api_limit=args.api_limit, session_ttl=args.session_ttl, state_dir=args.state_dir,
                            pubsub_port=args.pubsub_port, metadata=Path(args.metadata))
    print(f"sf_emulator listening on {server.emulator.base_url}", flush=True)
    print(f"CA certificate: {server.emulator.ca_path}", flush=True)
    print(f"Pub/Sub API (gRPC): {server.emulator.pubsub_address}", flush=True)
    print(f"Connected app and demo credentials: {server.state_dir / 'connected-app.json'}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
