"""Salesforce over its REST API with the unmodified simple-salesforce client."""
