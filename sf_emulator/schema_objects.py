"""The standard objects the org knows, and the firm's own objects that are not in the project's metadata.

Each field line is `Name type flags`: flags `c` createable, `u` updateable, `r` required on create, `-` read-only.
A type may carry its length `string(80)`, a restricted picklist's values `picklist(N|P)`, a number's
precision and scale `double(18,2)` or a reference's target `reference(Account)`. The project's own fields
and objects (salesforce/force-app) are deployed on top of these by sf_emulator.metadata."""

SYSTEM_FIELDS = """
Id id -
IsDeleted boolean -
CreatedDate datetime -
CreatedById reference(User) -
LastModifiedDate datetime -
LastModifiedById reference(User) -
SystemModstamp datetime -
"""
# ContentDocumentLink has no created/modified audit fields, only a modstamp; UserPermissionAccess only an Id.
LINK_SYSTEM = ("Id", "IsDeleted", "SystemModstamp")
ID_ONLY = ("Id",)
OWNED = "OwnerId reference(User) cu\n"

# Record sharing, the org-wide default of each object: Private (owner only), Read (everyone reads),
# ReadWrite, ControlledByParent (see PARENTS), Files (the Files rules in sf_emulator.access), Self.
# Org-wide defaults are the firm's choice (Setup > Sharing Settings): a wealth firm keeps client data
# Private. Custom objects deployed from the metadata bring their own <sharingModel>.
SHARING = {"User": "Read", "Organization": "Read", "ContentWorkspace": "Read", "Account": "Private",
           "Contact": "ControlledByParent", "Lead": "Private", "Case": "Private", "Opportunity": "Private",
           "Task": "ControlledByParent", "KYC_Check__c": "Private", "ContentVersion": "Files",
           "ContentDocument": "Files", "ContentDocumentLink": "Files", "ContentDistribution": "Files",
           "UserPermissionAccess": "Self"}
PARENTS = {"Contact": "AccountId", "Task": "WhatId"}

# Standard fields that field-level security governs in this emulator (custom fields always are):
# the optional Case fields the product writes. Every other standard field is visible to every user
# with access to its object, a simplification noted in sf_emulator/README.md.
FLS_STANDARD = {"Case": {"subject", "description", "origin", "priority", "type"}}

# The user permissions UserPermissionAccess reports (Permissions<Name>) and permission sets may grant.
USER_PERMISSIONS = ("ApiEnabled", "ApiUserOnly", "EmailSingle", "ViewSetup", "ViewAllData", "ModifyAllData",
                    "QueryAllFiles", "DistributeFromPersWksp", "ManageUsers", "CustomizeApplication")

OBJECTS = {
    "User": ("005", """
Username string(80) cur
FirstName string(40) cu
LastName string(80) cur
Name string(121) -
Email email(128) cur
Alias string(8) cu
Title string(80) cu
Department string(80) cu
IsActive boolean cu
UserType picklist -
"""),
    "Account": ("001", OWNED + """
Name string(255) cur
Type picklist cu
Industry picklist cu
Phone string(40) cu
Website string(255) cu
BillingCity string(40) cu
BillingCountry string(80) cu
AnnualRevenue double(18,0) cu
Description textarea(32000) cu
IsPersonAccount boolean cu
PersonContactId reference(Contact) cu
"""),
    "Contact": ("003", OWNED + """
AccountId reference(Account) cu
FirstName string(40) cu
LastName string(80) cur
Name string(121) -
Email email(80) cu
Phone string(40) cu
Title string(128) cu
MailingCity string(40) cu
MailingCountry string(80) cu
Birthdate date cu
"""),
    "Lead": ("00Q", OWNED + """
FirstName string(40) cu
LastName string(80) cur
Name string(121) -
Company string(255) cur
Email email(80) cu
Phone string(40) cu
Status picklist cu
LeadSource picklist cu
"""),
    "Case": ("500", OWNED + """
CaseNumber string(30) -
AccountId reference(Account) cu
ContactId reference(Contact) cu
Subject string(255) cu
Description textarea(32000) cu
Status picklist cu
Priority picklist cu
Origin picklist cu
Type picklist cu
IsClosed boolean -
ClosedDate datetime -
"""),
    "Opportunity": ("006", OWNED + """
AccountId reference(Account) cu
Name string(120) cur
StageName picklist cur
CloseDate date cur
Amount double(16,2) cu
Probability double(3,0) cu
Description textarea(32000) cu
"""),
    "Task": ("00T", OWNED + """
Subject string(255) cu
Description textarea(32000) cu
Status picklist cu
Priority picklist cu
ActivityDate date cu
WhatId reference cu
WhoId reference cu
"""),
    "ContentVersion": ("068", OWNED + """
ContentDocumentId reference(ContentDocument) c
Title string(255) cu
PathOnClient string(500) cr
VersionData base64 cr
FirstPublishLocationId reference c
Description textarea(1000) cu
ReasonForChange string(1000) cu
ContentLocation picklist(S|E|L) c
Origin picklist(C|H) c
SharingOption picklist(A|R) cu
SharingPrivacy picklist(N|P) cu
IsLatest boolean -
IsMajorVersion boolean -
VersionNumber string(20) -
ContentSize int -
Checksum string(50) -
FileExtension string(40) -
FileType string(20) -
ContentModifiedDate datetime -
ContentUrl string(1300) cu
PublishStatus picklist -
"""),
    "ContentDocument": ("069", OWNED + """
Title string(255) u
Description textarea(1000) u
FileType string(20) -
FileExtension string(40) -
ContentSize int -
LatestPublishedVersionId reference(ContentVersion) -
ParentId reference -
PublishStatus picklist -
SharingOption picklist(A|R) u
SharingPrivacy picklist(N|P) u
IsArchived boolean u
ArchivedDate date -
ContentModifiedDate datetime -
"""),
    "ContentDocumentLink": ("06A", """
ContentDocumentId reference(ContentDocument) cr
LinkedEntityId reference cr
ShareType picklist(V|C|I) cu
Visibility picklist(AllUsers|InternalUsers|SharedUsers) cu
"""),
    # Public links to a file version (Object Reference: ContentDistribution, API 32.0 and later).
    "ContentDistribution": ("05D", OWNED + """
Name string(100) cur
ContentVersionId reference(ContentVersion) cr
ContentDocumentId reference(ContentDocument) -
RelatedRecordId reference c
DistributionPublicUrl string(256) -
ContentDownloadUrl string(256) -
PdfDownloadUrl string(256) -
Password string(36) -
ExpiryDate datetime cu
PreferencesAllowViewInBrowser boolean cu
PreferencesAllowOriginalDownload boolean cu
PreferencesAllowPDFDownload boolean cu
PreferencesLinkLatestVersion boolean cu
PreferencesNotifyOnVisit boolean cu
PreferencesPasswordRequired boolean cu
PreferencesExpires boolean cu
ViewCount int -
FirstViewDate datetime -
LastViewDate datetime -
"""),
    "ContentWorkspace": ("058", """
Name string(255) cur
Description textarea(500) cu
"""),
    "Organization": ("00D", """
Name string(80) -
IsSandbox boolean -
OrganizationType string(40) -
InstanceName string(5) -
"""),
    # The current user's permissions (Object Reference: UserPermissionAccess, API 41.0 and later).
    "UserPermissionAccess": ("0Ug", "LastCacheUpdate datetime -\n" + "".join(
        f"Permissions{name} boolean -\n" for name in USER_PERMISSIONS)),
    # The firm's own KYC object: in the org before Response Desk arrives, so not in salesforce/.
    "KYC_Check__c": ("a0K", OWNED + """
Name string(80) cu
Account__c reference(Account) cu
Contact__c reference(Contact) cu
Status__c picklist cu
"""),
}
SYSTEM_SUBSET = {"ContentDocumentLink": LINK_SYSTEM, "UserPermissionAccess": ID_ONLY}
