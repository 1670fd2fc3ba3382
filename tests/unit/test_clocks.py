"""Regulatory clocks with fixed timestamps, one test per shipped rule, plus the rules file itself."""
from datetime import UTC, datetime, timedelta

import pytest

from core.adapters.clock_rules import load_rules
from core.domain.clocks import ClockFacts, Period, evaluate, parse_rules
from core.settings import DEFAULT_CLOCKS_FILE, load_settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
H = timedelta(hours=1)
RULES = {r.id: r for r in load_rules(DEFAULT_CLOCKS_FILE)}


def clock(rule_id, *, now, severity="SEV1", aware=T0, classified=None, determined=None, sent=None):
    return evaluate(RULES[rule_id], ClockFacts(severity=severity, aware_at=aware, classified_at=classified,
                                               determined_at=determined, sent=sent or {}), now)


def test_every_shipped_rule_cites_its_legal_source():
    assert set(RULES) == {"gdpr_art33", "gdpr_art34", "dora_initial", "dora_intermediate", "dora_final",
                          "nydfs_500_17"}
    assert "Article 33(1)" in RULES["gdpr_art33"].source
    assert "Article 34(1)" in RULES["gdpr_art34"].source
    assert "2025/301, Article 5(1)(a)" in RULES["dora_initial"].source
    assert "Article 5(1)(b)" in RULES["dora_intermediate"].source
    assert "Article 5(1)(c)" in RULES["dora_final"].source
    assert "500.17(a)(1)" in RULES["nydfs_500_17"].source


def test_gdpr_art33_is_72_hours_from_awareness_and_warns_in_the_last_24():
    assert clock("gdpr_art33", now=T0 + 47 * H).state == "running"
    c = clock("gdpr_art33", now=T0 + 49 * H)
    assert c.state == "warning" and c.deadline == T0 + 72 * H and c.remaining_s == 23 * 3600
    assert clock("gdpr_art33", now=T0 + 72 * H + timedelta(seconds=1)).state == "overdue"
    met = clock("gdpr_art33", now=T0 + 80 * H, sent={"gdpr_art33": [T0 + 70 * H]})
    assert met.state == "met" and met.met_at == T0 + 70 * H and not met.met_late
    late = clock("gdpr_art33", now=T0 + 80 * H, sent={"gdpr_art33": [T0 + 75 * H]})
    assert late.state == "met" and late.met_late  # Art. 33(1): a late notice must give reasons


def test_gdpr_art34_is_a_target_not_a_legal_deadline_and_only_for_sev1():
    c = clock("gdpr_art34", now=T0 + 10 * H)
    assert c.kind == "target" and c.deadline == T0 + 72 * H and "without undue delay" in c.note
    assert clock("gdpr_art34", now=T0, severity="SEV2") is None


def test_dora_initial_is_4_hours_from_classification_but_never_past_24_from_awareness():
    assert clock("dora_initial", now=T0 + 1 * H).state == "not_started"  # not classified as major yet
    early = clock("dora_initial", now=T0 + 3 * H, classified=T0 + 2 * H)
    assert early.deadline == T0 + 6 * H and early.state == "running"  # 3 hours left; warns from 2
    assert clock("dora_initial", now=T0 + 4.5 * H, classified=T0 + 2 * H).state == "warning"
    late = clock("dora_initial", now=T0 + 21 * H, classified=T0 + 21 * H)
    assert late.deadline == T0 + 24 * H  # the 24-hour bound from awareness comes first
    assert clock("dora_initial", now=T0 + 26 * H, classified=T0 + 25 * H).state == "overdue"
    assert clock("dora_initial", now=T0 + 5 * H, classified=T0 + 2 * H,
                 sent={"dora_initial": [T0 + 4 * H]}).state == "met"


def test_dora_intermediate_is_72_hours_from_the_initial_notification():
    assert clock("dora_intermediate", now=T0 + 5 * H).state == "not_started"
    c = clock("dora_intermediate", now=T0 + 10 * H, classified=T0 + H, sent={"dora_initial": [T0 + 3 * H]})
    assert c.deadline == T0 + 75 * H and c.started_by == "sent_first:dora_initial" and c.state == "running"


def test_dora_final_is_one_calendar_month_from_the_latest_intermediate_report():
    sent = {"dora_initial": [T0 + 3 * H], "dora_intermediate": [T0 + 50 * H, datetime(2026, 3, 31, 10, 0, tzinfo=UTC)]}
    c = clock("dora_final", now=T0 + 60 * H, sent=sent)
    assert c.deadline == datetime(2026, 4, 30, 10, 0, tzinfo=UTC)  # 31 March + 1 month, clamped
    assert c.started_by == "sent_last:dora_intermediate"


def test_nydfs_is_72_hours_from_determination_or_from_awareness_until_one_is_recorded():
    c = clock("nydfs_500_17", now=T0 + H)
    assert c.started_by == "aware_at" and c.deadline == T0 + 72 * H
    d = clock("nydfs_500_17", now=T0 + 10 * H, determined=T0 + 6 * H)
    assert d.started_by == "determined_at" and d.deadline == T0 + 78 * H
    assert clock("nydfs_500_17", now=T0 + 60 * H, determined=T0 + 6 * H).state == "warning"
    assert clock("nydfs_500_17", now=T0 + 79 * H, determined=T0 + 6 * H).state == "overdue"
    # DORA's classification as major is a different judgement: it does not move the NYDFS clock.
    assert clock("nydfs_500_17", now=T0 + 10 * H, classified=T0 + 6 * H).started_by == "aware_at"
    assert clock("nydfs_500_17", now=T0, severity="SEV3") is None


def test_calendar_month_periods_clamp_to_the_end_of_the_month():
    assert Period(months=1).after(datetime(2026, 1, 31, tzinfo=UTC)) == datetime(2026, 2, 28, tzinfo=UTC)
    assert Period(months=1).after(datetime(2026, 12, 15, tzinfo=UTC)) == datetime(2027, 1, 15, tzinfo=UTC)


def test_rules_file_is_replaceable_and_checked(tmp_path, monkeypatch):
    custom = tmp_path / "clocks.toml"
    custom.write_text('[[rule]]\nid = "x"\ntitle = "X"\nsource = "Act 1"\naudience = "regulator"\n'
                      'start = "aware_at"\nwithin_hours = 1\n')
    monkeypatch.setenv("RD_CLOCKS_FILE", str(custom))
    monkeypatch.setenv("RD_VAR_DIR", str(tmp_path / "var"))
    assert [r.id for r in load_rules(load_settings().clocks_file)] == ["x"]
    with pytest.raises(ValueError, match="source is required"):
        parse_rules({"rule": [{"id": "y", "title": "Y", "audience": "regulator", "start": "aware_at",
                               "within_hours": 1}]})
    with pytest.raises(ValueError, match="unknown rule"):
        parse_rules({"rule": [{"id": "y", "title": "Y", "source": "s", "audience": "regulator",
                               "start": "sent_first:nope", "within_hours": 1}]})
