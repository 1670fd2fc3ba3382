"""Sign in: single sign-on when configured, local accounts' email and password where allowed, and in
demo mode one demo account per role."""
import streamlit as st

from core.commands.auth import MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH, SignInRefused, demo_sign_in, sign_in
from core.commands.users import DEMO_DOMAIN, list_users
from ui.context import NOTICE_KEY, SSO_REFUSAL_KEY, app, current_actor, start_session
from ui.navigation import landing, waiting

# Shown at the root address and in place of any page a signed-out visitor opened: signing in reruns
# that page with its link intact. Signed in here (by a callback, or arriving at the root address): on
# to where the role's work waits.
if (actor := current_actor()) is not None:
    st.switch_page(landing(actor.role, waiting(actor.id, actor.role)))

access = app().settings.access
st.title("Response Desk")
st.caption("Incident response for synthetic media in your Salesforce org.")
if st.session_state.get(NOTICE_KEY):
    st.info(st.session_state[NOTICE_KEY])


def _client() -> str:
    """Who is knocking, for the per-client pause after repeated failures: the browser's address, or
    this browser session where Streamlit cannot tell the address."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    address = st.context.ip_address
    ctx = get_script_run_ctx()
    return f"ip:{address}" if address else f"session:{ctx.session_id if ctx else 'unknown'}"


def _password_sign_in() -> None:
    ss = st.session_state
    try:
        actor = sign_in(app().uow(), email=ss.get("si-email", ""), password=ss.get("si-password", ""),
                        access=access, client=_client())
    except SignInRefused as refused:
        ss["si-error"] = str(refused)
    else:
        ss.pop("si-error", None)
        start_session(actor, "password")
    ss["si-password"] = ""  # never kept in the session


def _demo_sign_in(email: str) -> None:
    start_session(demo_sign_in(app().uow(), email=email, demo_mode=app().settings.demo_mode), "demo")


if access.sso:
    if st.session_state.get(SSO_REFUSAL_KEY):
        st.error(f"Single sign-on worked, but Response Desk cannot let you in: {st.session_state[SSO_REFUSAL_KEY]}")
        if st.button("Sign out of single sign-on", key="sso-logout"):
            st.session_state.pop(SSO_REFUSAL_KEY, None)
            st.logout()
    else:
        if st.button(f"Sign in with {access.sso_label}", key="sso-login", type="primary", icon=":material/key:"):
            st.login(access.sso_provider)

if access.local_accounts:
    if access.sso:
        st.caption("Break-glass sign-in with a local account:")
    with st.form("sign-in"):
        st.text_input("Email", key="si-email", max_chars=MAX_EMAIL_LENGTH)
        st.text_input("Password", type="password", key="si-password", max_chars=MAX_PASSWORD_LENGTH)
        st.form_submit_button("Sign in", on_click=_password_sign_in)
    if st.session_state.get("si-error"):
        st.error(st.session_state["si-error"])

if app().settings.demo_mode:
    st.subheader("Demo sign-in")
    st.write("This installation runs the demo org. Choose a role to sign in as its demo user.")
    for user in list_users(app().db):
        if user["email"].endswith("@" + DEMO_DOMAIN):
            st.button(f"{user['display_name']}: {user['email']}", key=f"signin-{user['email']}",
                      on_click=_demo_sign_in, args=(user["email"],), width="stretch")
