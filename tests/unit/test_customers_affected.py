""""Customers affected": one rule (core.domain.incidents.affected_customers) over the lookups ingest reads
with each link (core.domain.records.CUSTOMER_FIELDS): each customer counted once however many of their
records a file touched."""
from core.domain.incidents import affected_customers


def link(rid: str, rtype: str, name: str, **lookups) -> dict:
    return {"entity_id": rid, "entity_type": rtype, "entity_name": name, **lookups}


PERSON = link("001P", "Account", "Mara Achterberg", is_person_account=True, person_contact_id="003P")
PERSON_CONTACT = link("003P", "Contact", "Mara Achterberg", account_id="001P", account_name="Mara Achterberg",
                      account_is_person=True)
BUSINESS = link("001B", "Account", "Okafor Holdings", is_person_account=False)
BUSINESS_CONTACTS = [link(f"003B{n}", "Contact", f"Director {n}", account_id="001B", account_name="Okafor Holdings",
                          account_is_person=False) for n in (1, 2)]
LONE_CONTACT = link("003L", "Contact", "Ivy Quinn")


def test_a_person_account_its_contact_and_a_check_naming_either_are_one_customer():
    affected = affected_customers({
        1: [PERSON], 2: [PERSON_CONTACT],
        3: [link("a0K1", "KYC_Check__c", "KYC-0001", contact_id="003P", contact_name="Mara Achterberg")]})
    assert affected["customer_count"] == 1 and affected["record_count"] == 3
    [mara] = affected["customers"]
    assert (mara["id"], mara["kind"], mara["name"], mara["items"]) == ("001P", "Person account", "Mara Achterberg",
                                                                        [1, 2, 3])


def test_contacts_of_a_business_account_count_as_that_customer_and_a_lone_contact_as_its_own():
    affected = affected_customers({
        1: [BUSINESS, *BUSINESS_CONTACTS],
        2: [link("a0K2", "KYC_Check__c", "KYC-0002", account_id="001B", contact_id="003B1")],
        3: [LONE_CONTACT, link("006X", "Opportunity", "Mandate without an account")]})
    assert [(c["name"], c["kind"]) for c in affected["customers"]] == [("Ivy Quinn", "Contact"),
                                                                        ("Okafor Holdings", "Business account")]
    assert affected["customer_count"] == len(affected["customers"]) == 2
    assert affected["record_count"] == 6  # the opportunity names no customer: a record, not a customer
    assert affected["customers"][1]["records"] == ["Okafor Holdings", "Director 1", "Director 2", "KYC-0002"]


def test_a_record_naming_only_an_account_that_no_file_touched_still_names_that_customer():
    affected = affected_customers({1: [link("a0K3", "KYC_Check__c", "KYC-0003", Account__c="001Z")]})
    assert [(c["id"], c["name"]) for c in affected["customers"]] == [("001Z", "Account 001Z")]
