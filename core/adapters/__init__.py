"""Adapters to the outside world: database, Salesforce, SMTP, files, detectors."""
