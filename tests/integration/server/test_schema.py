"""The server database's schema under Alembic, on SQLite and PostgreSQL (real databases, real
``python -m sync.server`` processes).

``schema_extra/`` holds a test-only revision one step past this code's head (an optional column
on ``records``): it stands for the next real schema change.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from sync.server import config, schema
from sync.server.db import SCHEMA_VERSION, Database, counters, meta, metadata
from sync.server.harness import free_port
from sync.server.runtime import Runtime
from tests.integration.server.conftest import Backend, start_server
from tests.integration.server.world import build_world, code_for

EXTRA = str(Path(__file__).resolve().parent / "schema_extra")
NOTE_REVISION = "t1_records_note"


def url_of(backend: Backend) -> str:
    return config.resolve(backend.data_dir, backend.database).database_url


def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in code (its columns only), in primary-key order."""
    with database.read() as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in metadata.sorted_tables
        }


def add_rows(backend: Backend, *, check_schema: bool = True) -> None:
    """A community, teams, assignments and an enroll code, through the server's own write path."""
    settings = config.resolve(backend.data_dir, backend.database)
    with Runtime.open(settings, check_schema=check_schema) as rt:
        world = build_world(rt)
        code_for(rt, world.volunteer_a)


def make_pre_alembic(backend: Backend) -> None:
    """Turn the backend's database into one ``init`` made before Alembic: the tables by
    ``metadata.create_all`` and the first rows, no ``alembic_version``."""
    with Database(url_of(backend)) as database:
        metadata.drop_all(database.engine)
        with database.write() as conn:
            conn.execute(text("DROP TABLE alembic_version"))
        metadata.create_all(database.engine)
        with database.write() as conn:
            conn.execute(counters.insert(), [{"name": "head", "value": 0}])
            conn.execute(counters.insert(), [{"name": "places", "value": 0}])
            conn.execute(meta.insert(), [{"key": "epoch", "value": secrets.token_hex(4)}])
            conn.execute(meta.insert(), [{"key": "schema_version", "value": SCHEMA_VERSION}])
        with database.read() as conn:
            assert schema.state(conn).state == schema.UNVERSIONED


def test_init_builds_through_the_migrations_exactly_the_tables_in_code(backend: Backend) -> None:
    with Database(url_of(backend)) as database, database.read() as conn:
        assert schema.state(conn).state == schema.HEAD
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        found = inspect(conn)
        assert set(found.get_table_names()) == {*metadata.tables, "alembic_version"}
        for table in metadata.sorted_tables:
            columns = {c["name"]: c["nullable"] for c in found.get_columns(table.name)}
            assert columns == {c.name: c.nullable for c in table.columns}, table.name
            key = found.get_pk_constraint(table.name)["constrained_columns"]
            assert key == [c.name for c in table.primary_key.columns], table.name
            indexes = {(i["name"], tuple(i["column_names"])) for i in found.get_indexes(table.name)}
            assert indexes == {(i.name, tuple(c.name for c in i.columns)) for i in table.indexes}


def test_rows_written_at_the_baseline_survive_an_upgrade(backend: Backend) -> None:
    add_rows(backend)
    with Database(url_of(backend)) as database:
        before = snapshot(database)
        assert all(before[name] for name in ("records", "ops", "feed", "enroll_codes"))
        was, steps = database.migrate(extra=[EXTRA])
        assert was.state == schema.BEHIND and [s.revision for s in steps] == [NOTE_REVISION]
        assert snapshot(database) == before
        with database.read() as conn:
            assert schema.state(conn, [EXTRA]).current == (NOTE_REVISION,)
            notes = conn.execute(text("SELECT note FROM records")).scalars().all()
            assert len(notes) == len(before["records"]) and set(notes) == {None}
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
            assert [(d[0], d[3].name) for d in diffs] == [("remove_column", "note")]
        with database.write() as conn:
            conn.execute(text("UPDATE records SET note = 'checked'"))
        assert database.migrate(extra=[EXTRA])[1] == []  # idempotent
        assert snapshot(database) == before
    # this code does not know the new revision: a newer server wrote the database
    done = backend.cli("serve", "--port", str(free_port()), check=False)
    assert done.returncode == 2, done.stdout
    assert "newer version of the server" in done.stderr and NOTE_REVISION in done.stderr
    refused = backend.cli("upgrade", check=False)
    assert refused.returncode == 2 and "newer version of the server" in refused.stderr


def test_a_database_from_before_alembic_is_refused_then_stamped(backend: Backend) -> None:
    make_pre_alembic(backend)
    add_rows(backend, check_schema=False)  # rows an old server wrote
    with Database(url_of(backend)) as database:
        before = snapshot(database)
    done = backend.cli("serve", "--port", str(free_port()), check=False)
    assert done.returncode == 2, done.stdout
    assert "older than this server" in done.stderr
    assert "python -m sync.server upgrade" in done.stderr
    upgraded = backend.cli("upgrade").stdout
    assert f"recorded it at the baseline {schema.BASELINE}" in upgraded
    assert "nothing to do" in backend.cli("upgrade").stdout
    with Database(url_of(backend)) as database:
        assert snapshot(database) == before
        with database.read() as conn:
            assert schema.state(conn).state == schema.HEAD
    server = start_server(backend)
    try:
        assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200
    finally:
        server.stop()


def test_readyz_reports_a_schema_behind_head(backend: Backend) -> None:
    server = start_server(backend)
    try:
        assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200
        with Database(url_of(backend)) as database, database.write() as conn:
            conn.execute(text("DROP TABLE alembic_version"))  # as if from before Alembic
        r = httpx.get(f"{server.url}/readyz", timeout=10)
        assert r.status_code == 503, r.text
        error = r.json()["error"]
        assert error["code"] == "server.schema_behind"
        assert error["params"]["command"] == "python -m sync.server upgrade"
        assert r.headers["Retry-After"] == "5"
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
        backend.cli("upgrade")
        assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200
    finally:
        server.stop()


def test_two_upgrades_at_once_stamp_once(backend: Backend) -> None:
    make_pre_alembic(backend)
    cmd = [sys.executable, "-m", "sync.server", "--data-dir", str(backend.data_dir), "--lang", "en"]
    if backend.database:
        cmd += ["--database", backend.database]
    env = {k: v for k, v in os.environ.items() if k != config.ENV_DATABASE}
    pipe = subprocess.PIPE
    runs = [
        subprocess.Popen([*cmd, "upgrade"], env=env, stdout=pipe, stderr=pipe, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    stamped = [out for out, _err in outputs if "baseline" in out]
    assert len(stamped) == 1, outputs
    with Database(url_of(backend)) as database, database.read() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [tuple(v) for v in versions] == [(schema.BASELINE,)]
