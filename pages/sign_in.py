"""Sign in: a local account's email and password; in demo mode also one demo account per role."""
import streamlit as st

from core.services.auth import SignInRefused, sign_in
from core.services.users import list_users
from ui.context import app, current_actor, sign_in_as

if current_actor() is not None:  # signed in by a callback: on to the default page
    st.switch_page("pages/live.py")

st.title("Response Desk")
st.caption("Incident response for synthetic media in your Salesforce org.")


def _password_sign_in() -> None:
    ss = st.session_state
    try:
        actor = sign_in(app().uow(), email=ss.get("si-email", ""), password=ss.get("si-password", ""))
    except SignInRefused as refused:
        ss["si-error"] = str(refused)
    else:
        ss.pop("si-error", None)
        sign_in_as(actor.id, actor.role.value)
    ss["si-password"] = ""  # never kept in the session


with st.form("sign-in"):
    st.text_input("Email", key="si-email")
    st.text_input("Password", type="password", key="si-password")
    st.form_submit_button("Sign in", on_click=_password_sign_in)
if st.session_state.get("si-error"):
    st.error(st.session_state["si-error"])

if app().settings.demo_mode:
    st.subheader("Demo sign-in")
    st.write("This installation runs the demo org. Choose a role to sign in as its demo user.")
    for user in list_users(app().db):
        st.button(f"{user['display_name']}: {user['email']}", key=f"signin-{user['email']}",
                  on_click=sign_in_as, args=(user["email"], user["role"]), width="stretch")
