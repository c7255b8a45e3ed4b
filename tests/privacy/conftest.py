"""Privacy fixtures: the real PostgreSQL server for database dumps."""
from tests.servers import postgres_server, redis_server  # noqa: F401  (session fixtures)
