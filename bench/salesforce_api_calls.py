"""Salesforce API calls per file: the batched pipeline against a naive one-file-at-a-time loop.

Seeds the local emulator with N new files on KYC checks (genuine photos and a share of
synthetic ones), runs ingest, scan and write-back (including quarantine and review Cases for
flagged files), and counts the API calls in the emulator's request log. The naive loop does the
same work file by file on a fresh org and database.

    .venv/bin/python bench/salesforce_api_calls.py [--files 1000]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.adapters.salesforce import content
from core.adapters.salesforce.gateway import SalesforceGateway
from core.bootstrap import build, migrate
from core.domain.records import is_customer_record
from core.loops import ingest, scanning
from core.loops.salesforce_relay import SalesforceRelay
from core.settings import Settings
from core.verification.config import EngineConfig
from core.verification.corpus import genuine_photo, metadata_samples
from core.verification.engine import Engine
from core.verification.hashbank import MemoryHashBank
from sf_emulator import run_emulator
from tests.sf import DOMAIN, deploy_metadata, settings_for

KEY = b"benchmark-audit-key-0123456789abcdef"


def seed_files(emu, n: int) -> None:
    synthetic = [s.data for s in metadata_samples(1)]
    genuine = [genuine_photo(seed, size=(320, 240)) for seed in range(8)]
    account = emu.org.create("Account", {"Name": "Benchmark Holdings"})
    checks = [emu.org.create("KYC_Check__c", {"Name": f"KYC-{i:04d}", "Account__c": account}) for i in range(20)]
    for i in range(n):
        flagged = i % 10 == 0  # one file in ten carries generator metadata
        data = synthetic[i % len(synthetic)] if flagged else genuine[i % len(genuine)]
        name = f"upload-{i}.png" if data.startswith(b"\x89PNG") else f"upload-{i}.jpg"
        emu.upload_file(username=f"kyc.morgan@{DOMAIN}", record_id=checks[i % len(checks)],
                        path_on_client=name, data=data)


def fresh_app(tmp: Path, name: str):
    url = f"sqlite:///{tmp / name}.db"
    migrate(url)
    return build(Settings(database_url=url, var_dir=tmp, audit_key=KEY, demo_mode=False))


def batched(emu, app, engine, tmp: Path) -> tuple[int, float]:
    gw = SalesforceGateway(settings_for(emu, timeout_s=120))
    emu.request_log.clear()
    start = time.perf_counter()
    report = ingest.poll(app, gw)
    for item_id in report.registered:
        scanning.scan_item(app, item_id)
    SalesforceRelay(app, gw, owner="bench").drain()
    return len(emu.request_log.api_calls()), time.perf_counter() - start


def naive(emu, app, engine, tmp: Path) -> tuple[int, float]:
    """What a straightforward integration does: per file, its links, its bytes, one update, one
    history insert; per flagged file, a links query, one delete per link and one Case."""
    gw = SalesforceGateway(settings_for(emu, timeout_s=120))
    fields = gw.cfg.fields
    emu.request_log.clear()
    start = time.perf_counter()
    media = tmp / "media-naive"
    media.mkdir()
    for row in content.versions_since(gw, None, overlap=__import__("datetime").timedelta(0)):
        doc = row["ContentDocumentId"]
        links = content.links_of(gw, [doc])[doc]
        dest = media / f"{row['Id']}.bin"
        gw.download(row["Id"], dest, app.scan_policy.max_file_bytes)
        outcome = engine.scan_bytes(dest.read_bytes(), file_name=row["PathOnClient"])
        status = "Quarantined" if outcome.risk.value in ("high", "medium", "unscannable") else "Verified"
        gw.update("ContentVersion", row["Id"], {fields.status: status, fields.risk: outcome.risk.value,
                                                fields.sha256: outcome.sha256})
        gw.create(fields.history_object, {fields.history_external_id: f"naive-{row['Id']}",
                                          fields.status: status})
        if status == "Quarantined":
            for link in content.links_of(gw, [doc])[doc]:
                if is_customer_record(link):
                    gw.delete("ContentDocumentLink", link["link_id"])
            gw.update("ContentVersion", row["Id"], {"SharingPrivacy": "P"})
            if outcome.risk.value == "high":
                gw.create("Case", {"Subject": f"Review {row['PathOnClient']}", "Status": "New"})
        del links
    return len(emu.request_log.api_calls()), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, Engine(EngineConfig(), MemoryHashBank()) as engine:
        tmp = Path(tmp)
        for name, pipeline in (("batched", batched), ("naive", naive)):
            with run_emulator(seed="empty", api_limit=1_000_000) as emu:
                deploy_metadata(emu)
                seed_files(emu, args.files)
                calls, seconds = pipeline(emu, fresh_app(tmp, name), engine, tmp)
                rows.append((name, calls, seconds))
    print(f"{'pipeline':<9} {'files':>6} {'API calls':>10} {'calls/file':>11} {'seconds':>8}")
    for name, calls, seconds in rows:
        print(f"{name:<9} {args.files:>6} {calls:>10} {calls / args.files:>11.3f} {seconds:>8.1f}")
    print(f"naive_vs_batched_calls={rows[1][1] / rows[0][1]:.2f}")
    print(f"api_calls_per_file={rows[0][1] / args.files:.3f}")


if __name__ == "__main__":
    main()
