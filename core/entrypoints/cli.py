"""`python -m core ...`: the operator's command line. DATABASE_URL selects the database."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.domain.roles import Actor, Role

# The command line is run by whoever holds the server; read-only commands act as auditor.
CLI_AUDITOR = Actor.console("operator", Role.AUDITOR)


def _cmd_migrate(args) -> int:
    from core.bootstrap import migrate

    migrate()
    print("database is at the latest schema revision")
    return 0


def _cmd_audit_verify(args) -> int:
    from core.commands import audit

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
    from core.adapters.files import open_private
    from core.bootstrap import get_app
    from core.commands import audit

    app = get_app()
    out = Path(args.out)
    with open_private(out, "w", encoding="utf-8") as fh:
        report = audit.export_jsonl(app.uow(), actor=CLI_AUDITOR, out=fh)
    print(f"exported {report.count} events to {out} (head {report.head_hash})")
    return 0


def _scan_targets(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        else:
            files.append(path)
    return files


def _scan_setup(explanations: Path):
    """The installation's scan policy (the admin's detector choices and the hash banks) when its
    database is usable (DATABASE_URL or the embedded default), else the defaults and an empty bank."""
    from core.verification.hashbank import MemoryHashBank
    from core.verification.setup import engine_config

    try:
        from core.bootstrap import get_app

        policy = get_app().scan_policy
        config, bank = policy.engine_config(explanations), policy.rules().bank
        print(f"hash bank: {len(bank)} entries from the database; detectors as the admin set them",
              file=sys.stderr)
        return config, bank
    except Exception as exc:  # no database yet, or unreachable: a scan still runs
        print(f"no usable database ({type(exc).__name__}): scanning against an empty hash bank",
              file=sys.stderr)
        return engine_config(explanations_dir=explanations), MemoryHashBank()


def _cmd_scan(args) -> int:
    import dataclasses
    import json

    from core.domain.lifecycle import Risk
    from core.domain.scan import outcome_report
    from core.verification.engine import Engine

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    files = _scan_targets(args.paths)
    config, bank = _scan_setup(Path(args.explanations))
    if args.trust_anchors:
        config = dataclasses.replace(config, trust_anchors_path=Path(args.trust_anchors))
    results = []
    show_progress = not args.json and len(files) >= 10 and sys.stderr.isatty()
    with Engine(config, bank) as engine:
        for n, path in enumerate(files, start=1):
            if show_progress:
                done = int(30 * n / len(files))
                print(f"\r[{'#' * done}{'.' * (30 - done)}] {n}/{len(files)}", end="", file=sys.stderr)
            outcome = engine.scan_file(path)  # never raises for a bad file: it comes back unscannable
            results.append((path, outcome))
    if show_progress:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps([outcome_report(str(path), o) for path, o in results], indent=2, default=str))
    else:
        width = max([len(str(p)) for p, _ in results] + [4])
        print(f"{'RISK':<12} {'FILE':<{width}}  REASON")
        for path, o in results:
            print(f"{o.risk.value:<12} {str(path):<{width}}  {o.unscannable_reason or (o.reasons or ('',))[0]}")
    flagged = sum(1 for _, o in results if Risk(o.risk) in (Risk.HIGH, Risk.UNSCANNABLE))
    if not args.json:
        print(f"{len(results)} files, {flagged} high or unscannable")
    return 1 if flagged else 0


def _cmd_users_add(args) -> int:
    import getpass

    from core.bootstrap import get_app
    from core.commands.auth import hash_password
    from core.commands.users import create_user
    from core.domain.roles import Role

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("the passwords differ", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        user_id = create_user(get_app().uow(), actor=Actor.system("cli"), email=args.email, role=Role(args.role),
                              password_hash=hash_password(password))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"user {user_id} {args.email} ({args.role}) created")
    return 0


def _console_admin() -> Actor:
    """Whoever holds a shell on the server can change the database anyway: at the console they act
    as an admin, and the trail names their operating-system account."""
    import getpass

    return Actor.console(getpass.getuser(), Role.ADMIN)


def _cmd_users_change(args) -> int:
    from core.bootstrap import get_app
    from core.commands import users
    from core.domain.errors import DomainError

    uow, actor = get_app().uow(), _console_admin()
    try:
        if args.users_command == "set-role":
            users.set_role(uow, actor=actor, email=args.email, role=Role(args.role), reason=args.reason)
        elif args.users_command == "unlock":
            users.unlock(uow, actor=actor, email=args.email, reason=args.reason)
        else:
            users.set_active(uow, actor=actor, email=args.email, active=args.users_command == "activate",
                             reason=args.reason)
    except (DomainError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"{args.email}: {args.users_command} done (recorded as {actor.id})")
    return 0


def _cmd_users_list(args) -> int:
    from core.bootstrap import get_app
    from core.commands.users import people

    for p in people(get_app().db):
        state = "active" if p["active"] else "deactivated"
        locked = f", locked until {p['locked_until']:%Y-%m-%d %H:%M} UTC" if p["locked_until"] else ""
        print(f"{p['email']:40s} {p['role']:16s} {p['sign_in']:15s} {state}{locked}")
    return 0


def _cmd_run(args) -> int:
    from core.entrypoints.launcher import run

    return run(port=args.port, traffic=not args.no_traffic, demo=args.demo)


def _cmd_worker(args) -> int:
    import dataclasses
    import logging

    from core.bootstrap import get_app
    from core.entrypoints.worker import Worker, WorkerOptions

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = get_app()
    ingest = app.settings.ingest
    if args.poll_interval:
        ingest = dataclasses.replace(ingest, poll_fast_s=args.poll_interval)
    options = WorkerOptions(metrics_port=args.metrics_port or None, ingest=ingest, lease_s=args.lease_seconds)
    if args.name:
        options.name = args.name
    if args.scan_threads:
        options.scan_threads = args.scan_threads
    from core.commands.users import sync_demo_accounts

    sync_demo_accounts(app.db, app.uow, demo_mode=app.settings.demo_mode)
    Worker(app, options).run_forever()
    return 0


def _cmd_serve(args) -> int:
    import uvicorn

    from core.settings import get_settings

    uvicorn.run("core.entrypoints.api:create_app", factory=True, host=args.host or get_settings().bind_address,
                port=args.port, workers=args.workers,
                log_level="warning", limit_concurrency=64, timeout_keep_alive=15)
    return 0


def _cmd_salesforce_check(args) -> int:
    from core.adapters.salesforce.check import run_check
    from core.settings import get_settings

    cfg = get_settings().salesforce
    if cfg is None:
        print("no Salesforce org is configured: set [salesforce] in the secrets file or the SF_* variables")
        return 1
    report = run_check(cfg)
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


def _cmd_apikeys_create(args) -> int:
    from core.bootstrap import get_app
    from core.commands.apikeys import create_api_key

    key_id, key = create_api_key(get_app().uow(), actor=Actor.system("cli"), name=args.name,
                                 rate_per_minute=args.rate)
    print(f"API key {key_id} for {args.name!r} (shown once, store it in a secret manager):\n{key}")
    return 0


def _cmd_evidence_export(args) -> int:
    from core.adapters.files import write_private
    from core.bootstrap import get_app
    from core.commands import evidence

    data = evidence.build_pack(get_app().uow(), actor=CLI_AUDITOR, incident_id=args.incident)
    write_private(args.out, data)
    print(f"evidence pack for incident {args.incident} written to {args.out} ({len(data)} bytes)")
    return 0


def _cmd_evidence_verify(args) -> int:
    from core.commands import evidence

    key = None
    if not args.no_key:
        from core.settings import get_settings

        key = get_settings().audit_key
    report = evidence.verify_pack(Path(args.pack), key=key)
    if report.ok:
        checked = "contents, audit chain and seals" if report.sealed else \
            "contents and audit chain (no key: seals not checked)"
        print(f"evidence pack intact: {report.files} files, {checked}; manifest SHA-256 {report.manifest_sha256}")
        return 0
    print(f"evidence pack FAILED verification ({len(report.problems)} problem(s)):")
    for problem in report.problems:
        print(f"  {problem}")
    return 1


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

    scan = sub.add_parser("scan", help="verify files and folders; exit 1 if any is high or unscannable")
    scan.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (walked recursively)")
    scan.add_argument("--json", action="store_true", help="print one JSON array, an object per file")
    scan.add_argument("--trust-anchors", help="PEM file of C2PA trust anchors (default data/c2pa/trust_anchors.pem)")
    scan.add_argument("--explanations", default="explanations",
                      help="folder for model explanation overlays of flagged files (default ./explanations)")
    scan.set_defaults(func=_cmd_scan)

    users = sub.add_parser("users", help="manage local accounts")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="create a local account (password prompted, or one line on stdin)")
    add.add_argument("email")
    add.add_argument("--role", required=True, choices=[r.value for r in Role if r is not Role.SYSTEM])
    add.set_defaults(func=_cmd_users_add)
    users_sub.add_parser("list", help="every account, its role, sign-in method and state").set_defaults(
        func=_cmd_users_list)
    for name, help_text in (("set-role", "change an account's role"),
                            ("unlock", "lift a lockout after failed sign-ins (e.g. the only admin)"),
                            ("deactivate", "refuse sign-ins and end open sessions at their next action"),
                            ("activate", "allow a deactivated account again")):
        change = users_sub.add_parser(name, help=help_text)
        change.add_argument("email")
        if name == "set-role":
            change.add_argument("--role", required=True, choices=[r.value for r in Role if r is not Role.SYSTEM])
        change.add_argument("--reason", required=True, help="recorded in the audit trail")
        change.set_defaults(func=_cmd_users_change)

    run = sub.add_parser("run", help="start the whole product (the demo org in demo mode)")
    run.add_argument("--port", type=int, default=8501, help="dashboard port")
    run.add_argument("--demo", choices=("on", "off", "auto"), default="off",
                     help="run the local demo org: on, off (unless RD_DEMO=true), or auto: when no org is "
                          "configured (what `make run` passes)")
    run.add_argument("--no-traffic", action="store_true", help="demo org without live uploads")
    run.set_defaults(func=_cmd_run)

    worker = sub.add_parser("worker", help="run the ingest, scan and relay loops until SIGTERM or Ctrl-C")
    worker.add_argument("--name", help="worker name in heartbeats and leases (default host-pid)")
    worker.add_argument("--scan-threads", type=int, help="scanners (default: one per core)")
    worker.add_argument("--poll-interval", type=float, default=None,
                        help="seconds between reconciliation polls while busy (default: [ingest] poll_fast_s, 5)")
    worker.add_argument("--metrics-port", type=int, default=9464, help="Prometheus /metrics port (0: none)")
    worker.add_argument("--lease-seconds", type=float, default=300.0,
                        help="scan and outbox lease; a stopped worker's work is taken over after it")
    worker.set_defaults(func=_cmd_worker)

    serve = sub.add_parser("serve", help="run the verification API (OpenAPI docs at /docs)")
    serve.add_argument("--host", help="address to listen on (default: RD_BIND_ADDRESS, else 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8600)
    serve.add_argument("--workers", type=int, default=1, help="server processes")
    serve.set_defaults(func=_cmd_serve)

    salesforce = sub.add_parser("salesforce", help="the connected Salesforce org")
    salesforce_sub = salesforce.add_subparsers(dest="salesforce_command", required=True)
    salesforce_sub.add_parser("check", help="prove the integration user can do everything Response Desk does, on a "
                                            "throwaway file; exit 1 naming what is missing").set_defaults(
        func=_cmd_salesforce_check)

    keys = sub.add_parser("apikeys", help="manage verification API keys")
    keys_sub = keys.add_subparsers(dest="apikeys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key and print it once")
    create.add_argument("name", help="who uses the key, e.g. 'Salesforce production org'")
    create.add_argument("--rate", type=int, default=120, help="requests a minute")
    create.set_defaults(func=_cmd_apikeys_create)

    evidence = sub.add_parser("evidence", help="export or verify an incident's evidence pack")
    evidence_sub = evidence.add_subparsers(dest="evidence_command", required=True)
    pack_export = evidence_sub.add_parser("export", help="write an incident's evidence pack (zip)")
    pack_export.add_argument("--incident", type=int, required=True, help="incident id")
    pack_export.add_argument("--out", required=True, help="zip file to write")
    pack_export.set_defaults(func=_cmd_evidence_export)
    pack_verify = evidence_sub.add_parser("verify", help="check a pack; exit 1 naming what was altered")
    pack_verify.add_argument("pack", metavar="PACK.zip")
    pack_verify.add_argument("--no-key", action="store_true",
                             help="check contents and chain only, without this installation's audit key "
                                  "(for a pack from another installation)")
    pack_verify.set_defaults(func=_cmd_evidence_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
