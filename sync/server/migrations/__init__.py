"""The server database's Alembic migrations (``env.py``, ``versions/``); run by :mod:`sync.server.schema`."""
