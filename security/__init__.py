"""Security checks: security/check.py (bandit, run by `make test`) and security/audit.py (known
vulnerabilities in the pins, `make audit`), both judged against security/accepted.toml."""
