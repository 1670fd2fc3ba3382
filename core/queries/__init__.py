"""Read-side query functions for the dashboard: SQL aggregates over indexed columns,
returned as DataFrames or plain records. They never change anything."""
