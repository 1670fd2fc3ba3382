"""The demo org: the local Salesforce emulator, live upload traffic, and the launcher for `make run`."""
