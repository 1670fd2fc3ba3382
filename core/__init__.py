"""Response Desk core: domain rules, services, adapters. Never imports streamlit."""
