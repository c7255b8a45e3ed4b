"""Agent pages, dashboard and metrics."""
