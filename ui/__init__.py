"""Streamlit-side helpers shared by app.py and the pages: the app handle and the acting user."""
