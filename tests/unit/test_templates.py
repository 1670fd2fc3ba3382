"""Every message template: full data renders both parts; each field it uses, when missing, is an
error that names that field; HTML is escaped, text is not; subjects stay on one line."""
import copy
import re

import pytest

from core.adapters import templates as messages

FILE = {"id": 7, "file_name": "passport <scan>.jpg", "sha256": "ab" * 32, "state": "quarantined", "risk": "high",
        "reasons": "generator traces", "uploaded_by": "005X", "records": "Okafor Family Trust, KYC-0001",
        "findings": [{"name": "spectrum_mlp", "label": "synthetic", "score": "0.97"}]}
FULL = {
    "firm": {"name": "Harbor & Vale Wealth", "customer_contact": "Client Services"},
    "author": "responder@demo.responsedesk.local",
    "generated_at": "2026-03-02 09:00 UTC",
    "incident": {"id": 7, "reference": "INC-0007", "title": "Deepfake <passports>", "severity": "SEV1",
                 "severity_definition": "Used against customers.", "status": "investigating",
                 "summary": "Two forged passports.", "commander": "a@x.example", "communications_lead": "b@x.example",
                 "compliance_lead": "c@x.example", "declared_by": "a@x.example", "declared_at": "2026-03-02 09:05 UTC",
                 "aware_at": "2026-03-02 09:00 UTC", "classified_at": "not recorded",
                 "url": "http://localhost:8501/incidents?incident=7"},
    "evidence": {"file_count": 1, "held_count": 1, "confirmed_count": 0, "files": [FILE],
                 "findings": [{"name": "spectrum_mlp", "label": "synthetic", "count": 1, "max_score": "0.97"}],
                 "hashes": ["ab" * 32]},
    "affected": {"customer_count": 1, "record_count": 2, "customers": [{"id": "001A", "name": "Okafor Family Trust"}],
                 "records": [{"id": "001A", "type": "Account", "name": "Okafor Family Trust"}],
                 "record_types": "Account, KYC_Check__c", "data_categories": "identity documents"},
    "measures": "1 of 1 file(s) are held in quarantine.",
    "clocks": [{"title": "GDPR: notify", "source": "GDPR Art. 33(1)", "state": "running",
                "deadline": "2026-03-05 09:00 UTC", "kind": "deadline"}],
    "dpo": {"name": "Dana Whitfield", "email": "dpo@harborvale.example", "organisation": "Harbor & Vale Wealth"},
    "regulator": {"name": "DPA", "email": "breach@dpa.example", "organisation": "DPA"},
    "salesforce_admin": {"name": "Priya", "email": "admin@harborvale.example", "organisation": "H&V"},
}
TEMPLATES = messages.template_names()


def test_the_catalog_has_the_nine_templates_with_both_parts():
    assert set(TEMPLATES) == {"compliance_alert", "security_page", "legal_brief", "regulator_initial",
                              "dora_initial", "customer_notice", "salesforce_containment", "executive_summary",
                              "status_update"}
    for name in TEMPLATES:
        assert (messages.TEMPLATES_DIR / f"{name}.txt.j2").is_file()
        assert (messages.TEMPLATES_DIR / f"{name}.html.j2").is_file()


def _delete(context: dict, path: str) -> dict:
    context = copy.deepcopy(context)
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    node = context
    for part in parts[:-1]:
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    del node[parts[-1]]
    return context


@pytest.mark.parametrize("name", TEMPLATES)
def test_full_data_renders_text_and_html(name):
    seen: set[str] = set()
    out = messages.render(name, FULL, seen)
    assert out.subject and "\n" not in out.subject
    assert "INC-0007" in out.text + out.subject or "Harbor & Vale Wealth" in out.text
    assert out.html.lstrip().startswith("<!doctype html>")
    assert "None" not in out.text and "<passports>" not in out.html and "<scan>" not in out.html
    if "incident.title" in seen:
        assert "Deepfake &lt;passports&gt;" in out.html
    assert seen, "the template used no data"


@pytest.mark.parametrize("name", TEMPLATES)
def test_each_missing_field_is_an_error_naming_it(name):
    seen = messages.fields_used(name, FULL)
    leaves = sorted(p for p in seen if not p.endswith("]") and not any(o.startswith(p + ".") or o.startswith(p + "[")
                                                                       for o in seen))
    assert leaves
    for path in leaves:
        with pytest.raises(messages.MissingTemplateData) as raised:
            messages.render(name, _delete(FULL, path))
        assert raised.value.field == path, f"{name}: removing {path} reported {raised.value.field}"
        assert path in str(raised.value) and name in str(raised.value)


def test_regulator_notification_carries_what_gdpr_art_33_3_asks_for():
    text = messages.render("regulator_initial", FULL).text
    for part in ("(a) Nature of the breach", "Approximate number of data subjects concerned: 1",
                 "Approximate number of personal data records concerned: 2", "(b) Data protection officer",
                 "dpo@harborvale.example", "(c) Likely consequences", "(d) Measures taken or proposed"):
        assert part in text


def test_a_none_value_counts_as_missing_never_prints_none():
    context = copy.deepcopy(FULL)
    context["dpo"]["email"] = None
    with pytest.raises(messages.MissingTemplateData, match="dpo.email"):
        messages.render("customer_notice", context)


def test_changes_show_a_unified_diff_against_the_prefilled_text():
    diff = messages.changes("a\nb\n", "a\nB\n")
    assert diff.startswith("--- prefilled\n+++ edited\n") and "-b\n" in diff and "+B\n" in diff
    assert messages.changes("same\n", "same\n") == ""
    assert "&lt;script&gt;" in messages.edited_html("<script>x</script>")
