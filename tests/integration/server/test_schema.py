"""The server database's schema under Alembic, on SQLite and PostgreSQL (real databases, real
``python -m sync.server`` processes).

``schema_extra/`` holds a test-only revision one step past this code's head (an optional column
on ``records``): it stands for the next real schema change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import column, inspect, select, table, text

from sync.server import config, schema
from sync.server.db import Database, metadata
from sync.server.harness import free_port, fresh_database
from sync.server.runtime import Runtime
from sync.server.service import SyncService
from tests.integration.server.conftest import Backend, Phone, phone_op, start_server
from tests.integration.server.world import World, build_world, code_for
from tests.unit.server.inproc import LocalPhone

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


@pytest.fixture
def scratch(backend: Backend, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the backend's kind (where a server writes rows at head)."""
    if backend.database is None:
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
    else:
        with fresh_database("linli_test") as url:
            yield url


@dataclass
class Baseline:
    """A database at the baseline revision holding rows a server wrote (a world, an enrollment
    code, a phone's enrollment and a batch it synced): its tables' columns and that phone."""

    shape: dict[str, list[str]]
    world: World
    phone: Phone


def make_baseline(backend: Backend, scratch: str, *, versioned: bool) -> Baseline:
    """Turn the backend's database into one at the baseline revision (``0001``, built by that
    migration alone) holding real rows: a server writes them at head into ``scratch`` (same data
    dir, same keys), and the columns the baseline has are copied over. Without ``versioned`` it
    has no ``alembic_version``: a database ``init`` made before Alembic."""
    settings = replace(config.resolve(backend.data_dir, backend.database), database_url=scratch)
    with Database(scratch) as database:
        database.create_schema()
    with Runtime.open(settings) as rt:
        world = build_world(rt)
        code_for(rt, world.volunteer_b)
        local = LocalPhone.enrolled(rt, SyncService(rt), world.volunteer_a)
        local.pull_all()
        start = local.op("assignment", world.assignment_a, set={"status": "in_progress"})
        assert local.sync([start]).acks == [start.op_id]
        phone = Phone(
            "",
            keys=local.keys,
            device_id=local.device_id,
            member_id=local.member_id,
            server_signing=rt.keys.signing.public_bytes(),
            server_sealing=rt.keys.sealing.public_bytes(),
            counter=local.counter,
        )
    with Database(url_of(backend)) as target:
        metadata.drop_all(target.engine)
        with target.write() as conn:
            conn.execute(text("DROP TABLE alembic_version"))
        target.migrate(create=True, target=schema.BASELINE)
        with target.read() as conn:
            found = inspect(conn)
            shape = {
                name: [c["name"] for c in found.get_columns(name)]
                for name in found.get_table_names()
                if name != "alembic_version"
            }
        with Database(scratch) as source, source.read() as src, target.write() as dst:
            for name, columns in shape.items():
                code_table = metadata.tables[name]
                rows = [
                    dict(r._mapping)
                    for r in src.execute(select(*(code_table.c[c] for c in columns)))
                ]
                dst.execute(text(f"DELETE FROM {name}"))
                if rows:
                    dst.execute(table(name, *(column(c) for c in columns)).insert(), rows)
            if not versioned:
                dst.execute(text("DROP TABLE alembic_version"))
        with target.read() as conn:
            want = schema.BEHIND if versioned else schema.UNVERSIONED
            assert schema.state(conn).state == want
    return Baseline(shape, world, phone)


def downgrade_to_baseline(url: str) -> None:
    """Take the database back to the baseline with the migrations' own downgrade steps."""
    cfg = Config()
    cfg.set_main_option("script_location", str(schema.MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    with Database(url) as database, database.write() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, schema.BASELINE)


def snapshot_of(database: Database, shape: dict[str, list[str]]) -> dict[str, list[Any]]:
    """Every row of the given tables, only the given columns, in primary-key order."""
    with database.read() as conn:
        return {
            name: [
                tuple(row)
                for row in conn.execute(
                    select(*(metadata.tables[name].c[c] for c in columns)).order_by(
                        *metadata.tables[name].primary_key.columns
                    )
                )
            ]
            for name, columns in shape.items()
        }


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


def test_a_database_from_before_alembic_is_refused_then_stamped(
    backend: Backend, scratch: str
) -> None:
    made = make_baseline(backend, scratch, versioned=False)  # rows an old server wrote
    with Database(url_of(backend)) as database:
        before = snapshot_of(database, made.shape)
    done = backend.cli("serve", "--port", str(free_port()), check=False)
    assert done.returncode == 2, done.stdout
    assert "older than this server" in done.stderr
    assert "python -m sync.server upgrade" in done.stderr
    upgraded = backend.cli("upgrade").stdout
    assert f"recorded it at the baseline {schema.BASELINE}" in upgraded
    assert "nothing to do" in backend.cli("upgrade").stdout
    with Database(url_of(backend)) as database:
        assert snapshot_of(database, made.shape) == before
        with database.read() as conn:
            assert schema.state(conn).state == schema.HEAD
    server = start_server(backend)
    try:
        assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200
    finally:
        server.stop()


def test_a_baseline_database_with_rows_upgrades_to_head(backend: Backend, scratch: str) -> None:
    """0001 → 0002 (the review queue and retired phones) on a database holding a day's rows:
    every row survives as it was, the new column is empty, and a phone enrolled before the
    upgrade syncs on — its refused change lands in the review queue, and retiring it works."""
    made = make_baseline(backend, scratch, versioned=True)
    with Database(url_of(backend)) as database:
        with database.read() as conn:
            assert schema.state(conn).current == (schema.BASELINE,)
            assert not inspect(conn).has_table("review")
        before = snapshot_of(database, made.shape)
    assert all(before[name] for name in ("records", "ops", "feed", "devices", "batches"))
    refused = backend.cli("serve", "--port", str(free_port()), check=False)
    assert refused.returncode == 2 and "older than this server" in refused.stderr
    upgraded = backend.cli("upgrade").stdout
    assert "Applied migration 0002" in upgraded and "recorded it at the baseline" not in upgraded
    with Database(url_of(backend)) as database:
        assert snapshot_of(database, made.shape) == before
        with database.read() as conn:
            assert schema.state(conn).state == schema.HEAD
            retired = conn.execute(text("SELECT retired_at FROM devices")).scalars().all()
            assert retired == [None] * len(before["devices"])
            assert conn.execute(text("SELECT count(*) FROM review")).scalar_one() == 0
            # 0006 backfilled the counting projection from the sealed records (given the key)
            facts = conn.execute(text("SELECT assignment_id, status FROM assignment_facts"))
            assert sorted(facts) == sorted(
                [(made.world.assignment_a, "in_progress"), (made.world.assignment_b, "pending")]
            )
    with backend.runtime() as rt, rt.db.read() as conn:
        resident = rt.ledger.world(conn).record("resident", made.world.resident_a)
    phone = made.phone
    server = start_server(backend)
    try:
        phone.url = server.url
        fix = phone_op(
            phone, "resident", made.world.resident_a, set={"phone": "13900000009"}, current=resident
        )
        assert [r.code for r in phone.sync([fix]).rejected] == ["op.forbidden_role"]
        rows = json.loads(backend.cli("review", "list", "--json").stdout)
        assert [(r["op_id"], r["device"]) for r in rows] == [(fix.op_id, phone.device_id)]
        backend.cli("retire", phone.device_id)
        assert phone.sync().wipe == "retired"
    finally:
        server.stop()


def test_readyz_reports_a_schema_behind_head(backend: Backend) -> None:
    server = start_server(backend)
    try:
        assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200
        downgrade_to_baseline(url_of(backend))  # as if a database of an older server
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


def test_two_upgrades_at_once_stamp_once(backend: Backend, scratch: str) -> None:
    make_baseline(backend, scratch, versioned=False)
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
        assert [tuple(v) for v in versions] == [schema.heads()]
