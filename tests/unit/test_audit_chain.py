from datetime import UTC, datetime

from core.domain import audit_chain as ac

KEY = b"k" * 32


def make_chain(n: int, key: bytes = KEY) -> tuple[list[dict], dict]:
    events, prev = [], ac.GENESIS_HASH
    for seq in range(1, n + 1):
        e = {"seq": seq, "prev_hash": prev, "occurred_at": "2026-11-29T10:00:00.000000Z",
             "actor": "a@x", "action": "item.registered", "object_type": "media_item",
             "object_id": str(seq), "before": None, "after": '{"state":"received"}',
             "reason": None, "outcome": "success", "correlation_id": "c"}
        e["hash"] = ac.event_hash(e)
        e["seal"] = ac.seal(key, e["hash"])
        events.append(e)
        prev = e["hash"]
    return events, {"seq": n, "head_hash": prev, "seal": ac.anchor_seal(key, n, prev)}


def test_intact_chain_reports_count_and_head():
    events, anchor = make_chain(5)
    report = ac.verify_chain(events, KEY, anchor)
    assert report.ok and report.count == 5 and report.head_hash == anchor["head_hash"]


def test_hash_covers_every_field():
    events, _ = make_chain(1)
    for name in ac.HASHED_FIELDS:
        changed = dict(events[0], **{name: "tampered" if name != "seq" else 9})
        assert ac.event_hash(changed) != events[0]["hash"], name


def test_recomputed_hash_without_key_is_caught_by_seal():
    events, anchor = make_chain(4)
    events[1]["actor"] = "mallory@x"
    events[1]["hash"] = ac.event_hash(events[1])
    report = ac.verify_chain(events, KEY, anchor)
    assert not report.ok and report.first_broken_seq == 2


def test_timestamps_encode_the_same_aware_or_naive():
    aware = datetime(2026, 11, 29, 10, 0, 0, 123456, tzinfo=UTC)
    assert ac.format_time(aware) == ac.format_time(aware.replace(tzinfo=None)) == "2026-11-29T10:00:00.123456Z"


def test_canonical_json_is_key_order_independent():
    assert ac.canonical_json({"b": 1, "a": [1, "é"]}) == ac.canonical_json({"a": [1, "é"], "b": 1})
