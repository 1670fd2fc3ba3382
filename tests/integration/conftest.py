import pytest

from core.adapters.salesforce.gateway import SalesforceGateway
from sf_emulator import run_emulator
from tests.sf import deploy_metadata, settings_for


@pytest.fixture
def emu():
    with run_emulator(seed="empty") as emulator:
        deploy_metadata(emulator)
        yield emulator


@pytest.fixture
def gateway(emu) -> SalesforceGateway:
    return SalesforceGateway(settings_for(emu))
