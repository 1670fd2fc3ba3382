"""Evidence pack: one zip per incident that proves what was known, when, and who decided.

Contents: summary.html and summary.pdf, incident.json, timeline.json, items.json (with hashes),
signals.json, verdicts.json, decisions.json, messages.json (with the delivery log), and
audit_extract.jsonl: the audit chain from its first event to the head in the audit export format,
with the incident's events in full and every other event reduced to seq, prev_hash, hash and seal.

Integrity, in two layers:
- content integrity, for anyone: manifest.json lists the SHA-256 of every file, and
  manifest.json.sha256 holds the manifest's own SHA-256 (`sha256sum -c` reads it). The audit events
  in the extract re-hash to their recorded hashes and link into one chain. This catches any
  accidental or partial change; it cannot stop someone who rewrites a file AND its hashes.
- authenticity, for whoever holds this installation's audit key: the manifest is sealed with
  HMAC-SHA256 under that key, as is every audit event and the chain head, so a rewritten pack fails.
  The export is also recorded on the audit trail with the manifest's SHA-256, which anyone can
  compare with the pack's manifest.json.sha256."""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF

from core.adapters import audit_store, people, templates
from core.adapters import incident_records as q
from core.adapters.files import private_dir, write_private
from core.adapters.uow import UnitOfWork
from core.clock import utcnow
from core.commands import message_content
from core.commands.audit import EXPORT_FORMAT
from core.domain import audit_chain
from core.domain.audit_actions import AuditAction
from core.domain.roles import Action, Actor

PACK_FORMAT = "response-desk-evidence/1"
MANIFEST, MANIFEST_DIGEST, AUDIT_EXTRACT = "manifest.json", "manifest.json.sha256", "audit_extract.jsonl"


def _json(value: Any) -> bytes:
    def default(v: object) -> str:
        if isinstance(v, (datetime, date)):
            return v.isoformat()
        raise TypeError(f"cannot put {type(v).__name__} in JSON")
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=default) + "\n").encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _manifest_seal(key: bytes, manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "seal"}
    return hmac.new(key, audit_chain.canonical_json(body).encode(), hashlib.sha256).hexdigest()


# -- building -----------------------------------------------------------------------------------
def _audit_extract(uow: UnitOfWork, incident_id: int, item_ids: list[int], comm_ids: list[int]) -> tuple[bytes, dict[str, Any]]:
    mine = {("incident", str(incident_id))} | {("media_item", str(i)) for i in item_ids} | \
           {("communication", str(c)) for c in comm_ids}
    out = io.StringIO()
    out.write(json.dumps({"format": EXPORT_FORMAT, "genesis": audit_chain.GENESIS_HASH,
                          "hash": "sha256 over canonical JSON of " + ",".join(audit_chain.HASHED_FIELDS),
                          "seal": "HMAC-SHA256(audit key, hash)",
                          "extract": {"incident_id": incident_id, "redacted": "events of other objects carry "
                                      "only seq, prev_hash, hash and seal"}}) + "\n")
    with uow.db.snapshot() as session:
        anchor = audit_store.read_anchor(session)
        count, head = 0, audit_chain.GENESIS_HASH
        for record in audit_store.iter_events(session):
            if (record["object_type"], record["object_id"]) not in mine:
                record = {k: record[k] for k in ("seq", "prev_hash", "hash", "seal")} | {"redacted": True}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count, head = record["seq"], record["hash"]
    out.write(json.dumps({"end": True, "count": count, "head_hash": head, "anchor": anchor}) + "\n")
    return out.getvalue().encode(), {"seq": count, "hash": head}


def _pdf(context: dict[str, Any], sent: list[dict[str, Any]], audit_head: dict[str, Any]) -> bytes:
    def latin(text: Any) -> str:  # the PDF core fonts are Latin-1
        return str(text).encode("latin-1", "replace").decode("latin-1")

    inc = context["incident"]
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, latin(f"Evidence pack: {inc['reference']} {inc['title']}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    lines = [f"Generated {context['generated_at']} by {context['author']}",
             f"Severity {inc['severity']}: {inc['severity_definition']}", f"Status: {inc['status']}",
             f"Declared {inc['declared_at']} by {inc['declared_by']}; aware since {inc['aware_at']}; "
             f"classified {inc['classified_at']}",
             f"Commander {inc['commander']}; communications {inc['communications_lead']}; "
             f"compliance {inc['compliance_lead']}", "", inc["summary"], f"Measures: {context['measures']}", "",
             f"Customers affected: {context['affected']['customer_count']}; records: "
             f"{context['affected']['record_count']}", "", "Files:"]
    lines += [f"  item {f['id']} {f['file_name']} [{f['state']}, {f['risk']}] sha256 {f['sha256']}"
              for f in context["evidence"]["files"]]
    lines += ["", "Regulatory clocks:"] + [f"  {c['title']} [{c['kind']}]: {c['state']}, due {c['deadline']} "
                                             f"({c['source']})" for c in context["clocks"]]
    lines += ["", "Messages:"] + [f"  #{m['id']} {m['template']} to {m['audience']}: {m['subject']} ({m['status']})"
                                   for m in sent]
    lines += ["", f"Audit chain head: sequence {audit_head['seq']}, {audit_head['hash']}",
              "Verify: python -m core evidence verify PACK.zip"]
    for line in lines:
        pdf.multi_cell(0, 5, latin(line) or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def build_pack(uow: UnitOfWork, *, actor: Actor, incident_id: int) -> bytes:
    """The pack as zip bytes. Its export is itself recorded on the audit trail, with the manifest's
    SHA-256, after the extract was taken (so the pack shows the trail up to its own making)."""
    people.authorize_read(uow.db, actor, Action.EVIDENCE_EXPORT)
    db = uow.db
    incident = q.incident(db, incident_id)
    items = q.incident_items(db, incident_id)
    comms = q.communications(db, incident_id)
    for c in comms:
        c["deliveries"] = q.delivery_log(db, c["id"])
    extract, head = _audit_extract(uow, incident_id, [i["id"] for i in items], [c["id"] for c in comms])
    context = message_content.incident_context(db, incident_id, author=actor.id)
    sent = [{k: c[k] for k in ("id", "template", "audience", "subject", "status")} for c in comms]
    files = {
        "summary.html": templates.render_document("evidence_summary.html.j2", {
            **context, "sent_messages": sent, "audit_head": head}).encode(),
        "summary.pdf": _pdf(context, sent, head),
        "incident.json": _json({**incident, "customers_affected": q.customers_affected(items),
                                "clocks": q.incident_clocks(db, incident_id), "notes": q.notes(db, incident_id)}),
        "timeline.json": _json(json.loads(q.timeline(db, incident_id).to_json(orient="records", date_format="iso"))),
        "items.json": _json([{k: v for k, v in i.items() if k not in ("signals", "verdicts", "decisions")}
                             for i in items]),
        "signals.json": _json([s for i in items for s in i["signals"]]),
        "verdicts.json": _json([v for i in items for v in i["verdicts"]]),
        "decisions.json": _json([d for i in items for d in i["decisions"]]),
        "messages.json": _json(comms),
        AUDIT_EXTRACT: extract,
    }
    manifest = {"format": PACK_FORMAT, "incident_id": incident_id, "reference": incident["reference"],
                "created_at": utcnow().isoformat(), "created_by": actor.id, "audit_head": head,
                "files": {name: {"sha256": _sha256(data), "bytes": len(data)} for name, data in sorted(files.items())}}
    manifest["seal"] = {"alg": "HMAC-SHA256", "over": "canonical JSON of this manifest without 'seal'",
                        "value": _manifest_seal(uow.audit_key, manifest)}
    manifest_bytes = _json(manifest)
    digest = _sha256(manifest_bytes)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in [*sorted(files.items()), (MANIFEST, manifest_bytes),
                           (MANIFEST_DIGEST, f"{digest}  {MANIFEST}\n".encode())]:
            zf.writestr(name, data)
    with uow:
        actor = uow.authorize(actor, Action.EVIDENCE_EXPORT)
        uow.record(actor, AuditAction.INCIDENT_EVIDENCE_EXPORTED, "incident", incident_id,
                   after={"manifest_sha256": digest, "audit_head": head, "files": len(files)})
        uow.commit()
    return buffer.getvalue()


def store_pack(data: bytes, folder: Path, incident_id: int) -> Path:
    """Keep a built pack in `folder` (var/evidence) for the dashboard to offer: owner-only, like
    everything in var/, since it names customers and holds the audit trail."""
    path = private_dir(folder) / f"INC-{incident_id:04d}-{utcnow():%Y%m%d-%H%M%S}.zip"
    return write_private(path, data)


# -- verifying ------------------------------------------------------------------------------------
@dataclass
class PackReport:
    problems: list[str] = field(default_factory=list)
    files: int = 0
    sealed: bool = False  # True when the seals were checked with the key
    manifest_sha256: str = ""
    audit_head: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


# A pack holds a dozen files, and verify reads them all into memory: bounds on what a hostile zip
# (a bomb, thousands of entries, a second entry under a name already read) can make it do.
MAX_PACK_MEMBERS = 64
MAX_MEMBER_BYTES = 1024 ** 3  # the audit extract dominates: about four million events
MAX_PACK_BYTES = 2 * 1024 ** 3


class PackRefused(ValueError):
    """The zip is not shaped like a pack, so nothing in it is read."""


def _mib(n: int) -> str:
    return f"{n / 1024 ** 2:,.0f} MiB"


def _check_layout(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_PACK_MEMBERS:
        raise PackRefused(f"the zip holds {len(infos)} entries; a pack has at most {MAX_PACK_MEMBERS}")
    seen, declared = set(), 0
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
            raise PackRefused(f"{name!r}: an absolute path or one with '..'; pack files are named plainly")
        if name in seen:
            raise PackRefused(f"{name}: two entries under this name (a zip reader would show only one)")
        seen.add(name)
        if info.file_size > MAX_MEMBER_BYTES:
            raise PackRefused(f"{name}: declares {_mib(info.file_size)} uncompressed, over the "
                              f"{_mib(MAX_MEMBER_BYTES)} a pack file may hold")
        declared += info.file_size
    if declared > MAX_PACK_BYTES:
        raise PackRefused(f"the files declare {_mib(declared)} uncompressed, over the {_mib(MAX_PACK_BYTES)} "
                          "a pack may hold")


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """The member's bytes, reading at most one byte past what it may hold: a declared size can lie."""
    with zf.open(info) as fh:
        data = fh.read(budget + 1)
    if len(data) > budget:
        raise PackRefused(f"{info.filename}: expands past {_mib(budget)} whatever its declared size, over what "
                          f"a pack may hold ({_mib(MAX_MEMBER_BYTES)} a file, {_mib(MAX_PACK_BYTES)} in all)")
    return data


def _read_members(path: Path) -> tuple[dict[str, bytes], list[str]]:
    members, problems = {}, []
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_layout(infos)
            left = MAX_PACK_BYTES
            for info in infos:
                try:
                    members[info.filename] = _read_capped(zf, info, min(MAX_MEMBER_BYTES, left))
                    left -= len(members[info.filename])
                except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError,
                        RuntimeError) as error:  # corrupt, truncated, encrypted or oddly compressed
                    problems.append(f"{info.filename}: unreadable in the zip ({error})")
    except PackRefused as refusal:
        return {}, [f"refused: {refusal}"]
    except (zipfile.BadZipFile, OSError) as error:
        problems.append(f"not a readable zip file: {error}")
    return members, problems


def _check_extract(data: bytes, key: bytes | None) -> tuple[list[str], dict[str, Any] | None]:
    try:
        lines = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return [f"{AUDIT_EXTRACT}: not valid JSON Lines ({error})"], None
    if not lines or lines[0].get("format") != EXPORT_FORMAT or not lines[-1].get("end"):
        return [f"{AUDIT_EXTRACT}: header or trailer missing"], None
    events, trailer = lines[1:-1], lines[-1]
    prev, problems = audit_chain.GENESIS_HASH, []
    for n, event in enumerate(events, start=1):
        where = f"{AUDIT_EXTRACT}: event {event.get('seq')}"
        if event.get("seq") != n:
            return [f"{where}: expected sequence {n}"], None
        if event.get("prev_hash") != prev:
            problems.append(f"{where} does not link to the hash of event {n - 1}")
        if not event.get("redacted") and audit_chain.event_hash(event) != event.get("hash"):
            problems.append(f"{where}: content does not match its hash")
        if key is not None and not hmac.compare_digest(audit_chain.seal(key, event.get("hash", "")),
                                                       event.get("seal") or ""):
            problems.append(f"{where}: not sealed by the audit key")
        prev = event.get("hash", "")
    if trailer.get("count") != len(events) or trailer.get("head_hash") != prev:
        problems.append(f"{AUDIT_EXTRACT}: the trailer does not match the last event")
    anchor = trailer.get("anchor") or {}
    if key is not None and not hmac.compare_digest(
            audit_chain.anchor_seal(key, int(anchor.get("seq", -1)), str(anchor.get("head_hash"))),
            anchor.get("seal") or ""):
        problems.append(f"{AUDIT_EXTRACT}: the chain head is not sealed by the audit key")
    return problems, {"seq": len(events), "hash": prev}


def verify_pack(path: Path, key: bytes | None = None) -> PackReport:
    """Check a pack: every file against the manifest, the manifest against its digest, the audit
    extract's chain; with the key, the manifest seal and every audit seal too."""
    report = PackReport(sealed=key is not None)
    members, report.problems = _read_members(path)
    if report.problems and not members:
        return report
    for needed in (MANIFEST, MANIFEST_DIGEST):
        if needed not in members:
            report.problems.append(f"{needed} is missing")
    if report.problems:
        return report
    report.manifest_sha256 = _sha256(members[MANIFEST])
    recorded = members[MANIFEST_DIGEST].decode("utf-8", "replace").split()
    if not recorded or recorded[0] != report.manifest_sha256:
        report.problems.append(f"{MANIFEST}: its SHA-256 does not match {MANIFEST_DIGEST}")
    try:
        manifest = json.loads(members[MANIFEST])
        listed = manifest["files"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as error:
        report.problems.append(f"{MANIFEST}: unreadable ({error})")
        return report
    report.audit_head = manifest.get("audit_head")
    for name, entry in sorted(listed.items()):
        if name not in members:
            report.problems.append(f"{name}: listed in the manifest but missing from the pack")
        elif _sha256(members[name]) != entry.get("sha256"):
            report.problems.append(f"{name}: SHA-256 does not match the manifest (altered)")
    for name in sorted(set(members) - set(listed) - {MANIFEST, MANIFEST_DIGEST}):
        report.problems.append(f"{name}: in the pack but not in the manifest")
    report.files = len(listed)
    if key is not None and not hmac.compare_digest(_manifest_seal(key, manifest),
                                                   str((manifest.get("seal") or {}).get("value"))):
        report.problems.append(f"{MANIFEST}: the seal does not match this installation's audit key "
                               "(altered, or sealed by another installation)")
    if AUDIT_EXTRACT in members:
        chain_problems, head = _check_extract(members[AUDIT_EXTRACT], key)
        report.problems += chain_problems
        if head is not None and head != report.audit_head:
            report.problems.append(f"{AUDIT_EXTRACT}: its head does not match the manifest's audit_head")
    return report
