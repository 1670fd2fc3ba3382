"""The product against a strict org where the integration user holds only what salesforce/ ships: it
works; and with one grant taken away, it says precisely what is missing (ingest state, dead letter,
Live page health, `python -m core salesforce check`) instead of quietly ingesting nothing."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from core.adapters.salesforce.gateway import SalesforceGateway
from core.loops import ingest
from core.loops.salesforce_relay import SalesforceRelay
from core.models import IngestState, OutboxEntry
from core.queries.health import health
from core.settings import PROJECT_ROOT, SalesforceFields
from sf_emulator.security import INTEGRATION_PROFILE
from tests.integration.test_salesforce_flows import customer, held, links, scan, upload
from tests.sf import INTEGRATION_USER, settings_for

SHIPPED = Path(PROJECT_ROOT, "salesforce", "force-app", "main", "default", "permissionsets")
FILES = "Response_Desk_File_Access"


def gateway_for(emu, **overrides) -> SalesforceGateway:
    return SalesforceGateway(settings_for(emu, pubsub_address=emu.pubsub_address, **overrides))


def check(emu, tmp_path: Path, fields: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m core salesforce check` as an admin runs it: settings in the secrets file."""
    lines = ["[salesforce]", f'login_url = "{emu.base_url}"', 'auth = "jwt"', f'client_id = "{settings_for(emu).client_id}"',
             f'username = "{INTEGRATION_USER}"', f'private_key_file = "{emu.jwt_private_key_path}"',
             f'ca_bundle = "{emu.ca_path}"', f'pubsub_address = "{emu.pubsub_address}"']
    if fields:
        lines += ["[salesforce.fields]", *(f'{k} = "{v}"' for k, v in fields.items())]
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("\n".join(lines) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SF_", "RD_", "DATABASE_URL"))}
    env.update(RD_SECRETS_FILE=str(secrets), RD_VAR_DIR=str(tmp_path / "var"), PYTHONPATH=str(PROJECT_ROOT))
    return subprocess.run([sys.executable, "-m", "core", "salesforce", "check"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def ingest_error(app) -> str | None:
    with app.db.reader() as s:
        return s.get(IngestState, "salesforce").last_error


def dead_letters(app) -> dict[str, str]:
    with app.db.reader() as s:
        return {e.kind: e.last_error for e in s.execute(select(OutboxEntry).where(OutboxEntry.status == "dead")).scalars()}


def test_the_integration_user_holds_only_the_shipped_permission_sets_and_the_check_passes(emu, tmp_path):
    integration = emu.org.user_by_username(INTEGRATION_USER)["Id"]
    shipped = {p.name.removesuffix(".permissionset-meta.xml") for p in SHIPPED.glob("*.permissionset-meta.xml")}
    assert emu.org.security.profile_of(integration) == INTEGRATION_PROFILE
    assert set(emu.org.security.permission_sets_of(integration)) == shipped - {"Response_Desk_User"}
    result = check(emu, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for step in ("sign-in", "permissions", "fields", "files through records", "write every field",
                 "cut and restore a link", "events", "clean up"):
        assert f"ok           {step}:" in result.stdout
    assert not [v for v in emu.org.records("ContentVersion") if v["PathOnClient"].startswith("response-desk-")]


def test_without_query_all_files_ingest_says_so_instead_of_ingesting_nothing(sqlite_app, emu, tmp_path):
    _, kyc = customer(emu)
    upload(emu, kyc)  # by a KYC analyst: the integration user neither owns it nor is shared it
    emu.org.security.revoke_user_permission(FILES, "QueryAllFiles")
    report = ingest.poll(sqlite_app, gateway_for(emu))
    assert report.registered == []
    problem = ingest_error(sqlite_app)
    assert "lacks Query All Files" in problem and "Response Desk File Access" in problem
    assert health(sqlite_app.db)["last_poll_error"] == problem
    result = check(emu, tmp_path)
    assert result.returncode == 1
    assert "FAIL         permissions: the integration user lacks Query All Files" in result.stdout


def test_without_modify_all_data_the_quarantine_fails_naming_it(sqlite_app, emu, tmp_path):
    _, kyc = customer(emu)
    version = upload(emu, kyc)
    emu.org.security.revoke_user_permission(FILES, "ModifyAllData")
    gw = gateway_for(emu)
    ingest.poll(sqlite_app, gw)
    assert "lacks Modify All Data" in ingest_error(sqlite_app)
    scan(sqlite_app, held(sqlite_app, version).id, "high")
    SalesforceRelay(sqlite_app, gw, owner="relay-test").drain()
    dead = dead_letters(sqlite_app)
    assert "INSUFFICIENT_ACCESS_OR_READONLY" in dead["sf.quarantine"] and "Modify All Data" in dead["sf.quarantine"]
    document = emu.org.get(version)["ContentDocumentId"]
    assert (kyc, "V", "AllUsers") in links(emu, document)  # nothing was cut
    assert emu.org.get(version)["RD_Verification_Status__c"] != "Quarantined"
    assert "Modify All Data" in health(sqlite_app.db)["latest_dead_letter"]
    result = check(emu, tmp_path)
    assert result.returncode == 1 and "lacks Modify All Data" in result.stdout


def test_without_field_level_security_on_one_written_field_the_write_back_fails_naming_it(sqlite_app, emu, tmp_path):
    _, kyc = customer(emu)
    version = upload(emu, kyc)
    emu.org.security.set_field_permission("Response_Desk_Integration", "ContentVersion.RD_Risk__c",
                                          read=False, edit=False)
    gw = gateway_for(emu)
    ingest.poll(sqlite_app, gw)
    assert "ContentVersion.RD_Risk__c is not deployed, misspelt in [salesforce.fields], or hidden" \
        in ingest_error(sqlite_app)
    scan(sqlite_app, held(sqlite_app, version).id, "low")
    SalesforceRelay(sqlite_app, gw, owner="relay-test").drain()
    refused = dead_letters(sqlite_app)["sf.writeback"]
    assert "INVALID_FIELD" in refused and "ContentVersion.RD_Risk__c" in refused and "field-level security" in refused
    assert emu.org.get(version)["RD_Verification_Status__c"] != "Verified"
    result = check(emu, tmp_path)
    assert result.returncode == 1
    assert "FAIL         fields: ContentVersion.RD_Risk__c is not deployed" in result.stdout
    assert "FAIL         write every field: HTTP 400: INVALID_FIELD: No such column 'RD_Risk__c'" in result.stdout


def test_a_misspelt_field_in_the_settings_is_named(sqlite_app, emu, tmp_path):
    fields = SalesforceFields(sha256="RD_SHA_256__c")
    gw = gateway_for(emu, fields=fields)
    ingest.poll(sqlite_app, gw)
    assert "ContentVersion.RD_SHA_256__c is not deployed, misspelt" in ingest_error(sqlite_app)
    assert "RD_Media_Verification__c.RD_SHA_256__c is not deployed" in ingest_error(sqlite_app)
    result = check(emu, tmp_path, fields={"sha256": "RD_SHA_256__c"})
    assert result.returncode == 1 and "ContentVersion.RD_SHA_256__c is not deployed" in result.stdout


def test_a_connected_app_that_does_not_pre_authorise_the_user_is_named_at_sign_in(emu, tmp_path):
    emu.org.security.unassign(emu.org.user_by_username(INTEGRATION_USER)["Id"], "Response_Desk_Integration")
    result = check(emu, tmp_path)
    assert result.returncode == 1
    assert "FAIL         sign-in: Salesforce sign-in (jwt) refused: invalid_grant: user hasn't approved this " \
           "consumer (the connected app must say Admin approved users are pre-authorized" in result.stdout
