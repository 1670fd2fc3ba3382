"""Message content, built apart from sending: the data an incident offers templates, rendering in a
sandbox where missing data is an error naming the field, and the changes a person made to a draft.

Templates live in templates/: <name>.txt.j2 (plain text), <name>.html.j2 (HTML, autoescaped) and a
subject line in templates/catalog.toml, which also names each template's audience and clock."""
from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from jinja2 import FileSystemLoader, StrictUndefined, meta
from jinja2.exceptions import UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import escape

from core.adapters.db import Database
from core.adapters.smtp import check_subject
from core.clock import utcnow
from core.queries import incidents as q
from core.settings import PROJECT_ROOT

TEMPLATES_DIR = PROJECT_ROOT / "templates"


class MissingTemplateData(ValueError):
    """A template needs a field the incident does not have (yet)."""

    def __init__(self, template: str, field: str):
        super().__init__(f"template {template!r} needs {field}, which is missing")
        self.template, self.field = template, field


class _FieldMissing(UndefinedError):
    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


class _MissingField(StrictUndefined):
    """Like StrictUndefined, but the error names the full path of the field (dpo.email)."""

    __slots__ = ()

    def __init__(self, hint=None, obj=None, name=None, exc=None):
        super().__init__(hint=hint, obj=obj, name=name, exc=_FieldMissing)

    @property
    def _undefined_message(self) -> str:
        parent = getattr(self._undefined_obj, "_path", None)
        name = self._undefined_name
        return f"{parent}.{name}" if parent and name else (name or parent or "a value")


class Record:
    """A read-only view of the template data that knows its own path, for error messages.
    None counts as missing: a template never prints "None" or a blank where data should be."""

    __slots__ = ("_data", "_path", "_seen")

    def __init__(self, data: Mapping[str, Any], path: str = "", seen: set[str] | None = None):
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_seen", seen)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or self._data.get(name) is None:
            raise AttributeError(name)
        path = f"{self._path}.{name}" if self._path else name
        if self._seen is not None:
            self._seen.add(path)
        return _wrap(self._data[name], path, self._seen)

    def __getitem__(self, name):
        raise TypeError("use attribute access")


def _wrap(value: Any, path: str, seen: set[str] | None) -> Any:
    if isinstance(value, Mapping):
        return Record(value, path, seen)
    if isinstance(value, (list, tuple)):
        return [_wrap(v, f"{path}[{n}]", seen) for n, v in enumerate(value)]
    return value


@lru_cache(maxsize=1)
def catalog() -> dict:
    with (TEMPLATES_DIR / "catalog.toml").open("rb") as fh:
        return tomllib.load(fh)


def template_names() -> list[str]:
    return list(catalog()["template"])


def template_info(name: str) -> dict:
    try:
        return {"name": name, **catalog()["template"][name]}
    except KeyError:
        raise ValueError(f"no message template named {name!r}") from None


@lru_cache(maxsize=2)
def _environment(html: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(loader=FileSystemLoader(TEMPLATES_DIR), undefined=_MissingField,
                                autoescape=html, trim_blocks=True, lstrip_blocks=True,
                                keep_trailing_newline=True)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(name: str, context: Mapping[str, Any], seen: set[str] | None = None) -> Rendered:
    """Render subject, text and HTML. Raises MissingTemplateData naming the first missing field."""
    info = template_info(name)
    data = Record(context, "", seen)
    try:
        subject = " ".join(_environment(False).from_string(info["subject"]).render(_top(data)).split())
        text = _environment(False).get_template(f"{name}.txt.j2").render(_top(data))
        html = _environment(True).get_template(f"{name}.html.j2").render(_top(data))
    except _FieldMissing as missing:
        raise MissingTemplateData(name, missing.field) from None
    return Rendered(check_subject(subject), text, html)


def _top(data: Record) -> dict[str, Any]:
    """Top-level names as template variables; absent ones stay undefined (and so fail by name)."""
    return {key: _wrap(value, key, data._seen) for key, value in data._data.items() if value is not None}


def fields_used(name: str, context: Mapping[str, Any]) -> set[str]:
    """Every field path a template reads from this context (top-level names and nested paths)."""
    seen: set[str] = set()
    render(name, context, seen)
    env = _environment(False)
    sources = [template_info(name)["subject"]] + [
        env.loader.get_source(env, f"{name}.{part}.j2")[0] for part in ("txt", "html")]
    return seen | set().union(*(meta.find_undeclared_variables(env.parse(src)) for src in sources))


def edited_html(text: str) -> str:
    """The HTML part of a draft whose text a person changed: their words, escaped, as paragraphs."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    body = "\n".join(f"<p>{escape(p).replace(chr(10), '<br>' + chr(10))}</p>" for p in paragraphs)
    return f"<!doctype html>\n<html><body style=\"font-family: sans-serif\">\n{body}\n</body></html>\n"


def changes(prefilled: str, edited: str) -> str:
    """A unified diff of a person's changes against the prefilled text ("" when unchanged)."""
    return "".join(difflib.unified_diff(prefilled.splitlines(keepends=True), edited.splitlines(keepends=True),
                                        fromfile="prefilled", tofile="edited"))


# -- the data an incident offers its messages -----------------------------------------------------
def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "not recorded"


def _files(items: list[dict]) -> list[dict]:
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
                                           if r.get("entity_type") not in ("User", "Group")) or "none"})
    return files


def _findings(items: list[dict]) -> list[dict]:
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


def _contact(db: Database, role: str) -> dict | None:
    found = q.contacts(db, (role,))
    return {"name": found[0]["name"], "email": found[0]["email"],
            "organisation": found[0]["organisation"] or "not recorded"} if found else None


def incident_context(db: Database, incident_id: int, *, author: str, dashboard_url: str = "http://localhost:8501") -> dict:
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
        "firm": catalog()["firm"],
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


def _measures(items: list[dict], held: list[dict]) -> str:
    taken = [f"{len(held)} of {len(items)} file(s) are held in quarantine: their links to customer records "
             "were removed and their sharing set to private in Salesforce"]
    confirmed = sum(1 for i in items if i["state"] == "confirmed_synthetic")
    if confirmed:
        taken.append(f"{confirmed} file(s) confirmed synthetic by a reviewer; their hashes were added to the "
                     "known-synthetic bank so copies are stopped on upload")
    return "; ".join(taken) + "."


def render_document(template_file: str, context: Mapping[str, Any]) -> str:
    """An HTML document (the evidence pack's summary) from the same sandbox, autoescaped."""
    try:
        return _environment(True).get_template(template_file).render(_top(Record(context)))
    except _FieldMissing as missing:
        raise MissingTemplateData(template_file, missing.field) from None
