"""Plain-Python domain rules: no I/O, no database, no Streamlit."""
