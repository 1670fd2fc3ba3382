"""C2PA provenance, fully offline: read and validate the embedded manifest store with c2pa-python.

Validation state (from the SDK): Trusted (signature valid and the signer chains to our trust list),
Valid (signature and hashes valid, signer not on the trust list), Invalid (something failed, e.g.
`assertion.dataHash.mismatch` when the pixels changed after signing). AI sources are the
`digitalSourceType` of actions in `c2pa.actions` / `c2pa.actions.v2` assertions of any manifest.
No manifest is no evidence either way. Remote manifests and OCSP are never fetched.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from core.domain.scan import SignalRecord
from core.verification.metadata import AI_SOURCE_TYPES

if TYPE_CHECKING:
    from core.verification.detectors import DetectionContext


@dataclass(frozen=True)
class ProvenanceReport:
    present: bool
    state: str | None = None                        # Trusted | Valid | Invalid
    failure_codes: tuple[str, ...] = ()
    digital_source_types: tuple[str, ...] = ()      # every declared source type, short form
    generator: str | None = None
    signer: str | None = None
    error: str | None = None
    evidence: dict = field(default_factory=dict)

    @property
    def ai_sources(self) -> tuple[str, ...]:
        return tuple(s for s in self.digital_source_types if s in AI_SOURCE_TYPES)


def load_trust_anchors(path: Path) -> str | None:
    """The PEM certificates of the trust list, or None when the file holds none (trusts nobody)."""
    try:
        text = Path(path).read_text(encoding="ascii")
    except OSError:
        return None
    return text if "-----BEGIN CERTIFICATE-----" in text else None


@lru_cache(maxsize=4)
def _context(trust_pem: str | None):
    import c2pa

    cfg: dict = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_trust": True},
                 "core": {"allowed_network_hosts": []}}
    if trust_pem:
        cfg["trust"] = {"trust_anchors": trust_pem}
    return c2pa.Context.from_dict(cfg)


def may_hold_manifest(data: bytes) -> bool:
    """Embedded manifests live in JUMBF boxes: JPEG APP11 segments before the scan, PNG caBX
    chunks, a box elsewhere. Walking JPEG/PNG headers avoids searching megabytes of pixels."""
    if data.startswith(b"\xff\xd8"):
        return _jpeg_has_app11(data)
    if data.startswith(b"\x89PNG"):
        return _png_has_cabx(data)
    return b"jumb" in data and b"c2pa" in data


def _jpeg_has_app11(data: bytes) -> bool:
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: only pixels follow
            return False
        if marker == 0xEB:
            return True
        if marker in (0x01, 0xFF) or 0xD0 <= marker <= 0xD7:
            pos += 1 if marker == 0xFF else 2
            continue
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return b"jumb" in data  # unusual layout: fall back to a search


def _png_has_cabx(data: bytes) -> bool:
    pos = 8
    while pos + 8 <= len(data):
        length, ctype = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8]
        if ctype == b"caBX":
            return True
        if ctype == b"IEND":
            return False
        pos += 12 + length
    return False


def check(data: bytes, mime: str, trust_pem: str | None) -> ProvenanceReport:
    if not may_hold_manifest(data):
        return ProvenanceReport(present=False)
    import c2pa

    try:
        reader = c2pa.Reader.try_create(mime, io.BytesIO(data), None, _context(trust_pem))
    except c2pa.C2paError as exc:
        return ProvenanceReport(present=True, state="Invalid", error=f"manifest unreadable: {str(exc)[:200]}")
    if reader is None:
        return ProvenanceReport(present=False)
    with reader:
        import json

        store = json.loads(reader.json())
        results = reader.get_validation_results() or {}
        state = reader.get_validation_state()
    active = store.get("manifests", {}).get(store.get("active_manifest"), {})
    failures = tuple(dict.fromkeys(
        f.get("code", "?") for part in results.values() if isinstance(part, dict)
        for f in part.get("failure", []) or []))
    sources = tuple(dict.fromkeys(_source_types(store)))
    sig = active.get("signature_info") or {}
    gen = ", ".join(f"{g.get('name', '?')} {g.get('version', '')}".strip()
                    for g in active.get("claim_generator_info") or []) or active.get("claim_generator")
    signer = " / ".join(x for x in (sig.get("common_name"), sig.get("issuer")) if x) or None
    return ProvenanceReport(present=True, state=state, failure_codes=failures, digital_source_types=sources,
                            generator=gen, signer=signer,
                            evidence={"manifests": len(store.get("manifests", {})),
                                      "title": active.get("title")})


def _source_types(store: dict):
    for manifest in store.get("manifests", {}).values():
        for assertion in manifest.get("assertions", []) or []:
            if not str(assertion.get("label", "")).startswith("c2pa.actions"):
                continue
            for action in (assertion.get("data") or {}).get("actions", []) or []:
                dst = action.get("digitalSourceType")
                if dst:
                    yield str(dst).rstrip("/").rsplit("/", 1)[-1]


class C2paDetector:
    name = "c2pa"

    def __init__(self, settings=None):
        import c2pa

        self.version = f"c2pa-python {c2pa.__version__}"
        self.settings = settings

    def detect(self, image_rgb, context: DetectionContext) -> SignalRecord:
        report = check(context.data, context.media.mime, context.trust_pem)
        if not report.present:
            return SignalRecord(self.name, self.version, None, "no_manifest", {})
        evidence = {"state": report.state, "failure_codes": list(report.failure_codes),
                    "digital_source_types": list(report.digital_source_types),
                    "generator": report.generator, "signer": report.signer, **report.evidence}
        if report.error:
            evidence["error"] = report.error
        if report.ai_sources:
            label = "ai_declared"
        elif report.state == "Invalid":
            label = "invalid"
        else:
            label = "no_ai_declared"
        return SignalRecord(self.name, self.version, None, label, evidence)
