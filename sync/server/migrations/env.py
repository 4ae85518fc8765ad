"""Alembic's environment for the server database.

The server runs migrations itself (:mod:`sync.server.schema`) and hands its connection over in
``config.attributes["connection"]``, inside its serialized write transaction. An engineer writing a
new revision runs the ``alembic`` command line with ``alembic.ini`` next to this file and the
database in ``-x url=...`` (see docs/upgrades.md, "Server database schema").
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from sync.server.db import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the database: alembic -x url=sqlite:///path/linli.db ...")
    engine = create_engine(url)
    with engine.connect() as connection:
        _run(connection)
        connection.commit()
    engine.dispose()
