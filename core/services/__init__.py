"""Commands: one function per state change. Each checks permission, changes the entity,
records its audit event (and outbox rows) and commits once."""
