"""What a message about an incident may say: the data templates receive, read from the database.
Optional moments read "not recorded"; a missing DPO or regulator contact stays missing, so a template
that needs it fails by name instead of printing a blank."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from core.adapters import incident_records as q
from core.adapters import templates
from core.adapters.db import Database
from core.clock import utcnow
from core.domain.records import is_customer_record


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "not recorded"


def _files(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    files = []
    for item in items:
        verdict = item["verdicts"][-1] if item["verdicts"] else None
        findings = [{"name": s["name"], "label": s["label"],
                     "score": "n/a" if s["score"] is None else f"{s['score']:.2f}"} for s in item["signals"]]
        files.append({"id": item["id"], "file_name": item["file_name"], "sha256": item["sha256"] or "not computed",
                      "state": item["state"], "risk": item["risk"] or "not scanned",
                      "reasons": "; ".join(verdict["reasons"]) if verdict and verdict["reasons"] else "none recorded",
                      "findings": findings, "uploaded_by": item["uploaded_by"] or "unknown",
                      "records": ", ".join(r.get("entity_name") or r["entity_id"] for r in item["linked_records"]
                                           if is_customer_record(r)) or "none"})
    return files


def _findings(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Detector findings across the incident's files: how often each label came up, and its top score."""
    counts: dict[tuple[str, str], int] = {}
    scores: dict[tuple[str, str], list[float]] = {}
    for item in items:
        for s in item["signals"]:
            key = (s["name"], s["label"])
            counts[key] = counts.get(key, 0) + 1
            scores.setdefault(key, []).extend([s["score"]] if s["score"] is not None else [])
    return [{"name": name, "label": label, "count": counts[(name, label)],
             "max_score": f"{max(scores[(name, label)]):.2f}" if scores[(name, label)] else "n/a"}
            for name, label in sorted(counts)]


def _contact(db: Database, role: str) -> dict[str, Any] | None:
    found = q.contacts(db, (role,))
    return {"name": found[0]["name"], "email": found[0]["email"],
            "organisation": found[0]["organisation"] or "not recorded"} if found else None


def incident_context(db: Database, incident_id: int, *, author: str,
                     dashboard_url: str = "http://localhost:8501") -> dict[str, Any]:
    """Everything a message about this incident may say, from the database. Optional moments read
    "not recorded"; a missing DPO or regulator contact stays missing, so templates needing it fail."""
    incident = q.incident(db, incident_id)
    items = q.incident_items(db, incident_id)
    affected = q.customers_affected(items)
    clocks = q.incident_clocks(db, incident_id)
    held = [i for i in items if i["state"] in ("quarantined", "in_review", "confirmed_synthetic")]
    confirmed = [i for i in items if i["state"] == "confirmed_synthetic"]
    files = _files(items)
    summary = incident["summary"] or (
        f"Synthetic or manipulated media was found in {len(items)} file(s) attached to "
        f"{affected['record_count']} Salesforce record(s) of {affected['customer_count']} customer(s).")
    return {
        "firm": templates.catalog()["firm"],
        "author": author,
        "generated_at": _when(utcnow()),
        "incident": {
            "id": incident["id"], "reference": incident["reference"], "title": incident["title"],
            "severity": incident["severity"], "severity_definition": incident["severity_definition"],
            "status": incident["status"], "summary": summary,
            "commander": incident["commander"] or "not yet named",
            "communications_lead": incident["communications_lead"] or "not yet named",
            "compliance_lead": incident["compliance_lead"] or "not yet named",
            "declared_by": incident["declared_by"], "declared_at": _when(incident["declared_at"]),
            "aware_at": _when(incident["aware_at"]), "classified_at": _when(incident["classified_at"]),
            "url": f"{dashboard_url.rstrip('/')}/incidents?incident={incident_id}",
        },
        "evidence": {
            "file_count": len(items), "held_count": len(held), "confirmed_count": len(confirmed),
            "files": files, "findings": _findings(items),
            "hashes": [f["sha256"] for f in files],
        },
        "affected": {
            "customer_count": affected["customer_count"], "record_count": affected["record_count"],
            "customers": [{"id": c["id"], "name": c["name"]} for c in affected["customers"]],
            "records": [{"id": r["id"], "type": r["type"], "name": r["name"]} for r in affected["records"]],
            "record_types": ", ".join(affected["record_types"]) or "none identified",
            "data_categories": _data_categories(affected["record_types"]),
        },
        "measures": _measures(items, held),
        "clocks": [{"title": c["title"], "source": c["source"], "state": c["state"].replace("_", " "),
                    "deadline": _when(c["deadline"]) if c["deadline"] else "not started",
                    "kind": c["kind"]} for c in clocks],
        "dpo": _contact(db, "dpo"),
        "regulator": _contact(db, "regulator"),
        "salesforce_admin": _contact(db, "salesforce_admin"),
    }


def _data_categories(record_types: list[str]) -> str:
    categories = []
    if "KYC_Check__c" in record_types:
        categories.append("identity documents and identity-verification (KYC) images")
    if {"Account", "Contact"} & set(record_types):
        categories.append("customer profile and contact records")
    return "; ".join(categories) or "files attached to CRM records"


def _measures(items: list[dict[str, Any]], held: list[dict[str, Any]]) -> str:
    taken = [f"{len(held)} of {len(items)} file(s) are held in quarantine: their links to customer records "
             "were removed and their sharing set to private in Salesforce"]
    confirmed = sum(1 for i in items if i["state"] == "confirmed_synthetic")
    if confirmed:
        taken.append(f"{confirmed} file(s) confirmed synthetic by a reviewer; their hashes were added to the "
                     "known-synthetic bank so copies are stopped on upload")
    return "; ".join(taken) + "."
