"""The security check of the code (security/check.py) and the dependency audit (security/audit.py),
against security/accepted.toml."""
