"""Workflows that drive commands: the loops the worker runs (ingest, scan, the relays) and the
dashboard's upload-and-scan. They decide what to do next and call commands to do it, so every change
they make is a command's, with its audit event; their own bookkeeping (leases, watermarks,
heartbeats) lives in core.adapters.worker_state and the outbox's lease."""
