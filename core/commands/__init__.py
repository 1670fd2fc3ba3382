"""Commands: what a person or the system asks for. Each takes a unit of work and an actor, checks the
actor's current permission inside the transaction, changes state, writes its audit event, commits once."""
