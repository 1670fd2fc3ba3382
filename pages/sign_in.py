"""Sign in. In demo mode: one demo account per role, listed here."""
import streamlit as st

from core.services.users import list_users
from ui.context import app, current_actor, sign_in_as

if current_actor() is not None:  # signed in by the button's callback: on to the default page
    st.switch_page("pages/live.py")

st.title("Response Desk")
st.caption("Incident response for synthetic media in your Salesforce org.")

if app().settings.demo_mode:
    st.subheader("Demo sign-in")
    st.write("This installation runs the demo org. Choose a role to sign in as its demo user.")
    for user in list_users(app().db):
        st.button(f"{user['display_name']}: {user['email']}", key=f"signin-{user['email']}",
                  on_click=sign_in_as, args=(user["email"], user["role"]), width="stretch")
else:
    st.error("No sign-in method is configured for this installation. "
             "Configure single sign-on in .streamlit/secrets.toml ([auth]) or enable the demo.")
