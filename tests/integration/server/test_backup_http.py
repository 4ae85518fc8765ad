"""Backup and restore against REAL server processes and databases (SQLite and PostgreSQL):

- a backup taken while ``serve`` runs restores equal, table by table, into an empty database of
  the same kind, and from SQLite into PostgreSQL and back;
- a day in progress (issue 9, "A restored server loses nothing either"): two real phones
  (``LocalStore`` + ``SyncEngine``) record visits and sync, a backup is taken mid-day, more visits
  are recorded and synced, the server's database is wiped and restored from the backup; after
  the phones' next syncs the server holds EVERY visit, nothing twice, and each phone equals the
  server's view of its scope;
- bad input (a truncated, corrupted or tampered file, the wrong key file, a backup of a newer
  schema, a database that holds data, a server still running): each a coded error, nothing
  written.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import BigInteger, Boolean, Integer, LargeBinary, func, inspect, select

from sync.client import SyncEngine
from sync.domain import record_visit
from sync.hlc import HybridClock
from sync.server import backup, config, db, schema
from sync.server.db import Database
from sync.server.harness import ServerProcess, fresh_database
from sync.server.vault import Vault
from tests.integration.server.conftest import Backend, Phone, enrolled, phone_op, start_server
from tests.integration.server.helpers import server_record
from tests.integration.server.world import World, build_world, code_for

PIN = "246810"


# ------------------------------------------------------------------------------ helpers


def url_of(backend: Backend) -> str:
    return config.resolve(backend.data_dir, backend.database).database_url


def rows_of(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the schema, in primary-key order (the data epoch aside)."""
    with Database(url) as database, database.read() as conn:
        out = {
            table.name: [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in db.metadata.sorted_tables
        }
    out["meta"] = [row for row in out["meta"] if row[0] != "epoch"]
    return out


def epoch_of(url: str) -> str | None:
    with Database(url) as database, database.read() as conn:
        return db.get_meta(conn, "epoch")


def revision_of(url: str) -> tuple[str, ...]:
    with Database(url) as database, database.read() as conn:
        return schema.state(conn).current


def table_names(url: str) -> list[str]:
    with Database(url) as database, database.read() as conn:
        return sorted(inspect(conn).get_table_names())


def target(tmp_path: Path, source: Backend, database: str | None, name: str) -> Backend:
    """A new data dir holding the source's key file (and nothing else), over ``database``
    (None: SQLite in the new dir): where a backup is restored."""
    other = Backend(tmp_path / name, database)
    other.data_dir.mkdir(parents=True)
    shutil.copy2(source.data_dir / config.KEY_FILE, other.data_dir / config.KEY_FILE)
    return other


def wipe(backend: Backend) -> None:
    """The database is lost: the SQLite file deleted, or every PostgreSQL table dropped."""
    if backend.database is None:
        for suffix in ("", "-wal", "-shm"):
            (backend.data_dir / f"{config.SQLITE_FILE}{suffix}").unlink(missing_ok=True)
        return
    with Database(backend.database) as database, database.write() as conn:
        found = db.MetaData()
        found.reflect(conn)
        found.drop_all(conn)
    assert table_names(backend.database) == []


def busy_day(backend: Backend, url: str) -> World:
    """A server's data with a row in every table: a world, an enrollment code, a phone's synced
    visit (ops, feed, records, batches) and a refused change (the review queue)."""
    world, (phone,) = enrolled(backend, url, "volunteer_a")
    rt = backend.runtime()
    try:
        code_for(rt, world.volunteer_b)
    finally:
        rt.close()
    phone.pull_all()
    visit = phone_op(
        phone,
        "assignment",
        world.assignment_a,
        set={"status": "done"},
        add={
            "visits": (
                {
                    "id": "v-1",
                    "at": "2022-04-01T09:00:00Z",
                    "member": phone.member_id,
                    "outcome": "done",
                },
            )
        },
    )
    refused = phone_op(phone, "resident", world.resident_a, set={"phone": "13900000009"})
    answer = phone.sync([visit, refused])
    assert answer.acks == [visit.op_id]
    assert [r.code for r in answer.rejected] == ["op.forbidden_role"]
    return world


def fill_empty_tables(url: str) -> None:
    """One made-up row in every table the day left empty (the console's accounts, sessions and
    audit log, the import's remembered values …): every table and column type goes through the
    round trip, including tables added after this test was written."""
    with Database(url) as database, database.write() as conn:
        for table in db.metadata.sorted_tables:
            if conn.execute(select(func.count()).select_from(table)).scalar_one():
                continue
            values: dict[str, Any] = {}
            for column in table.columns:
                kind = column.type
                if isinstance(kind, LargeBinary):
                    values[column.name] = bytes(range(40))
                elif isinstance(kind, Boolean):
                    values[column.name] = True
                elif isinstance(kind, BigInteger):
                    values[column.name] = 2**40 + 7
                elif isinstance(kind, Integer):
                    values[column.name] = 1  # a serial id the sequence would hand out next
                else:
                    limit = getattr(kind, "length", None) or 20
                    values[column.name] = f"{table.name[:8]}-{column.name}"[:limit]
            conn.execute(table.insert().values(**values))


def rewrite(path: Path, change: Any, out: Path) -> None:
    """A copy of the backup at ``path`` whose lines ``change`` rewrote, its checksum made right
    again (so only the change is judged, not the checksum)."""
    lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
    body = [change(line) for line in lines[:-1]]
    trailer = json.loads(lines[-1])
    trailer["sha256"] = hashlib.sha256(b"".join(body)).hexdigest()
    tail = json.dumps(trailer).encode() + b"\n"
    out.write_bytes(gzip.compress(b"".join(body) + tail))


# ------------------------------------------------------------------------------ round trips


def test_a_backup_taken_while_serving_restores_equal_table_by_table(
    backend: Backend, tmp_path: Path
) -> None:
    path = tmp_path / "backups" / "linli.backup.gz"
    path.parent.mkdir()
    with start_server(backend) as server:
        world = busy_day(backend, server.url)
        fill_empty_tables(url_of(backend))
        done = backend.cli("backup", str(path))  # while serve runs
    assert "Backed up" in done.stdout and "server-keys.json" in done.stdout
    assert "rows (100%)" in done.stderr  # progress on stderr
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    source = rows_of(url_of(backend))
    assert all(source[name] for name in source), [n for n in source if not source[n]]
    raw = gzip.decompress(path.read_bytes())
    assert "张秀英".encode() not in raw and b"13800000001" not in raw  # bodies stay sealed

    with fresh_database("linli_test") if backend.database else nullcontext() as url:
        other = target(tmp_path, backend, url, "restored")
        restored = other.cli("restore", str(path), "--yes")
        assert "Restored" in restored.stdout and "rows (100%)" in restored.stderr
        assert "python -m sync.server serve" in restored.stdout
        assert rows_of(url_of(other)) == source
        assert epoch_of(url_of(other)) != epoch_of(url_of(backend))  # phones will re-send
        assert revision_of(url_of(other)) == schema.heads()
        with Database(url_of(other)) as database, database.write() as conn:  # a new serial id
            conn.execute(db.console_attempts.insert().values(key="u:someone", at=1))
        with start_server(other) as again:  # and it serves: a new phone enrolls and pulls
            rt = other.runtime()
            try:
                code = code_for(rt, world.volunteer_b)
            finally:
                rt.close()
            phone = Phone(again.url)
            assert phone.enroll(code).status_code == 200
            phone.pull_all()
            assert any(op.entity_id == world.assignment_b for op in phone.received.values())


@pytest.mark.postgres
def test_sqlite_restores_into_postgres_and_back(tmp_path: Path) -> None:
    lite = Backend(tmp_path / "lite", None)
    lite.cli("init", "--public-url", "http://127.0.0.1:8700")
    with start_server(lite) as server:
        busy_day(lite, server.url)
    fill_empty_tables(url_of(lite))
    first = tmp_path / "from-sqlite.gz"
    lite.cli("backup", str(first))
    source = rows_of(url_of(lite))
    with fresh_database("linli_test") as url:
        pg = target(tmp_path, lite, url, "pg")
        pg.cli("restore", str(first), "--yes")
        assert rows_of(url) == source
        second = tmp_path / "from-postgres.gz"
        pg.cli("backup", str(second))
        header = json.loads(gzip.decompress(second.read_bytes()).split(b"\n", 1)[0])
        assert header["source"] == "postgresql"
        back = target(tmp_path, lite, None, "back")
        back.cli("restore", str(second), "--yes")
        assert rows_of(url_of(back)) == source


def test_an_older_backup_is_migrated_to_head(backend: Backend, tmp_path: Path) -> None:
    """A backup of a database at 0002 (before the phones' reports) restores, then the
    migrations bring it to head with its rows."""
    url = url_of(backend)
    wipe(backend)
    with Database(url) as database:
        database.migrate(create=True, target="0002")
        with database.write() as conn:
            conn.execute(
                db.devices.insert().values(
                    device_id="d-old",
                    member_id="mb-old",
                    role="volunteer",
                    enrolled_at=1,
                    last_counter=7,
                    system=False,
                )
            )
    secrets = config.load_secrets(config.resolve(backend.data_dir, backend.database))
    path = tmp_path / "old.gz"
    with Database(url) as database:
        made = backup.make(database, Vault(secrets.data_key), path)
    assert made.revision == ("0002",)
    other = target(tmp_path, backend, None, "restored")
    out = other.cli("restore", str(path), "--yes").stdout
    assert "0002" in out and "0003" in out
    restored = url_of(other)
    assert revision_of(restored) == schema.heads()
    with Database(restored) as database, database.read() as conn:
        row = conn.execute(select(db.devices)).one()
    assert (row.device_id, row.last_counter, row.app_version) == ("d-old", 7, None)


# ------------------------------------------------------------------------------ issue 9


@dataclass
class Volunteer:
    """A real phone: the app's store and the sync engine over HTTP."""

    engine: SyncEngine
    store: Any
    device_id: str
    member_id: str
    visits: list[str]

    def visit(self, assignment_id: str, outcome: str) -> str:
        record = self.store.get("assignment", assignment_id)
        assert record is not None
        op = record_visit(
            record,
            outcome,
            clock=HybridClock(),
            device=self.device_id,
            member=self.member_id,
            result={"condition": "ok"} if outcome == "done" else None,
        )
        self.store.record_change(op)
        visit_id = op.add["visits"][0]["id"]
        self.visits.append(visit_id)
        return visit_id


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[list[Any]]:
    from app.store import LocalStore

    stores = [LocalStore.create(tmp_path / f"phone-{i}", PIN) for i in range(2)]
    yield stores
    for store in stores:
        store.close()


def join(store: Any, url: str, code: str, label: str) -> Volunteer:
    engine = SyncEngine(store)
    me = engine.enroll(url, code, label)
    engine.sync()
    return Volunteer(engine, store, me.device_id, me.member_id, [])


def more_assignments(backend: Backend, world: World) -> dict[str, list[str]]:
    """Two more doors for each volunteer (the world has one each)."""
    from sync.server import admin

    def build(a: Any) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {world.volunteer_a: [], world.volunteer_b: []}
        for household, team, member in (
            (world.household_a, world.team_a, world.volunteer_a),
            (world.household_b, world.team_b, world.volunteer_b),
        ):
            for n in range(2):
                values = {
                    "type": "welfare_check",
                    "target_kind": "household",
                    "target_id": household,
                    "team_id": team,
                    "assignee_id": member,
                    "title": f"探访 {n + 2}",
                    "status": "pending",
                }
                out[member].append(a.op("assignment", set=values).entity_id)
        return out

    rt = backend.runtime()
    try:
        return admin.write(rt, build)[0]
    finally:
        rt.close()


def server_visits(backend: Backend, assignment_ids: list[str]) -> list[str]:
    return [
        v["id"]
        for a in assignment_ids
        for v in server_record(backend, "assignment", a).get("visits", [])
    ]


def test_a_restored_server_loses_no_visit(
    backend: Backend, tmp_path: Path, phones: list[Any]
) -> None:
    server = start_server(backend)
    port = server.port
    try:
        rt = backend.runtime()
        try:
            world = build_world(rt)
            codes = [code_for(rt, world.volunteer_a), code_for(rt, world.volunteer_b)]
        finally:
            rt.close()
        extra = more_assignments(backend, world)
        doors = {
            world.volunteer_a: [world.assignment_a, *extra[world.volunteer_a]],
            world.volunteer_b: [world.assignment_b, *extra[world.volunteer_b]],
        }
        a = join(phones[0], server.url, codes[0], "王桂兰的手机")
        b = join(phones[1], server.url, codes[1], "陈玉梅的手机")
        mine = {a.device_id: doors[world.volunteer_a], b.device_id: doors[world.volunteer_b]}

        # the morning: a first round of doors, synced
        for phone in (a, b):
            first, second, _third = mine[phone.device_id]
            phone.visit(first, "no_answer")
            phone.visit(second, "done")
            assert phone.engine.sync().acked == 2
        path = tmp_path / "midday.gz"
        backend.cli("backup", str(path))  # while serving
        # the afternoon: the revisit and the third door, synced to the server the backup misses
        for phone in (a, b):
            first, _second, third = mine[phone.device_id]
            phone.visit(first, "done")
            phone.visit(third, "refused")
            assert phone.engine.sync().acked == 2
        afternoon = server_visits(backend, doors[world.volunteer_a] + doors[world.volunteer_b])
        assert len(afternoon) == 8
    finally:
        server.stop()

    wipe(backend)
    out = backend.cli("restore", str(path), "--yes").stdout
    assert "re-sends" in out
    lost = server_visits(backend, doors[world.volunteer_a] + doors[world.volunteer_b])
    assert len(lost) == 4  # the restored server lacks the afternoon

    with ServerProcess(backend.data_dir, port, database=backend.database) as restarted:
        for phone in (a, b):
            summary = phone.engine.sync()
            assert summary.resent == 4, summary  # the epoch changed: kept changes went back
            if summary.more:
                phone.engine.sync()
            assert phone.store.pending_count() == 0
        # every visit, each once
        everything = doors[world.volunteer_a] + doors[world.volunteer_b]
        held = server_visits(backend, everything)
        assert Counter(held) == Counter(a.visits + b.visits)
        assert sorted(held) == sorted(afternoon)
        with Database(url_of(backend)) as database, database.read() as conn:
            fed = list(conn.execute(select(db.feed.c.op_id)).scalars())
            assert len(fed) == len(set(fed))  # no op fed twice
            assert conn.execute(select(func.count()).select_from(db.review)).scalar_one() == 0
        for phone, member in ((a, world.volunteer_a), (b, world.volunteer_b)):
            assert_equals_server_scope(backend, restarted.url, phone, member)
        for door in doors[world.volunteer_a]:
            assert server_record(backend, "assignment", door)["status"] in ("done", "refused")


def assert_equals_server_scope(backend: Backend, url: str, phone: Volunteer, member: str) -> None:
    """The phone holds exactly what a new phone of the same member pulls from the server, and
    each of those records equals the server's."""
    rt = backend.runtime()
    try:
        code = code_for(rt, member)
    finally:
        rt.close()
    fresh = Phone(url)
    assert fresh.enroll(code).status_code == 200
    fresh.pull_all()
    scope = {(op.kind, op.entity_id) for op in fresh.received.values()}
    assert scope
    from app.store import KINDS

    held = {(kind, r["id"]) for kind in KINDS for r in phone.store.all(kind)}
    assert held == scope
    for kind, entity_id in scope:
        assert phone.store.get(kind, entity_id) == server_record(backend, kind, entity_id)


# ------------------------------------------------------------------------------ bad input


@pytest.fixture
def made(backend: Backend, tmp_path: Path) -> Path:
    with start_server(backend) as server:
        busy_day(backend, server.url)
    path = tmp_path / "good.gz"
    backend.cli("backup", str(path))
    return path


@pytest.fixture
def empty(backend: Backend, tmp_path: Path) -> Iterator[Backend]:
    """An initialised, empty server of the backend's kind with the source's key file."""
    with fresh_database("linli_test") if backend.database else nullcontext() as url:
        other = target(tmp_path, backend, url, "empty")
        other.cli("init")
        yield other


def refused(backend: Backend, *args: str) -> str:
    done = backend.cli("restore", *args, check=False)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Nothing was changed" in done.stderr, done.stderr
    return done.stderr


def untouched(other: Backend) -> None:
    """Still exactly what ``init`` made: no row beyond it."""
    url = url_of(other)
    assert revision_of(url) == schema.heads()
    found = rows_of(url)
    assert {name for name, rows in found.items() if rows} == {"meta", "counters"}


def test_a_truncated_backup_is_refused(made: Path, empty: Backend, tmp_path: Path) -> None:
    data = made.read_bytes()
    cut = tmp_path / "cut.gz"
    cut.write_bytes(data[: len(data) // 2])
    assert "backup" in refused(empty, str(cut), "--yes")
    # a whole gzip stream whose last line (the trailer) is missing
    lines = gzip.decompress(data).splitlines(keepends=True)
    short = tmp_path / "short.gz"
    short.write_bytes(gzip.compress(b"".join(lines[:-1])))
    assert "incomplete" in refused(empty, str(short), "--yes")
    untouched(empty)


def test_a_corrupted_or_tampered_backup_is_refused(
    made: Path, empty: Backend, tmp_path: Path
) -> None:
    data = bytearray(made.read_bytes())
    data[len(data) // 2] ^= 0xFF
    flipped = tmp_path / "flipped.gz"
    flipped.write_bytes(bytes(data))
    assert "backup" in refused(empty, str(flipped), "--yes")
    lines = gzip.decompress(made.read_bytes()).splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith(b'["head",'))
    lines[at] = b'["head",999999]\n'  # a row changed, the checksum left as it was
    tampered = tmp_path / "tampered.gz"
    tampered.write_bytes(gzip.compress(b"".join(lines)))
    assert "checksum" in refused(empty, str(tampered), "--yes")
    other = tmp_path / "not-a-backup.gz"
    other.write_bytes(gzip.compress(b"hello\n"))
    assert "not a linli server backup" in refused(empty, str(other), "--yes")
    assert "Cannot open" in refused(empty, str(tmp_path / "missing.gz"), "--yes")
    untouched(empty)


def test_the_wrong_key_file_is_refused(made: Path, empty: Backend) -> None:
    key_file = empty.data_dir / config.KEY_FILE
    secrets = config.Secrets.generate()
    key_file.write_text(json.dumps(secrets.to_dict()), encoding="utf-8")
    text = refused(empty, str(made), "--yes")
    assert "is not the one the backup" in text and str(key_file) in text
    untouched(empty)


def test_a_backup_of_a_newer_schema_or_format_is_refused(
    made: Path, empty: Backend, tmp_path: Path
) -> None:
    def newer_revision(line: bytes) -> bytes:
        if line.startswith(b'{"format"'):
            header = json.loads(line)
            header["revision"] = ["9999_from_the_future"]
            return json.dumps(header).encode() + b"\n"
        return line

    newer = tmp_path / "newer.gz"
    rewrite(made, newer_revision, newer)
    assert "9999_from_the_future" in refused(empty, str(newer), "--yes")

    def newer_format(line: bytes) -> bytes:
        return line.replace(b'"version":1,', b'"version":2,', 1)

    future = tmp_path / "future.gz"
    rewrite(made, newer_format, future)
    assert "newer linli server" in refused(empty, str(future), "--yes")
    untouched(empty)


def test_a_database_that_holds_data_is_refused_unless_replaced(
    backend: Backend, made: Path
) -> None:
    before = rows_of(url_of(backend))
    text = refused(backend, str(made), "--yes")
    assert "already holds data" in text and "--replace --yes" in text
    assert "--yes" in refused(backend, str(made), "--replace")  # replace needs --yes
    assert rows_of(url_of(backend)) == before
    epoch = epoch_of(url_of(backend))
    done = backend.cli("restore", str(made), "--replace", "--yes")
    assert "Replaced everything" in done.stdout
    assert rows_of(url_of(backend)) == before and epoch_of(url_of(backend)) != epoch


def test_restore_is_refused_while_a_server_runs(made: Path, empty: Backend) -> None:
    with start_server(empty):
        assert "stop every server process" in refused(empty, str(made), "--yes")
    untouched(empty)
