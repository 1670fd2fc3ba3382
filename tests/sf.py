"""Connecting the product to the local Salesforce emulator in tests."""
from __future__ import annotations

from core.settings import SalesforceSettings
from sf_emulator.seed import CONSUMER_KEY, CONSUMER_SECRET, DEMO_PASSWORD, DEMO_SECURITY_TOKEN, DOMAIN

INTEGRATION_USER = f"integration@{DOMAIN}"


def settings_for(emu, auth: str = "jwt", **overrides) -> SalesforceSettings:
    common = dict(login_url=emu.base_url, client_id=CONSUMER_KEY, ca_bundle=str(emu.ca_path), timeout_s=10,
                  pubsub_address=emu.pubsub_address)
    if auth == "jwt":
        common.update(username=INTEGRATION_USER, private_key_file=str(emu.jwt_private_key_path))
    elif auth == "password":
        common.update(client_secret=CONSUMER_SECRET, username=INTEGRATION_USER, password=DEMO_PASSWORD,
                      security_token=DEMO_SECURITY_TOKEN)
    else:
        common.update(client_secret=CONSUMER_SECRET)
    common.update(overrides)
    return SalesforceSettings(auth=auth, **common)


def deploy_metadata(emu) -> None:
    """What an admin does once with salesforce/ beyond the fields, objects and permission sets the emulator
    deploys at start: the upload trigger publishes RD_File_Uploaded__e."""
    emu.org.events.deploy_upload_trigger()
