"""Security checks run by the test suite: see security/check.py and security/accepted.toml."""
