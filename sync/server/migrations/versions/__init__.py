"""Alembic revisions of the server database (one file each; loaded by Alembic, not imported)."""
