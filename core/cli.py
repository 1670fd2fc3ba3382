"""`python -m core ...`: the operator's command line. DATABASE_URL selects the database."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.domain.roles import Actor, Role

# The command line is run by whoever holds the server; read-only commands act as auditor.
CLI_AUDITOR = Actor(id="cli:operator", role=Role.AUDITOR)


def _cmd_migrate(args) -> int:
    from core.bootstrap import migrate

    migrate()
    print("database is at the latest schema revision")
    return 0


def _cmd_audit_verify(args) -> int:
    from core.services import audit

    if args.file:
        from core.settings import get_settings

        key = get_settings().audit_key if args.with_key else None
        report = audit.verify_export(Path(args.file), key=key)
    else:
        from core.bootstrap import get_app

        app = get_app()
        report = audit.verify_chain(app.db, actor=CLI_AUDITOR, key=app.settings.audit_key)
    if report.ok:
        sealed = "hashes, links and seals" if report.sealed else "hashes and links (no key: seals not checked)"
        print(f"audit chain intact: {report.count} events, head {report.head_hash} ({sealed})")
        return 0
    print(f"audit chain BROKEN at sequence {report.first_broken_seq}: {report.problem}")
    return 1


def _cmd_audit_export(args) -> int:
    from core.bootstrap import get_app
    from core.services import audit

    app = get_app()
    out = Path(args.out)
    with out.open("w", encoding="utf-8") as fh:
        report = audit.export_jsonl(app.db, actor=CLI_AUDITOR, out=fh)
    print(f"exported {report.count} events to {out} (head {report.head_hash})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Response Desk command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_cmd_migrate)

    audit = sub.add_parser("audit", help="verify or export the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check the hash chain; exit 1 if broken")
    verify.add_argument("--file", help="verify an export (JSON Lines) instead of the database")
    verify.add_argument("--with-key", action="store_true",
                        help="with --file: also check seals with this installation's audit key")
    verify.set_defaults(func=_cmd_audit_verify)
    export = audit_sub.add_parser("export", help="write the trail as JSON Lines")
    export.add_argument("--out", required=True, help="file to write")
    export.set_defaults(func=_cmd_audit_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
