"""Seeds: `empty` (the org, its users, a connected app, a quarantine library) and `demo` (a small
wealth-management firm's CRM with KYC checks and attached files). Deterministic for a given seed."""
from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw

from .ids import checksum_suffix
from .org import Org
from .security import ADMIN_PROFILE, INTEGRATION_PROFILE, STANDARD_PROFILE

ORG_ID_15 = "00D5g00000RDesk"
CONSUMER_KEY = "3MVG9ResponseDeskEmulator.DemoConnectedApp"
CONSUMER_SECRET = "emulator-demo-consumer-secret"
DEMO_PASSWORD = "Emulator-Pass-1"
DEMO_SECURITY_TOKEN = "EMULATORTOKEN"
DOMAIN = "harborvale.example"
USERS = [  # username prefix, first, last, title
    ("integration", "Response Desk", "Integration", "Integration User"),
    ("admin", "Priya", "Natarajan", "Salesforce Administrator"),
    ("kyc.morgan", "Morgan", "Lee", "KYC Analyst"),
    ("kyc.sam", "Sam", "Okafor", "KYC Analyst"),
    ("kyc.ines", "Ines", "Duarte", "Senior KYC Analyst"),
    ("advisor.ruth", "Ruth", "Castellano", "Wealth Advisor"),
    ("advisor.tomas", "Tomas", "Brandt", "Wealth Advisor"),
    ("advisor.aiko", "Aiko", "Tanaka", "Private Banker"),
    ("advisor.kwame", "Kwame", "Mensah", "Relationship Manager"),
]
# What each user holds: the integration user only the project's own permission sets on a minimal profile,
# as salesforce/README.md tells an admin to set it up; uploaders the read-only one.
INTEGRATION_PERMISSION_SETS = ("Response_Desk_Integration", "Response_Desk_File_Access")
ACCESS = {"integration": (INTEGRATION_PROFILE, INTEGRATION_PERMISSION_SETS), "admin": (ADMIN_PROFILE, ()),
          "kyc": (STANDARD_PROFILE, ("Response_Desk_User",)), "advisor": (STANDARD_PROFILE, ("Response_Desk_User",))}


def seed(org: Org, kind: str, *, rng_seed: int = 20261129) -> None:
    if kind not in ("empty", "demo"):
        raise ValueError(f"unknown seed {kind!r}; use 'empty' or 'demo'")
    with org.store.transaction():
        seed_empty(org)
        if kind == "demo":
            org.events.deploy_upload_trigger()  # the demo org has the shipped metadata deployed
            seed_demo(org, random.Random(rng_seed))


def seed_empty(org: Org) -> None:
    org_id = ORG_ID_15 + checksum_suffix(ORG_ID_15)
    org.store.set_meta("org_id", org_id)
    org.store.put("Organization", {
        "attributes": {"type": "Organization"}, "Id": org_id, "Name": "Harbor & Vale Wealth (emulated)",
        "IsSandbox": False, "OrganizationType": "Enterprise Edition", "InstanceName": "EMU1", "IsDeleted": False,
        "CreatedDate": None, "CreatedById": None, "LastModifiedDate": None, "LastModifiedById": None,
        "SystemModstamp": None})
    for prefix, first, last, title in USERS:
        user_id = org.add_user(f"{prefix}@{DOMAIN}", first, last, title=title, password=DEMO_PASSWORD,
                               security_token=DEMO_SECURITY_TOKEN)
        if prefix == "integration":
            org.store.set_meta("integration_user_id", user_id)
            org.store.put("User", {**org.store.get(user_id), "CreatedById": user_id, "LastModifiedById": user_id})
    org.add_connected_app(CONSUMER_KEY, CONSUMER_SECRET, run_as_username=f"integration@{DOMAIN}")
    grant_access(org)
    org.create("ContentWorkspace", {"Name": "Response Desk Quarantine",
                                    "Description": "Restricted library for files under review"})


def grant_access(org: Org) -> None:
    """Each seeded user's profile and permission sets, and the connected app's policy: also for an org
    kept (--db) from before the emulator had permissions."""
    for prefix, *_ in USERS:
        profile, sets = ACCESS[prefix.split(".")[0]]
        org.security.assign(org.user_by_username(f"{prefix}@{DOMAIN}")["Id"], profile=profile,
                            permission_sets=tuple(n for n in sets if n in org.security.permission_sets))
    # salesforce/README.md, "The connected app": admin approved users are pre-authorised, through the
    # Response Desk Integration permission set.
    org.update_connected_app(CONSUMER_KEY, policy="admin_approved", permission_sets=["Response_Desk_Integration"])


def user_ids(org: Org, role: str) -> list[str]:
    return [u["Id"] for u in org.records("User") if u["Username"].startswith(role)]


_FIRST = ["Olivia", "Liam", "Amara", "Noah", "Sofia", "Mateo", "Hana", "Elias", "Zara", "Lucas", "Maya",
          "Omar", "Ivy", "Felix", "Nora", "Arjun", "Clara", "Jonas", "Leila", "Hugo"]
_LAST = ["Whitfield", "Abara", "Lindqvist", "Moreau", "Haddad", "Kowalski", "Sato", "Fernandes", "Okoye",
         "Bergström", "Vance", "Rahman", "Novak", "Achterberg", "Delacroix", "Quinn", "Iyer", "Romano"]
_FIRMS = ["Holdings", "Family Office", "Capital Partners", "Trust", "Ventures", "Foundation"]
_INDUSTRIES = ["Finance", "Technology", "Healthcare", "Real Estate", "Energy", "Manufacturing"]
_CITIES = [("Zurich", "Switzerland"), ("London", "United Kingdom"), ("Singapore", "Singapore"),
           ("New York", "United States"), ("Frankfurt", "Germany"), ("Dubai", "United Arab Emirates")]


def seed_demo(org: Org, rng: random.Random) -> None:
    advisors, analysts = user_ids(org, "advisor"), user_ids(org, "kyc")
    accounts = []
    for n in range(20):
        city, country = rng.choice(_CITIES)
        name = f"{rng.choice(_LAST)} {rng.choice(_FIRMS)}" if n % 3 else f"{rng.choice(_LAST)} Household"
        accounts.append(org.create("Account", {
            "Name": name, "Type": rng.choice(["Customer - Direct", "Prospect"]), "BillingCity": city,
            "Industry": rng.choice(_INDUSTRIES), "BillingCountry": country, "OwnerId": rng.choice(advisors),
            "AnnualRevenue": rng.randrange(2, 400) * 100000}))
    contacts = []
    for n in range(40):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        contacts.append(org.create("Contact", {
            "AccountId": accounts[n % 20], "FirstName": first, "LastName": last, "Title": rng.choice(
                ["Principal", "Beneficiary", "Trustee", "CFO", "Director"]),
            "Email": f"{first}.{last}{n}@client.example".lower(), "OwnerId": rng.choice(advisors)}))
    make_person_accounts(org, accounts, contacts)
    for _ in range(8):
        org.create("Lead", {"FirstName": rng.choice(_FIRST), "LastName": rng.choice(_LAST),
                            "Company": f"{rng.choice(_LAST)} {rng.choice(_FIRMS)}",
                            "Status": rng.choice(["Open - Not Contacted", "Working - Contacted"]),
                            "LeadSource": rng.choice(["Referral", "Web", "Event"])})
    for n in range(6):
        org.create("Case", {"AccountId": accounts[n * 3], "ContactId": contacts[n * 3], "Origin": "Web",
                            "Subject": rng.choice(["Address change", "Beneficiary update", "Document request"]),
                            "Status": "New", "Priority": "Medium"})
        org.create("Opportunity", {"AccountId": accounts[n * 3 + 1], "Name": f"Portfolio mandate {n + 1}",
                                   "StageName": rng.choice(["Prospecting", "Proposal/Price Quote"]),
                                   "CloseDate": f"2026-{rng.randrange(1, 13):02d}-15",
                                   "Amount": rng.randrange(5, 90) * 100000})
    checks = []
    for n in range(12):
        checks.append(org.create("KYC_Check__c", {
            "Name": f"KYC-{n + 1:04d}", "Account__c": accounts[n], "Contact__c": contacts[n],
            "Status__c": rng.choice(["Pending Documents", "In Review", "Approved"]),
            "OwnerId": rng.choice(analysts)}))
    uploaders = advisors + analysts
    for n, record_id in enumerate(checks[:6] + accounts[:3] + contacts[:3]):
        kind = "jpg" if n % 2 == 0 else "png"
        label = ["passport", "id_card", "proof_of_address", "selfie"][n % 4]
        org.upload_file(user_id=rng.choice(uploaders), record_id=record_id, path_on_client=f"{label}_{n + 1}.{kind}",
                        data=sample_image(rng, kind))


PERSON_ACCOUNTS = (1, 4)  # private clients: one person who is both the account and its contact


def make_person_accounts(org: Org, accounts: list[str], contacts: list[str]) -> None:
    """Accounts 1 and 4 become person accounts of their first contact (IsPersonAccount, PersonContactId),
    whose second contact moves to the next account: the demo's files then reach a person through
    the account, the contact and a KYC check, and incidents must count that person once."""
    for n in PERSON_ACCOUNTS:
        person = org.get(contacts[n])
        org.update(accounts[n], {"Name": f"{person['FirstName']} {person['LastName']}", "IsPersonAccount": True,
                                 "PersonContactId": contacts[n], "Type": "Customer - Direct"})
        org.update(contacts[n + 20], {"AccountId": accounts[n + 1]})
    for n, account in enumerate(accounts):
        if n not in PERSON_ACCOUNTS:
            org.update(account, {"IsPersonAccount": False})


def sample_image(rng: random.Random, kind: str = "jpg", size: tuple[int, int] = (96, 64)) -> bytes:
    """A small deterministic picture, made at run time (no downloads)."""
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.rectangle([x, y, x + rng.randrange(8, 40), y + rng.randrange(8, 30)],
                       fill=tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG" if kind == "jpg" else "PNG")
    return buffer.getvalue()

