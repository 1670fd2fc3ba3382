"""The hash chain behind the audit trail: canonical encoding, hashing, sealing, verifying.

Each event's `hash` is SHA-256 over a canonical JSON encoding of its fields and the
previous event's hash, so anyone holding an export can check it. Each event also
carries a `seal`, an HMAC of its hash under a key kept outside the database: someone
who can write the database but not read the key can neither edit nor append events
unnoticed. The anchor (head sequence and hash, sealed) exposes a truncated tail.
Limit: a wholesale rollback to an older copy of database and anchor together is only
caught by comparing the head hash with one recorded elsewhere (exports, evidence packs).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "seq", "prev_hash", "occurred_at", "actor", "action", "object_type", "object_id",
    "before", "after", "reason", "outcome", "correlation_id",
)


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=str)


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(fields: Mapping[str, Any]) -> str:
    body = {name: fields.get(name) for name in HASHED_FIELDS}
    if isinstance(body["occurred_at"], datetime):
        body["occurred_at"] = format_time(body["occurred_at"])
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def seal(key: bytes, digest: str) -> str:
    return hmac.new(key, digest.encode("ascii"), hashlib.sha256).hexdigest()


def anchor_seal(key: bytes, seq: int, head_hash: str) -> str:
    return seal(key, f"anchor:{seq}:{head_hash}")


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    count: int
    head_hash: str
    first_broken_seq: int | None = None
    problem: str | None = None
    sealed: bool = True  # False when checked without the key (hashes and links only)


def verify_chain(events: Iterable[Mapping[str, Any]], key: bytes | None = None,
                 anchor: Mapping[str, Any] | None = None) -> ChainReport:
    """Walk events in stored order; report the first sequence number that does not hold.

    `events` yield mappings with the HASHED_FIELDS plus `hash` (and `seal` when a key
    is given). `anchor` is {seq, head_hash, seal} as the database recorded it.
    """
    prev, expected, count = GENESIS_HASH, 1, 0

    def broken(seq: int, problem: str) -> ChainReport:
        return ChainReport(False, count, prev, seq, problem, key is not None)

    for event in events:
        seq = event["seq"]
        if seq < expected:
            return broken(seq, f"sequence {seq} appears again after {expected - 1}")
        if seq > expected:
            return broken(expected, f"sequence {expected} is missing (next stored is {seq})")
        if event["prev_hash"] != prev:
            return broken(seq, f"event {seq} does not link to the hash of event {seq - 1}")
        digest = event_hash(event)
        if digest != event["hash"]:
            return broken(seq, f"event {seq} content does not match its hash")
        if key is not None and not hmac.compare_digest(seal(key, digest), event.get("seal") or ""):
            return broken(seq, f"event {seq} is not sealed by the audit key")
        prev, expected, count = digest, expected + 1, count + 1

    if anchor is not None:
        a_seq, a_hash = int(anchor["seq"]), anchor["head_hash"]
        if key is not None and a_seq > 0 and not hmac.compare_digest(
                anchor_seal(key, a_seq, a_hash), anchor.get("seal") or ""):
            return broken(min(a_seq, count + 1), "the chain anchor is not sealed by the audit key")
        if a_seq > count:
            return broken(count + 1, f"sequence {count + 1} is missing: the anchor records "
                                     f"{a_seq} events but the chain ends at {count}")
        if a_seq < count:
            return broken(a_seq + 1, f"events after {a_seq} were added outside the application")
        if a_hash != prev:
            return broken(count, f"the anchor's head hash does not match event {count}")
    return ChainReport(True, count, prev, sealed=key is not None)
