"""The field lists of the objects the org knows. Each line is `Name type flags`: flags `c` createable,
`u` updateable, `r` required on create, `-` read-only."""

SYSTEM_FIELDS = """
Id id -
IsDeleted boolean -
CreatedDate datetime -
CreatedById reference -
LastModifiedDate datetime -
LastModifiedById reference -
SystemModstamp datetime -
"""
OWNED = "OwnerId reference cu\n"

OBJECTS = {
    "User": ("005", """
Username string cur
FirstName string cu
LastName string cur
Name string -
Email email cur
Alias string cu
Title string cu
Department string cu
IsActive boolean cu
UserType picklist -
"""),
    "Account": ("001", OWNED + """
Name string cur
Type picklist cu
Industry picklist cu
Phone string cu
Website string cu
BillingCity string cu
BillingCountry string cu
AnnualRevenue double cu
Description textarea cu
"""),
    "Contact": ("003", OWNED + """
AccountId reference cu
FirstName string cu
LastName string cur
Name string -
Email email cu
Phone string cu
Title string cu
MailingCity string cu
MailingCountry string cu
Birthdate date cu
"""),
    "Lead": ("00Q", OWNED + """
FirstName string cu
LastName string cur
Name string -
Company string cur
Email email cu
Phone string cu
Status picklist cu
LeadSource picklist cu
"""),
    "Case": ("500", OWNED + """
CaseNumber string -
AccountId reference cu
ContactId reference cu
Subject string cu
Description textarea cu
Status picklist cu
Priority picklist cu
Origin picklist cu
Type picklist cu
IsClosed boolean -
ClosedDate datetime -
"""),
    "Opportunity": ("006", OWNED + """
AccountId reference cu
Name string cur
StageName picklist cur
CloseDate date cur
Amount double cu
Probability double cu
Description textarea cu
"""),
    "Task": ("00T", OWNED + """
Subject string cu
Description textarea cu
Status picklist cu
Priority picklist cu
ActivityDate date cu
WhatId reference cu
WhoId reference cu
"""),
    "ContentVersion": ("068", OWNED + """
ContentDocumentId reference c
Title string cu
PathOnClient string cr
VersionData base64 cr
FirstPublishLocationId reference c
Description textarea cu
ReasonForChange string cu
ContentLocation picklist c
Origin picklist c
SharingOption picklist cu
SharingPrivacy picklist cu
IsLatest boolean -
IsMajorVersion boolean -
VersionNumber string -
ContentSize int -
Checksum string -
FileExtension string -
FileType string -
ContentModifiedDate datetime -
ContentUrl string cu
PublishStatus picklist -
"""),
    "ContentDocument": ("069", OWNED + """
Title string u
Description textarea u
FileType string -
FileExtension string -
ContentSize int -
LatestPublishedVersionId reference -
ParentId reference -
PublishStatus picklist -
SharingOption picklist u
SharingPrivacy picklist u
IsArchived boolean u
ArchivedDate date -
ContentModifiedDate datetime -
"""),
    "ContentDocumentLink": ("06A", """
ContentDocumentId reference cr
LinkedEntityId reference cr
ShareType picklist cu
Visibility picklist cu
"""),
    "ContentWorkspace": ("058", """
Name string cur
Description textarea cu
"""),
    "Organization": ("00D", """
Name string -
IsSandbox boolean -
OrganizationType string -
InstanceName string -
"""),
    "KYC_Check__c": ("a0K", OWNED + """
Name string cu
"""),
    "Media_Verification__c": ("a0M", OWNED + """
Name string cu
"""),
}
