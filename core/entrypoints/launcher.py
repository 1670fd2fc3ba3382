"""`python -m core run`: the whole product on one machine.

In demo mode (RD_DEMO=true, or `--demo auto` as `make run` passes when no org is configured) it
starts the demo: the local emulator seeded with a demo org, live upload traffic, the worker and the
dashboard, all on this machine only. With an org configured it starts the worker and the dashboard
against it. Ctrl-C stops everything."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from core.bootstrap import migrate
from core.localnet import wait_until_up
from core.settings import PROJECT_ROOT, SettingsError, get_settings, is_loopback

log = logging.getLogger("responsedesk.run")


def _start(name: str, args: list[str], env: dict) -> subprocess.Popen:
    log.info("starting %s", name)
    return subprocess.Popen([sys.executable, *args], cwd=PROJECT_ROOT, env=env, start_new_session=True)


def _demo_org(env: dict, var: Path, port: int) -> tuple[subprocess.Popen, dict]:
    state = var / "sf-emulator"
    connected = state / "connected-app.json"
    connected.unlink(missing_ok=True)  # the emulator writes a fresh one (new demo JWT key) at start
    proc = _start("demo Salesforce org (emulator)", [
        "-m", "sf_emulator", "--port", str(port), "--seed", "demo", "--db", str(var / "sf-emulator.db"),
        "--state-dir", str(state), "--api-limit", "100000"], env)
    deadline = time.monotonic() + 60
    while not connected.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the demo org did not start")
        time.sleep(0.2)
    time.sleep(0.2)  # let the writer finish the file
    app = json.loads(connected.read_text())
    wait_until_up(f"{app['login_url']}/__emulator/health", verify=app["ca_path"])
    env.update({"SF_LOGIN_URL": app["login_url"], "SF_AUTH": "jwt", "SF_CLIENT_ID": app["consumer_key"],
                "SF_USERNAME": app["integration_username"], "SF_PRIVATE_KEY_FILE": app["jwt_private_key_path"],
                "SF_CA_BUNDLE": app["ca_path"], "SF_PUBSUB_ADDRESS": app["pubsub_address"], "RD_DEMO": "true"})
    return proc, app


def _demo_records(app: dict) -> list[dict]:
    """The demo org's KYC checks, with the customer each names, as ingest would read their links:
    where the demo's uploads land and its history's files were attached."""
    http = requests.Session()
    http.verify, http.trust_env = app["ca_path"], False
    token = http.post(f"{app['login_url']}/services/oauth2/token", timeout=30, data={
        "grant_type": "client_credentials", "client_id": app["consumer_key"],
        "client_secret": app["consumer_secret"]}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    query = "SELECT Id, Name, Account__c, Account__r.Name, Contact__c, Contact__r.Name FROM KYC_Check__c"
    rows = http.get(f"{token['instance_url']}/services/data/v62.0/query", params={"q": query},
                    headers=headers, timeout=30).json()["records"]
    return [{"entity_id": r["Id"], "entity_type": "KYC_Check__c", "entity_name": r["Name"],
             "account_id": r["Account__c"], "account_name": (r.get("Account__r") or {}).get("Name"),
             "contact_id": r["Contact__c"], "contact_name": (r.get("Contact__r") or {}).get("Name")} for r in rows]


def _history(settings, records: list[dict]) -> None:
    """Ninety days of the demo org's past, written once per database (core/demo/history.py)."""
    from core.bootstrap import build
    from core.demo.history import seed_history

    app = build(settings)
    try:
        log.info("writing the demo org's history (first run only)")
        seed_history(app, records=records)
    finally:
        app.db.dispose()


def _traffic(app: dict, records: list[dict], stop: threading.Event) -> threading.Thread:
    from core.demo.traffic import Traffic

    domain = app["integration_username"].split("@", 1)[1]
    traffic = Traffic(app["login_url"], app["ca_path"], [r["entity_id"] for r in records], domain)
    thread = threading.Thread(target=traffic.run, args=(stop,), name="demo-traffic", daemon=True)
    thread.start()
    return thread


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _settings(demo: str):
    """The settings to run with. `demo`: on, off, or auto (on when no org is configured)."""
    settings = get_settings()
    if demo == "on" or (demo == "auto" and settings.salesforce is None):
        os.environ["RD_DEMO"] = "true"  # the children read it too
        get_settings.cache_clear()
        settings = get_settings()  # checked again: demo mode refuses single sign-on and open addresses
    if settings.demo_mode and settings.salesforce is not None:
        raise SettingsError("demo mode runs the local demo org, but a Salesforce org is configured: unset "
                            "RD_DEMO to run against that org")
    if not settings.demo_mode and settings.salesforce is None:
        raise SettingsError("no Salesforce org is configured: configure one ([salesforce] in "
                            ".streamlit/secrets.toml, or SF_* variables), or run the demo org with RD_DEMO=true "
                            "(`make run` does when no org is configured)")
    return settings


def run(port: int = 8501, emulator_port: int = 8443, metrics_port: int = 9464, traffic: bool = True,
        demo: str = "off") -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    # SIGTERM (a service manager, `timeout`) stops everything as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        settings = _settings(demo)
    except SettingsError as refused:
        print(f"Response Desk cannot start: {refused}", file=sys.stderr)
        return 2
    migrate()
    env = dict(os.environ)
    procs: list[subprocess.Popen] = []
    stop = threading.Event()
    try:
        if settings.demo_mode:
            emulator, app = _demo_org(env, settings.var_dir, emulator_port)
            procs.append(emulator)
            records = _demo_records(app)
            _history(settings, records)
            if traffic:
                _traffic(app, records, stop)
        procs.append(_start("worker", ["-m", "core", "worker", "--metrics-port", str(metrics_port)], env))
        secrets_file = ["--secrets.files", env["RD_SECRETS_FILE"]] if env.get("RD_SECRETS_FILE") else []
        address = settings.bind_address
        procs.append(_start("dashboard", ["-m", "streamlit", "run", "dashboard.py", "--server.port", str(port),
                                          "--server.address", address, "--server.headless", "true",
                                          *secrets_file], env))
        host = "localhost" if is_loopback(address) else address
        wait_until_up(f"http://{host}:{port}/_stcore/health")
        mode = "the demo org (local emulator)" if settings.demo_mode else settings.salesforce.login_url
        print(f"\nResponse Desk is running: http://{host}:{port}   (Salesforce: {mode}; "
              f"worker metrics: http://{host}:{metrics_port}/metrics)\nCtrl-C stops everything.\n", flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        log.error("a process stopped unexpectedly; shutting down the rest")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop.set()
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
