"""Settings: admins change thresholds, detectors, hash banks, contacts and people; auditors read them."""
import io

import pandas as pd
import streamlit as st

from core.commands import contacts as contact_service
from core.commands import hashbank as hashbank_service
from core.commands import outbox as outbox_service
from core.commands import settings_admin
from core.commands import users as user_service
from core.domain.lifecycle import Risk
from core.domain.roles import HUMAN_ROLES, Role
from core.domain.thresholds import QUARANTINABLE, Thresholds
from core.queries import admin as admin_queries
from core.queries import health as health_queries
from ui import format as fmt
from ui.actions import refuse, run_action, show_errors, show_toasts, toast
from ui.context import app, current_actor, demo_banner, require_actor
from ui.navigation import roles_for

actor = require_actor()
if actor.role not in roles_for("pages/settings.py"):  # guard before anything renders, whatever the navigation shows
    st.error("Settings are for admins (and auditors, read-only).")
    st.stop()
read_only = actor.role is Role.AUDITOR  # the services refuse an auditor's change anyway; the page says so first
st.title("Settings")
if read_only:
    st.caption("Read-only: auditors see every setting and change none.")
demo_banner()
show_toasts()
settings = app().settings
db = app().db


def _save_thresholds() -> None:
    ss = st.session_state
    try:
        wanted = Thresholds(quarantine_risks=tuple(ss["s-risks"]), review_sla_hours=ss["s-sla"],
                            backlog_limit_minutes=ss["s-backlog"])
    except ValueError as exc:
        refuse(str(exc), "thresholds")
        return
    current = admin_queries.thresholds(app().db, app().settings)
    if (sorted(wanted.quarantine_risks), wanted.review_sla_hours, wanted.backlog_limit_minutes) == (
            sorted(current.quarantine_risks), current.review_sla_hours, current.backlog_limit_minutes):
        toast("Nothing changed: the thresholds are as they were.")
        return
    run_action(settings_admin.update_thresholds, uow=app().uow(), actor=current_actor(), thresholds=wanted,
               reason=ss.get("s-reason", ""), place="thresholds",
               done=lambda changed: "Thresholds saved." if changed else "Nothing changed: the thresholds are as they were.")


def _import_bank() -> None:
    upload = st.session_state.get("s-bank-csv")
    if upload is not None:
        run_action(hashbank_service.import_csv, uow=app().uow(), actor=current_actor(),
                   fh=io.StringIO(upload.getvalue().decode("utf-8", errors="replace")), file_label="dashboard upload",
                   place="bank", done="Hash bank CSV imported.")
    else:
        refuse("Choose a CSV file to import first.", "bank")


NEW_CONTACT = ("c-name", "c-email", "c-org")


def _add_contact() -> None:
    ss = st.session_state
    if run_action(contact_service.add_contact, uow=app().uow(), actor=current_actor(), name=ss["c-name"],
                  email=ss["c-email"], role=ss["c-role"], organisation=ss.get("c-org", ""), place="add-contact",
                  done="Contact added."):
        for key in NEW_CONTACT:  # cleared only once added: a refused form keeps what was typed
            ss[key] = ""


def _save_contact(contact_id: int, before: dict) -> None:
    ss = st.session_state
    wanted = {"name": ss["e-name"], "email": ss["e-email"], "role": ss["e-role"], "organisation": ss.get("e-org", ""),
              "active": ss["e-active"]}
    if all(str(wanted[k] or "") == str(before[k] or "") for k in wanted):
        toast("Nothing changed: the contact is as it was.")
        return
    run_action(contact_service.update_contact, uow=app().uow(), actor=current_actor(), contact_id=contact_id,
               place="edit-contact", done="Contact saved.", **wanted)


def _requeue(entry_id: int) -> None:
    run_action(outbox_service.requeue_dead_letter, uow=app().uow(), actor=current_actor(), entry_id=entry_id,
               place="dead-letters", done=f"Dead letter {entry_id} sent round again.")


def _person(change: str) -> None:
    ss = st.session_state
    common = dict(uow=app().uow(), actor=current_actor(), email=ss["p-email"], reason=ss.get("p-reason", ""),
                  place="person")
    person = next(p for p in user_service.people(app().db) if p["email"] == ss["p-email"])
    if (change == "role" and person["role"] == ss["p-role"]) or (change in ("activate", "deactivate")
                                                                 and person["active"] == (change == "activate")):
        toast(f"Nothing changed: {person['email']} already is "
              + (Role(person["role"]).label.lower() if change == "role" else change[:-1] + "ed") + ".")
        return
    if change == "role":
        run_action(user_service.set_role, role=ss["p-role"], done="Role changed.", **common)
    elif change == "unlock":
        run_action(user_service.unlock, done="Account unlocked.", **common)
    else:
        run_action(user_service.set_active, active=change == "activate",
                   done="Account reactivated." if change == "activate" else "Account deactivated.", **common)


# Keyed, so an action (which reruns the page) leaves the admin on the tab they were using.
tabs = st.tabs(["Thresholds", "Detectors and models", "Hash banks", "Salesforce", "Contacts", "People",
                "Dead letters"], key="settings-tab", on_change="rerun")

with tabs[0]:
    current = admin_queries.thresholds(db, settings)
    changed = admin_queries.setting_changed(db)
    with st.form("thresholds"):
        st.multiselect("Quarantine files of risk", [r.value for r in QUARANTINABLE], default=list(current.quarantine_risks),
                       key="s-risks", help="Unscannable files are always quarantined.", disabled=read_only,
                       format_func=lambda r: Risk(r).label)
        st.number_input("Review SLA (hours)", min_value=0.1, max_value=336.0, value=float(current.review_sla_hours),
                        key="s-sla", disabled=read_only)
        st.number_input("Backlog warning: oldest unverified file older than (minutes)", min_value=1.0,
                        max_value=1440.0, value=float(current.backlog_limit_minutes), key="s-backlog",
                        disabled=read_only)
        st.text_input("Reason for the change", key="s-reason", disabled=read_only)
        st.form_submit_button("Save thresholds", on_click=_save_thresholds, disabled=read_only)
        show_errors("thresholds")
    if changed is None:
        st.caption("Defaults from the installation's configuration")
    else:
        st.caption(f"Last changed by {changed['updated_by']} {fmt.ago(changed['updated_at'])}",
                   help=fmt.utc(changed["updated_at"]))

with tabs[1]:
    st.subheader("Detectors that produced signals")
    fmt.table(admin_queries.detectors_seen(db), {"detector": "Detector", "latest_version": "Version",
                                                 "last_signal_at": ("Last finding", fmt.TIME)}, key="s-detectors")
    st.subheader("Model cards")
    cards = admin_queries.model_cards(app().settings.models_dir)
    if not cards:
        st.info("No model card under data/models/.")
    for card in cards:
        with st.expander(f"{card['name']} {card.get('version', '')}"):
            if "error" in card:
                st.error(card["error"])
                continue
            st.text(card["description"])
            st.text(f"Task: {fmt.text(card['task'])}\nThreshold: {fmt.text(card['threshold'])}")
            st.dataframe(card["metrics"], hide_index=True, width="stretch")
            st.caption("Limits")
            st.text("\n".join(f"- {line}" for line in card["limits"]))

with tabs[2]:
    fmt.table(admin_queries.hashbank_sizes(db), {"bank": "Bank", "entries": "Entries"},
              labels={"bank": fmt.words}, key="s-banks")
    if not read_only:
        st.file_uploader("Import a CSV (bank, sha256, phash, source, note)", type=["csv"], key="s-bank-csv")
        st.button("Import", key="s-bank-import", on_click=_import_bank)
        show_errors("bank")
    if st.button("Prepare export (CSV)", key="s-bank-export"):
        buffer = io.StringIO()
        count = hashbank_service.export_csv(app().uow(), actor=actor, fh=buffer)
        st.download_button(f"Download {count} entries", buffer.getvalue(), file_name="hash-banks.csv",
                           mime="text/csv", key="s-bank-download")

with tabs[3]:
    if settings.salesforce is None:
        st.info("No Salesforce org is configured: set [salesforce] in .streamlit/secrets.toml.")
    else:
        st.text(f"Login URL: {settings.salesforce.login_url} (auth: {settings.salesforce.auth})")
        if st.button("Test the connection", key="s-sf-test", disabled=read_only):
            try:
                st.json(app().salesforce().check())
            except Exception as exc:  # any failure is the answer to the test, shown plainly
                st.error(f"Connection failed: {type(exc).__name__}: {exc}")

with tabs[4]:
    contacts = admin_queries.list_contacts(db)
    fmt.table(contacts, {"name": "Name", "email": "Email", "role": "Role", "organisation": "Organisation",
                         "active": ("Active", st.column_config.CheckboxColumn("Active"))},
              labels={"role": fmt.words}, key="c-table")
    if not read_only:
        with st.form("add-contact"):
            st.caption("Add a contact")
            cols = st.columns(4)
            cols[0].text_input("Name", key="c-name")
            cols[1].text_input("Email", key="c-email")
            cols[2].selectbox("Role", contact_service.CONTACT_ROLES, key="c-role", format_func=fmt.words)
            cols[3].text_input("Organisation", key="c-org")
            st.form_submit_button("Add contact", on_click=_add_contact)
            show_errors("add-contact")
    if not contacts.empty and not read_only:
        chosen = st.selectbox("Edit contact", contacts["id"].tolist(), key="e-id",
                              format_func=lambda i: f"#{i}: {contacts.set_index('id').loc[i, 'email']}")
        row = contacts.set_index("id").loc[chosen]
        with st.form(f"edit-contact-{chosen}"):
            cols = st.columns(5)
            cols[0].text_input("Name", value=row["name"], key="e-name")
            cols[1].text_input("Email", value=row["email"], key="e-email")
            cols[2].selectbox("Role", contact_service.CONTACT_ROLES, key="e-role", format_func=fmt.words,
                              index=contact_service.CONTACT_ROLES.index(row["role"])
                              if row["role"] in contact_service.CONTACT_ROLES else 0)
            cols[3].text_input("Organisation", value=row["organisation"] or "", key="e-org")
            cols[4].checkbox("Active", value=bool(row["active"]), key="e-active")
            st.form_submit_button("Save contact", on_click=_save_contact, args=(int(chosen), row.to_dict()))
            show_errors("edit-contact")

with tabs[5]:
    access = settings.access
    st.table({
        "Database": ["SQLite (embedded)" if db.is_sqlite else "PostgreSQL"],
        "Demo org": ["on" if settings.demo_mode else "off"],
        "Sign-in": [(f"single sign-on ({access.sso_label}), role from claim '{access.role_claim}'"
                     if access.sso else "local accounts")
                    + (", local accounts allowed" if access.sso and access.local_accounts else "")],
        "Sessions": [f"end after {access.idle_minutes:g} min idle, at most {access.max_session_hours:g} h"],
    })
    everyone = user_service.people(db)
    fmt.table(pd.DataFrame(everyone, columns=["email", "role", "display_name", "active", "sign_in", "locked_until",
                                              "last_sign_in", "created"]),
              {"email": "Email", "display_name": "Name", "role": "Role",
               "active": ("Active", st.column_config.CheckboxColumn("Active")), "sign_in": "Signs in with",
               "last_sign_in": ("Last sign-in", fmt.TIME), "locked_until": ("Locked until", fmt.TIME),
               "created": ("Created", fmt.TIME)},
              labels={"role": lambda v: fmt.label(Role, v), "sign_in": str.capitalize}, key="p-table")
    st.caption("Local accounts are created with `python -m core users add EMAIL --role ROLE`; single sign-on "
               "accounts appear at their first sign-in with the role their identity provider's claim maps to.")
    if everyone and not read_only:
        emails = [p["email"] for p in everyone]
        with st.form("person"):
            cols = st.columns([3, 2, 3])
            cols[0].selectbox("Person", emails, key="p-email")
            cols[1].selectbox("Role", [r.value for r in HUMAN_ROLES], key="p-role", format_func=lambda r: Role(r).label)
            cols[2].text_input("Reason", key="p-reason")
            b = st.columns(4)
            b[0].form_submit_button("Change role", on_click=_person, args=("role",))
            b[1].form_submit_button("Deactivate", on_click=_person, args=("deactivate",))
            b[2].form_submit_button("Reactivate", on_click=_person, args=("activate",))
            b[3].form_submit_button("Unlock", on_click=_person, args=("unlock",))
            show_errors("person")

with tabs[6]:
    letters = health_queries.dead_letters(db)
    if letters.empty:
        st.success("No dead letters: every effect on Salesforce and email was delivered or is still being retried.")
    else:
        st.warning(f"{len(letters)} effects failed on every attempt and are parked. Fix the cause, then send them again.")
        fmt.table(letters, {"id": "Dead letter", "kind": "Effect", "item_id": "Item", "attempts": "Attempts",
                            "last_error": "Last error", "created_at": ("Queued", fmt.TIME)}, key="dl-table")
        if not read_only:
            chosen = st.selectbox("Dead letter", letters["id"].tolist(), key="dl-id")
            st.button("Send it again", key="dl-requeue", on_click=_requeue, args=(int(chosen),))
            show_errors("dead-letters")
