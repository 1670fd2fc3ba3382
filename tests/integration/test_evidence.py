"""Evidence pack: contents, and `python -m core evidence verify` failing on any altered byte."""
import json
import subprocess
import sys
import zipfile

import pytest

from core.commands import communications as comms
from core.commands import evidence, incidents
from core.domain.errors import PermissionDenied
from core.entrypoints import cli
from core.settings import PROJECT_ROOT
from tests.conftest import TEST_AUDIT_KEY
from tests.integration.test_incidents_helpers import AUDITOR, RESPONDER, REVIEWER, incident_with_items

EXPECTED = {"summary.html", "summary.pdf", "incident.json", "timeline.json", "items.json", "signals.json",
            "verdicts.json", "decisions.json", "messages.json", "audit_extract.jsonl", "manifest.json",
            "manifest.json.sha256"}


@pytest.fixture
def pack(sqlite_app, tmp_path):
    incident_id, _ = incident_with_items(sqlite_app)
    incidents.add_note(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id, text="Customer <called> back.")
    cid = comms.create_draft(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id,
                             template="compliance_alert", idempotency_key="ev-1")
    comms.send(sqlite_app.uow(), actor=RESPONDER, communication_id=cid)
    path = tmp_path / "pack.zip"
    path.write_bytes(evidence.build_pack(sqlite_app.uow(), actor=AUDITOR, incident_id=incident_id))
    return path


def _verify(path, *flags) -> int:
    return cli.main(["evidence", "verify", str(path), *flags])


@pytest.fixture(autouse=True)
def _key(monkeypatch, tmp_path):
    monkeypatch.setenv("RD_AUDIT_KEY", TEST_AUDIT_KEY.decode())
    monkeypatch.setenv("RD_VAR_DIR", str(tmp_path))
    from core.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_pack_holds_every_part_and_is_recorded_on_the_trail(pack, sqlite_app, capsys):
    with zipfile.ZipFile(pack) as zf:
        assert set(zf.namelist()) == EXPECTED
        items = json.loads(zf.read("items.json"))
        assert [i["sha256"] for i in items] == ["00" * 32, "01" * 32]
        assert len(json.loads(zf.read("signals.json"))) == 4
        messages = json.loads(zf.read("messages.json"))
        assert messages[0]["template"] == "compliance_alert" and len(messages[0]["deliveries"]) == 2
        assert zf.read("summary.pdf").startswith(b"%PDF")
        html = zf.read("summary.html").decode()
        assert "Ines &lt;b&gt;Duarte&lt;/b&gt;" in html and "<b>Duarte" not in html  # names from Salesforce
        assert json.loads(zf.read("incident.json"))["notes"][0]["text"] == "Customer <called> back."
        extract = [json.loads(line) for line in zf.read("audit_extract.jsonl").splitlines()]
        assert extract[0]["format"] == "response-desk-audit/1" and extract[-1]["end"]
        assert any(e.get("action") == "incident.declared" for e in extract[1:-1])
        assert any(e.get("redacted") for e in extract[1:-1])  # e.g. user.created: not this incident's
        digest = zf.read("manifest.json.sha256").decode().split()[0]
    assert _verify(pack) == 0
    assert "evidence pack intact" in capsys.readouterr().out
    from core.queries.audit import search_events
    events = search_events(sqlite_app.db, actor=AUDITOR, action="incident.evidence_exported")
    assert digest in events.iloc[0]["after"]


def _rewrite(src, dst, name, mutate):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info.filename, mutate(data) if info.filename == name else data)


def _flip(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]


def test_altering_one_byte_of_any_file_fails_verification_naming_it(pack, tmp_path, capsys):
    with zipfile.ZipFile(pack) as zf:
        names = zf.namelist()
    assert set(names) == EXPECTED
    for name in names:
        altered = tmp_path / f"altered-{name}.zip"
        _rewrite(pack, altered, name, _flip)
        capsys.readouterr()
        assert _verify(altered) == 1, f"altering {name} went unnoticed"
        out = capsys.readouterr().out
        assert "FAILED" in out and name.split(".sha256")[0] in out, out
        assert _verify(altered, "--no-key") == 1, f"altering {name} went unnoticed without the key"


def test_a_rewritten_manifest_is_caught_by_the_seal_and_a_forged_event_by_its_hash(pack, tmp_path, capsys):
    import hashlib

    def forge(name, mutate):
        """Change a file AND fix the manifest and its digest, as a careful forger would."""
        with zipfile.ZipFile(pack) as zf:
            files = {n: zf.read(n) for n in zf.namelist()}
        files[name] = mutate(files[name])
        manifest = json.loads(files["manifest.json"])
        manifest["files"][name]["sha256"] = hashlib.sha256(files[name]).hexdigest()
        files["manifest.json"] = json.dumps(manifest).encode()
        files["manifest.json.sha256"] = f"{hashlib.sha256(files['manifest.json']).hexdigest()}  manifest.json\n".encode()
        out = tmp_path / f"forged-{name}.zip"
        with zipfile.ZipFile(out, "w") as zf:
            for n, data in files.items():
                zf.writestr(n, data)
        return out

    forged = forge("items.json", lambda d: d.replace(b"passport-0.jpg", b"passport-9.jpg"))
    assert _verify(forged, "--no-key") == 0  # content integrity alone cannot catch a full rewrite...
    assert _verify(forged) == 1  # ...the seal under the audit key does
    assert "seal does not match" in capsys.readouterr().out
    forged = forge("audit_extract.jsonl", lambda d: d.replace(b'"actor": "responder@', b'"actor": "reviewer@', 1))
    assert _verify(forged, "--no-key") == 1  # an edited audit event no longer matches its hash
    assert "content does not match its hash" in capsys.readouterr().out


def test_the_command_line_exports_and_verifies(sqlite_app, tmp_path, monkeypatch):
    incident_id, _ = incident_with_items(sqlite_app)
    env = {"DATABASE_URL": sqlite_app.settings.database_url, "RD_AUDIT_KEY": TEST_AUDIT_KEY.decode(),
           "RD_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = tmp_path / "cli-pack.zip"
    run = lambda *args: subprocess.run([sys.executable, "-m", "core", "evidence", *args], cwd=PROJECT_ROOT,
                                       env=env, capture_output=True, text=True, timeout=60)
    exported = run("export", "--incident", str(incident_id), "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert run("verify", str(out)).returncode == 0
    _rewrite(out, tmp_path / "bad.zip", "decisions.json", _flip)
    bad = run("verify", str(tmp_path / "bad.zip"))
    assert bad.returncode == 1 and "decisions.json: SHA-256 does not match" in bad.stdout


def test_reviewers_cannot_export_evidence(sqlite_app):
    incident_id, _ = incident_with_items(sqlite_app)
    with pytest.raises(PermissionDenied):
        evidence.build_pack(sqlite_app.uow(), actor=REVIEWER, incident_id=incident_id)
