"""Storage adapters: call sessions, call records, business data."""
