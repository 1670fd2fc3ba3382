"""Each signal family detects what it should on the generated corpus; genuine photos come out low."""
from __future__ import annotations

import pytest

from core.domain.lifecycle import Risk


def _by_family(outcomes, *families):
    return [(s, o) for s, o in outcomes.values() if s.family in families]


def _signal(outcome, name):
    return next(s for s in outcome.signals if s.name == name)


def test_every_corpus_file_gets_the_risk_it_was_made_for(outcomes):
    wrong = {name: (s.expect, o.risk.value, o.reasons) for name, (s, o) in outcomes.items()
             if o.risk.value != s.expect}
    assert wrong == {}


def test_genuine_photos_come_out_low_with_no_evidence(outcomes):
    genuine = _by_family(outcomes, "genuine")
    assert len(genuine) >= 12
    for sample, outcome in genuine:
        assert outcome.risk is Risk.LOW, (sample.name, outcome.reasons)
        assert _signal(outcome, "hash").evidence["matches"] == []
        assert _signal(outcome, "generator_metadata").label == "none"


def test_c2pa_trusted_ai_declaration_is_high_and_names_the_source_and_state(outcomes):
    trusted = _by_family(outcomes, "c2pa_ai_trusted")
    assert len(trusted) == 3
    declared = set()
    for _, outcome in trusted:
        signal = _signal(outcome, "c2pa")
        assert signal.label == "ai_declared" and signal.evidence["state"] == "Trusted"
        declared.update(signal.evidence["digital_source_types"])
        assert any("signature Trusted" in r for r in outcome.reasons)
    assert declared == {"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "algorithmicMedia"}


def test_c2pa_untrusted_signer_is_valid_not_trusted(outcomes):
    _, outcome = outcomes["c2pa_ai_untrusted.jpg"]
    signal = _signal(outcome, "c2pa")
    assert signal.evidence["state"] == "Valid"
    assert "signingCredential.untrusted" in signal.evidence["failure_codes"]


def test_c2pa_tampered_files_are_invalid_with_the_hash_mismatch_code(outcomes):
    for name, risk in (("c2pa_ai_tampered.jpg", Risk.HIGH), ("c2pa_capture_tampered.jpg", Risk.MEDIUM)):
        _, outcome = outcomes[name]
        signal = _signal(outcome, "c2pa")
        assert signal.evidence["state"] == "Invalid"
        assert "assertion.dataHash.mismatch" in signal.evidence["failure_codes"]
        assert outcome.risk is risk


def test_c2pa_capture_manifest_is_low_and_files_without_manifest_say_so(outcomes):
    _, capture = outcomes["c2pa_capture_trusted.jpg"]
    assert capture.risk is Risk.LOW and _signal(capture, "c2pa").label == "no_ai_declared"
    _, plain = outcomes["genuine_00.jpg"]
    assert _signal(plain, "c2pa").label == "no_manifest"


@pytest.mark.parametrize("name, field", [
    ("sd_a1111.png", "parameters"), ("comfyui.png", "prompt"), ("invokeai.png", "invokeai_metadata"),
    ("sd_a1111.jpg", "exif:UserComment")])
def test_generator_parameters_are_found(outcomes, name, field):
    _, outcome = outcomes[name]
    signal = _signal(outcome, "generator_metadata")
    assert signal.label == "generator_parameters"
    assert field in signal.evidence["generator_fields"]
    assert outcome.risk is Risk.HIGH


def test_xmp_digital_source_type_is_found_and_capture_is_not_flagged(outcomes):
    assert _signal(outcomes["xmp_dst.jpg"][1], "generator_metadata").evidence["digital_source_types"] == [
        "trainedAlgorithmicMedia"]
    assert outcomes["xmp_dst.png"][1].risk is Risk.HIGH
    capture = outcomes["camera_capture_xmp.jpg"][1]
    assert capture.risk is Risk.LOW
    assert _signal(capture, "generator_metadata").evidence["digital_source_types"] == ["digitalCapture"]


def test_generator_software_alone_is_medium(outcomes):
    outcome = outcomes["midjourney_software.jpg"][1]
    assert outcome.risk is Risk.MEDIUM and "Midjourney" in outcome.reasons[0]


def test_near_duplicates_of_bank_entries_match_after_recompression_resize_and_crop(outcomes, engine):
    near = _by_family(outcomes, "near_duplicate")
    assert sorted(s.note for s, _ in near) == ["crop3"] * 3 + ["half"] * 3 + ["q60"] * 3
    for _sample, outcome in near:
        match = _signal(outcome, "hash").evidence["matches"][0]
        assert match["kind"] == "perceptual" and match["bank"] == "known_synthetic"
        assert match["distance"] <= engine.config.phash_max_distance
        assert f"distance {match['distance']}" in outcome.reasons[0]


def test_genuine_photos_stay_far_from_the_synthetic_bank(outcomes, corpus):
    from core.domain.hashes import hamming

    bank = [e.phash for e in corpus.bank if e.phash]
    for sample, outcome in _by_family(outcomes, "genuine"):
        ph = _signal(outcome, "hash").evidence["phash"]
        assert min(hamming(ph, b) for b in bank) > 16, sample.name


def test_exact_matches_name_the_entry(outcomes):
    outcome = outcomes["bank_original_0.png"][1]
    assert outcome.reasons[0] == "exact match of known synthetic entry 9000 (corpus)"
    genuine = outcomes["known_genuine.jpg"][1]
    assert genuine.risk is Risk.LOW and "known genuine entry 9100" in genuine.reasons[0]


def test_every_scanned_file_carries_its_sha256_and_phash(outcomes):
    import hashlib

    for name, (sample, outcome) in outcomes.items():
        assert outcome.sha256 == hashlib.sha256(sample.data).hexdigest(), name
        if outcome.risk is not Risk.UNSCANNABLE:
            assert len(_signal(outcome, "hash").evidence["phash"]) == 16
