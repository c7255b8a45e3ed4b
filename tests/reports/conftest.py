"""Report fixtures: the real PostgreSQL server (KPIs over records read back from it)."""
from tests.servers import postgres_server  # noqa: F401  (session fixture)
