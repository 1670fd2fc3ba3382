"""The rules of event-driven ingest that need no org: the poll's cadence, the ingest settings, and the
platform event's definition agreeing across the metadata, the subscriber, the emulator and the admin's
README."""
import pytest
from defusedxml import ElementTree

from core.adapters.salesforce import pubsub
from core.domain.polling import PollCadence
from core.settings import PROJECT_ROOT, IngestSettings, SettingsError, load_settings
from sf_emulator.eventbus import FILE_UPLOADED, load_schema

EVENT_DIR = PROJECT_ROOT / "salesforce" / "force-app" / "main" / "default" / "objects" / FILE_UPLOADED
NS = "{http://soap.sforce.com/2006/04/metadata}"


def test_quiet_polls_double_the_wait_up_to_the_ceiling_while_events_flow():
    cadence = PollCadence(fast_s=5, idle_max_s=600)
    waits = [cadence.after_poll(found_new=False, events_flowing=True) for _ in range(9)]
    assert waits == [10, 20, 40, 80, 160, 320, 600, 600, 600]


def test_a_find_or_a_subscription_that_is_down_brings_the_fast_interval_back():
    cadence = PollCadence(fast_s=5, idle_max_s=600)
    for _ in range(6):
        cadence.after_poll(found_new=False, events_flowing=True)
    assert cadence.after_poll(found_new=True, events_flowing=True) == 5
    for _ in range(6):
        cadence.after_poll(found_new=False, events_flowing=True)
    assert cadence.after_poll(found_new=False, events_flowing=False) == 5
    assert cadence.after_poll(found_new=False, events_flowing=False) == 5, "no backing off without events"


def test_the_cadence_refuses_a_ceiling_below_the_fast_interval():
    with pytest.raises(ValueError):
        PollCadence(fast_s=10, idle_max_s=5)
    with pytest.raises(SettingsError):
        IngestSettings(poll_fast_s=0)


def test_ingest_settings_load_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RD_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RD_SECRETS_FILE", str(tmp_path / "none.toml"))
    monkeypatch.setenv("RD_AUDIT_KEY", "test-audit-key-not-a-secret-0123456789")
    assert load_settings().ingest == IngestSettings()
    for key, value in {"RD_INGEST_EVENTS": "off", "RD_POLL_FAST_S": "2", "RD_POLL_IDLE_MAX_S": "120",
                       "RD_EVENTS_RECONNECT_MAX_S": "30", "RD_EVENT_BATCH": "50"}.items():
        monkeypatch.setenv(key, value)
    assert load_settings().ingest == IngestSettings(events=False, poll_fast_s=2, poll_idle_max_s=120,
                                                    reconnect_max_s=30, event_batch=50)


def _field_names() -> set[str]:
    return {p.name.split(".")[0] for p in (EVENT_DIR / "fields").glob("*.field-meta.xml")}


def test_the_upload_event_is_published_after_commit_with_the_fields_the_worker_reads():
    root = ElementTree.parse(EVENT_DIR / f"{FILE_UPLOADED}.object-meta.xml").getroot()
    assert root.findtext(f"{NS}publishBehavior") == "PublishAfterCommit"
    assert root.findtext(f"{NS}eventType") == "HighVolume"
    read = {pubsub.VERSION_FIELD, pubsub.DOCUMENT_FIELD, pubsub.RECORD_FIELD, pubsub.UPLOADER_FIELD}
    assert read == _field_names()
    assert pubsub.FILE_UPLOADED_TOPIC == f"/event/{FILE_UPLOADED}"


def test_the_emulator_builds_the_event_schema_from_the_same_metadata():
    schema = load_schema(FILE_UPLOADED)
    assert set(schema.fields) == _field_names()
    assert load_schema(FILE_UPLOADED).schema_id == schema.schema_id, "the same fields give the same schema id"


def test_the_admin_readme_names_every_field_of_the_upload_event():
    readme = (PROJECT_ROOT / "salesforce" / "README.md").read_text()
    assert FILE_UPLOADED in readme and "PublishAfterCommit" in readme
    assert all(f"`{name}`" in readme for name in _field_names())
