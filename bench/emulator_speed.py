"""The strict emulator's speed on the calls the product makes most, as the integration user over HTTPS:
1,000 files listed, files read by id, verdicts written in collections of 200, links of 200 files read.
Every call runs the permission, field-level security and sharing checks.

    .venv/bin/python bench/emulator_speed.py [--files 1000]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simple_salesforce import Salesforce

from sf_emulator import run_emulator
from sf_emulator.seed import CONSUMER_KEY, CONSUMER_SECRET, DOMAIN


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    files = parser.parse_args().files
    with run_emulator(seed="empty") as emu:
        kyc = emu.org.create("KYC_Check__c", {"Name": "KYC-1"}, user_id=emu.org.user_by_username(f"kyc.morgan@{DOMAIN}")["Id"])
        versions = [emu.upload_file(username=f"kyc.morgan@{DOMAIN}", record_id=kyc, path_on_client=f"f{n}.jpg",
                                    data=b"x" * 100) for n in range(files)]
        http = emu.http_session()
        token = http.post(f"{emu.base_url}/services/oauth2/token", data=dict(
            grant_type="client_credentials", client_id=CONSUMER_KEY, client_secret=CONSUMER_SECRET)).json()
        sf = Salesforce(instance_url=token["instance_url"], session_id=token["access_token"], session=http,
                        version="62.0")
        listed = timed(lambda: sf.query_all("SELECT Id, ContentDocumentId, Title, SystemModstamp FROM ContentVersion "
                                            "WHERE IsLatest = true"))
        by_id = statistics.median(timed(lambda v=v: sf.query(f"SELECT Id FROM ContentVersion WHERE Id = '{v}'"))
                                  for v in versions[:200])
        written = timed(lambda: [sf.restful("composite/sobjects", method="PATCH", json={"records": [
            {"attributes": {"type": "ContentVersion"}, "Id": v, "RD_Risk__c": "low", "RD_Score__c": 0.1}
            for v in versions[start:start + 200]]}) for start in range(0, files, 200)])
        documents = ",".join(f"'{emu.org.get(v)['ContentDocumentId']}'" for v in versions[:200])
        links = timed(lambda: sf.query(f"SELECT Id, LinkedEntityId, LinkedEntity.Type, ShareType FROM "
                                       f"ContentDocumentLink WHERE ContentDocumentId IN ({documents})"))
    print(f"list {files} files: {listed:.0f} ms")
    print(f"write verdicts on {files} files, 200 a call: {written:.0f} ms")
    print(f"links of 200 files: {links:.0f} ms")
    print(f"query_by_id_median_ms={by_id:.1f}")


if __name__ == "__main__":
    main()
