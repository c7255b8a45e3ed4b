"""Reports over call records: KPIs (pure computation) for `ivr report` and the dashboard."""
