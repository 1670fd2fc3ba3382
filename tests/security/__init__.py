"""The security checks of security/check.py: bandit and the dependency audit, against security/accepted.toml."""
