"""Who may do what in the org: profiles, permission sets and their assignment to users, and which
users a connected app lets sign in.

A user's access is the union of its profile and its permission sets ("Permission Sets", Salesforce
Help: https://help.salesforce.com/s/articleView?id=platform.perm_sets_overview.htm). The permission
sets are the project's own (salesforce/force-app/.../permissionsets), deployed; the profiles are the
three an org of this kind has. Assignments live in the store; a test may narrow a permission set to
see how the product copes (the change lasts until the emulator restarts)."""
from __future__ import annotations

from dataclasses import dataclass

from .metadata import Deployment, ObjectAccess, PermissionSet
from .store import RecordStore

ADMIN_PROFILE = "System Administrator"
STANDARD_PROFILE = "Standard User"
# Salesforce's profile for integration users on the Salesforce Integration licence: API access, no data.
INTEGRATION_PROFILE = "Minimum Access - API Only Integrations"
_CRM_OBJECTS = ("account", "contact", "lead", "case", "opportunity", "task", "kyc_check__c")


def builtin_profiles() -> dict[str, PermissionSet]:
    full = ObjectAccess(read=True, create=True, edit=True, delete=True)
    return {
        ADMIN_PROFILE: PermissionSet(ADMIN_PROFILE, ADMIN_PROFILE, profile=True, all_fields_of={"*"}, user_permissions={
            "ApiEnabled", "ViewSetup", "ViewAllData", "ModifyAllData", "QueryAllFiles", "DistributeFromPersWksp",
            "ManageUsers", "CustomizeApplication", "EmailSingle"}),
        STANDARD_PROFILE: PermissionSet(STANDARD_PROFILE, STANDARD_PROFILE, profile=True,
                                        user_permissions={"ApiEnabled", "EmailSingle", "DistributeFromPersWksp"},
                                        objects={name: full for name in _CRM_OBJECTS}, all_fields_of=set(_CRM_OBJECTS)),
        # The firm made KYC_Check__c's fields in Setup, whose wizard shows a new field to every profile
        # unless the admin unticks it; fields deployed from metadata come with no profile access at all.
        INTEGRATION_PROFILE: PermissionSet(INTEGRATION_PROFILE, INTEGRATION_PROFILE, profile=True,
                                           user_permissions={"ApiEnabled", "ApiUserOnly"},
                                           all_fields_of={"kyc_check__c"}),
    }


@dataclass(frozen=True)
class Grants:
    """One user's effective permissions: its profile and permission sets together."""

    user_permissions: frozenset[str]
    objects: dict[str, ObjectAccess]
    fields: dict[str, tuple[bool, bool]]
    all_fields_of: frozenset[str]
    custom_permissions: frozenset[str]

    @property
    def modify_all_data(self) -> bool:
        return "ModifyAllData" in self.user_permissions

    @property
    def view_all_data(self) -> bool:
        # Modify All Data includes View All Data ("'View All' and 'Modify All' Permissions Overview",
        # https://help.salesforce.com/s/articleView?id=platform.users_profiles_view_all_mod_all.htm).
        return self.modify_all_data or "ViewAllData" in self.user_permissions

    @property
    def query_all_files(self) -> bool:
        # Query All Files requires View All Data ("Control access to content files and objects via API
        # queries with the Query All Files...", https://help.salesforce.com/s/articleView?id=experience.collab_files_query.htm).
        return "QueryAllFiles" in self.user_permissions and self.view_all_data

    def object_access(self, obj: str) -> ObjectAccess:
        """View All Data reads and Modify All Data changes every object's records, sharing aside (same page)."""
        granted = self.objects.get(obj.lower(), ObjectAccess())
        if self.modify_all_data:
            return ObjectAccess(True, True, True, True, True, True)
        if self.view_all_data:
            return ObjectAccess(True, granted.create, granted.edit, granted.delete, True, granted.modify_all)
        return granted

    def field_access(self, obj: str, field: str, deployed: bool) -> tuple[bool, bool]:
        """(read, edit) by field-level security. View All Data and Modify All Data do not grant it:
        such users "must still be assigned field permissions" (the 'View All' and 'Modify All' page).
        A profile that grants all fields of an object grants the fields it was built with, not the
        ones deployed later from metadata: those come with the permission sets that name them."""
        read, edit = self.fields.get(f"{obj}.{field}".lower(), (False, False))
        everything = not deployed and ("*" in self.all_fields_of or obj.lower() in self.all_fields_of)
        return read or everything, edit or everything


class Security:
    def __init__(self, store: RecordStore):
        self.store = store
        self.profiles = builtin_profiles()
        self.permission_sets: dict[str, PermissionSet] = {}
        self.custom_permissions: set[str] = set()
        self.deployed_fields: set[str] = set()
        self._grants: dict[str, Grants] = {}

    def deploy(self, deployment: Deployment) -> None:
        self.permission_sets.update(deployment.permission_sets)
        self.custom_permissions |= deployment.custom_permissions
        self.deployed_fields |= {f"{obj}.{f.name}".lower() for obj, fields in deployment.fields.items() for f in fields}
        self.changed()

    def changed(self) -> None:
        self._grants.clear()

    # assignments
    def assign(self, user_id: str, *, profile: str | None = None, permission_sets: tuple[str, ...] = ()) -> None:
        unknown = [n for n in permission_sets if n not in self.permission_sets]
        if unknown or (profile and profile not in self.profiles):
            raise KeyError(f"no such permission set or profile: {unknown or profile}")
        with self.store.transaction():
            assignments = dict(self.store.meta("assignments", {}))
            mine = dict(assignments.get(user_id, {"profile": STANDARD_PROFILE, "permission_sets": []}))
            mine["profile"] = profile or mine["profile"]
            mine["permission_sets"] = sorted(set(mine["permission_sets"]) | set(permission_sets))
            assignments[user_id] = mine
            self.store.set_meta("assignments", assignments)
        self.changed()

    def unassign(self, user_id: str, permission_set: str) -> None:
        with self.store.transaction():
            assignments = dict(self.store.meta("assignments", {}))
            mine = dict(assignments.get(user_id, {}))
            mine["permission_sets"] = [n for n in mine.get("permission_sets", []) if n != permission_set]
            assignments[user_id] = mine
            self.store.set_meta("assignments", assignments)
        self.changed()

    def profile_of(self, user_id: str) -> str:
        return self.store.meta("assignments", {}).get(user_id, {}).get("profile", STANDARD_PROFILE)

    def permission_sets_of(self, user_id: str) -> list[str]:
        return list(self.store.meta("assignments", {}).get(user_id, {}).get("permission_sets", []))

    # narrowing a deployed permission set (tests: what the product says when one grant is missing)
    def revoke_user_permission(self, permission_set: str, name: str) -> None:
        self.permission_sets[permission_set].user_permissions.discard(name)
        self.changed()

    def set_field_permission(self, permission_set: str, field: str, *, read: bool, edit: bool) -> None:
        self.permission_sets[permission_set].fields[field.lower()] = (read, edit)
        self.changed()

    def grants(self, user_id: str) -> Grants:
        if user_id not in self._grants:
            sets = [self.profiles[self.profile_of(user_id)]]
            sets += [self.permission_sets[n] for n in self.permission_sets_of(user_id) if n in self.permission_sets]
            self._grants[user_id] = _merge(sets)
        return self._grants[user_id]

    # connected apps
    def preauthorized(self, app: dict, user_id: str) -> bool:
        """Whether the JWT bearer flow may issue this user a token: with "Admin approved users are
        pre-authorized" the user's profile or one of its permission sets must be assigned to the app;
        with "All users may self-authorize" the user must have approved the app before ("OAuth 2.0 JWT
        Bearer Flow for Server-to-Server Integration", https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm)."""
        if app.get("policy") == "admin_approved":
            return (self.profile_of(user_id) in app.get("profiles", ())
                    or bool(set(self.permission_sets_of(user_id)) & set(app.get("permission_sets", ()))))
        return user_id in app.get("approved_users", ())


def _merge(sets: list[PermissionSet]) -> Grants:
    objects: dict[str, ObjectAccess] = {}
    fields: dict[str, tuple[bool, bool]] = {}
    for ps in sets:
        for name, access in ps.objects.items():
            have = objects.get(name, ObjectAccess())
            objects[name] = ObjectAccess(*(a or b for a, b in zip(vars(have).values(), vars(access).values())))
        for name, (read, edit) in ps.fields.items():
            have_read, have_edit = fields.get(name, (False, False))
            fields[name] = (have_read or read, have_edit or edit)
    return Grants(frozenset().union(*(ps.user_permissions for ps in sets)), objects, fields,
                  frozenset().union(*(ps.all_fields_of for ps in sets)),
                  frozenset().union(*(ps.custom_permissions for ps in sets)))
