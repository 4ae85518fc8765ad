"""The server's SQL schema (SQLAlchemy Core) and its two kinds of transaction.

Tables (every body that may hold resident data is a :mod:`vault` blob):

- ``ops`` — every accepted op once, by ``op_id`` (``kind``, ``entity_id``, author ``device``);
- ``feed`` — the global, gap-free order of ops devices pull (``seq`` → ``op_id``); an op can be
  fed again under a new ``seq`` when its entity moves into another team's scope;
- ``feed_scopes`` — ``(scope_key, seq)``: which scopes may pull each feed entry (the pull index);
- ``records`` — the merged state (``apply_op``) per ``(kind, entity_id)``, with ``refs`` (the
  plaintext ids the scope and authorization rules read) and ``parent_ref`` (indexed);
- ``devices`` (``retired_at`` / ``revoked_at``: see :mod:`.devices`), ``enroll_codes``,
  ``batches`` (each processed batch's stored answer), ``counters`` (``head`` = last seq,
  ``places`` = version of the place tree), ``meta``;
- ``review`` — every op from a device that the server refused for good, kept (its body sealed)
  until an operator applies or dismisses it (:mod:`.review`);
- ``console_users``, ``console_sessions``, ``console_attempts`` — the command centre's accounts,
  server-side sessions and failed logins (:mod:`.accounts`); ``audit_log`` — the hash-chained,
  append-only record of who saw and changed what (:mod:`.audit`);
- ``assignment_facts`` — the plaintext counting projection, one row per assignment
  (:mod:`.projection`); ``rounds`` and ``round_runs`` — rounds and each generation of a recurring
  one (:mod:`.rounds`).

Ordering: every transaction that appends to ``feed`` is a *write* transaction, and write
transactions are serialized — on SQLite by an exclusive ``flock`` on ``<db>.writelock`` (a
kernel queue: waiters wake at once instead of SQLite's sleeping busy handler) plus
``BEGIN IMMEDIATE``; on PostgreSQL by ``pg_advisory_xact_lock`` — from before the first read of
``head`` until COMMIT. So seqs are assigned and
committed in order, and a reader that sees ``head = n`` sees every entry ``<= n``.

The tables here are the schema at head; a database gets there through the Alembic migrations
(:mod:`sync.server.schema`, ``sync/server/migrations/``): ``init`` and ``upgrade`` run them
(:meth:`Database.migrate`), everything else refuses a database not at head
(:meth:`Database.check_schema`). Change a table only with a new revision (docs/upgrades.md).
"""

from __future__ import annotations

import fcntl
import os
import secrets
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from types import TracebackType
from typing import Any, NoReturn, Self

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    any_,
    bindparam,
    create_engine,
    event,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, NoResultFound, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from sync.errors import SyncError
from sync.server import schema
from sync.server.config import ServerSetupError

#: kept in ``meta`` for history; the schema's version is Alembic's (``alembic_version``, schema.py)
SCHEMA_VERSION = "1"
#: the PostgreSQL advisory lock key that serializes write transactions ("linli" in ASCII)
PG_WRITE_LOCK = 0x6C696E6C69
LOCK_TIMEOUT_S = 20
ID = 200

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("device_id", String(ID), primary_key=True),
    Column("member_id", String(ID), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("team_id", String(ID)),
    Column("label", LargeBinary),
    Column("signing_public", LargeBinary),
    Column("sealing_public", LargeBinary),
    Column("enrolled_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
    Column("last_counter", BigInteger, nullable=False, default=0),
    Column("last_sync_at", BigInteger),
    Column("scope_sig", String(64)),
    Column("system", Boolean, nullable=False, default=False),
    Column("retired_at", BigInteger),
    # the phone's latest report (migration 0003): app build, domain schema, unsent changes
    Column("app_version", String(40)),
    Column("schema_version", Integer),
    Column("pending", BigInteger),
    Column("reported_at", BigInteger),
)

enroll_codes = Table(
    "enroll_codes",
    metadata,
    Column("code_id", String(64), primary_key=True),
    Column("member_id", String(ID), nullable=False),
    Column("secret", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),
    Column("device_id", String(ID)),
)

ops = Table(
    "ops",
    metadata,
    Column("op_id", String(ID), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("entity_id", String(ID), nullable=False),
    Column("device", String(ID), nullable=False),
    Column("batch_id", String(ID)),
    Column("body", LargeBinary, nullable=False),
    Index("ix_ops_entity", "kind", "entity_id"),
)

feed = Table(
    "feed",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("op_id", String(ID), nullable=False),
    Column("device", String(ID), nullable=False),
)

feed_scopes = Table(
    "feed_scopes",
    metadata,
    Column("scope_key", String(ID + 20), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
)

records = Table(
    "records",
    metadata,
    Column("kind", String(20), primary_key=True),
    Column("entity_id", String(ID), primary_key=True),
    Column("parent_ref", String(ID), index=True),
    Column("refs", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("seq", BigInteger, nullable=False),
)

batches = Table(
    "batches",
    metadata,
    Column("batch_id", String(ID), primary_key=True),
    Column("device_id", String(ID), nullable=False),
    Column("counter", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("response", LargeBinary, nullable=False),
)

#: the values a households file last gave each household and resident, per community (sealed
#: JSON), so a re-import sets only what changed in the file (``sync.server.importing``)
import_values = Table(
    "import_values",
    metadata,
    Column("community_id", String(ID), primary_key=True),
    Column("entity_id", String(ID), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)


# -- rounds and the counting projection (migration 0006; services in .rounds, .projection) ----
#: one plaintext row per assignment: what the live views count (no names, phones or notes), kept
#: by :mod:`.projection` inside ``Ledger.commit``'s write transaction
assignment_facts = Table(
    "assignment_facts",
    metadata,
    Column("assignment_id", String(ID), primary_key=True),
    Column("community_id", String(ID)),
    Column("street_id", String(ID)),
    Column("building_id", String(ID)),
    Column("unit_id", String(ID)),
    Column("place_id", String(ID)),
    Column("household_id", String(ID)),
    Column("round_id", String(ID)),
    Column("type", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("outcome", String(20)),
    Column("revisit_due", String(40)),
    Column("people_sampled", BigInteger, nullable=False),
    Column("assignee_id", String(ID)),
    Column("team_id", String(ID)),
    Column("due", String(40)),
    Column("updated_seq", BigInteger, nullable=False),
    Index("ix_facts_community_round", "community_id", "round_id"),
    Index("ix_facts_round", "round_id"),
    Index("ix_facts_building", "building_id"),
    Index("ix_facts_household", "household_id"),
)

#: a round: bulk work in one action (``body``: its sealed definition — targets, distribution,
#: title); ``schedule`` the local times of a recurring round ("09:00,17:00"), else NULL
rounds = Table(
    "rounds",
    metadata,
    Column("round_id", String(ID), primary_key=True),
    Column("community_id", String(ID)),
    Column("type", String(40), nullable=False),
    Column("state", String(20), nullable=False),
    Column("schedule", String(200)),
    Column("created_at", BigInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),
)

#: each generation of a recurring round, once per round and slot (``YYYY-MM-DD HH:MM`` local):
#: the primary key is what keeps two server processes from generating it twice
round_runs = Table(
    "round_runs",
    metadata,
    Column("round_id", String(ID), primary_key=True),
    Column("slot", String(20), primary_key=True),
    Column("generated_round", String(ID), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

review = Table(
    "review",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("op_id", String(ID), nullable=False),
    Column("device", String(ID), nullable=False),
    Column("member", String(ID), nullable=False),
    Column("kind", String(ID), nullable=False),
    Column("entity_id", String(ID), nullable=False),
    Column("code", String(64), nullable=False),
    Column("params", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("state", String(20), nullable=False),
    Column("decided_by", String(ID)),
    Column("decided_at", BigInteger),
    Column("note", LargeBinary),
    Column("applied_op", String(ID)),
    Index("ix_review_state", "state", "id"),
    Index("ux_review_device_op", "device", "op_id", unique=True),
)


# -- the command centre (migration 0004; services in .accounts and .audit) -----------------
console_users = Table(
    "console_users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("scope", Text, nullable=False),  # JSON list of place ids; [] = the whole operation
    Column("password_hash", Text, nullable=False),
    Column("totp", LargeBinary),  # the TOTP secret, sealed (aad ``totp:<name>``)
    Column("totp_step", BigInteger),  # the last time step a code was accepted for (no replay)
    Column("must_change", Boolean, nullable=False, default=False),  # after a one-time password
    Column("created_at", BigInteger, nullable=False),
    Column("changed_at", BigInteger, nullable=False),
    Column("disabled_at", BigInteger),
)

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie's token
    Column("user_name", String(64), nullable=False, index=True),
    Column("stage", String(10), nullable=False),  # "totp" (password done) or "ok"
    Column("csrf", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("seen_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

console_attempts = Table(
    "console_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(ID), nullable=False),  # "u:<name>" or "a:<address>"
    Column("at", BigInteger, nullable=False),
    Index("ix_console_attempts_key_at", "key", "at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("at", BigInteger, nullable=False),
    Column("who", String(ID), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(ID), nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_action", "action", "id"),
)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(
        url, connect_args={"timeout": LOCK_TIMEOUT_S, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")  # a receipt means the ops survive a power cut
        cur.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("linli_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class _WriterLock:
    """One writer at a time across threads (a lock) and processes (``flock`` on a file)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._thread_lock = threading.Lock()
        self._fd: int | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        if not self._thread_lock.acquire(timeout=LOCK_TIMEOUT_S):
            raise SyncError("sync.server_busy", retry_after=5)
        try:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Closing:
    """A resource that a ``with`` block closes (``Database``, ``Runtime``)."""

    __slots__ = ()

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Database(Closing):
    """An engine plus the server's transaction helpers. Safe to share between threads.

    A context manager: ``with Database(url) as database:`` disposes of the engine when done."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._writer: _WriterLock | None = None
        if self.is_sqlite:
            self.engine = _sqlite_engine(url)
            path = self.engine.url.database
            if path and path != ":memory:":
                self._writer = _WriterLock(f"{path}.writelock")
        else:
            self.engine = create_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )

    def create_schema(
        self, *, extra: Sequence[str] = ()
    ) -> tuple[schema.Version, list[schema.Step]]:
        """``init``: bring the schema to head through the migrations (creating it on an empty
        database) and add the first rows; idempotent. See :func:`migrate`."""
        return self.migrate(create=True, extra=extra)

    def migrate(
        self,
        *,
        create: bool = False,
        extra: Sequence[str] = (),
        target: str = "heads",
        vault: Any = None,
    ) -> tuple[schema.Version, list[schema.Step]]:
        """Run the pending migrations in one serialized write transaction (two at once wait for
        each other; a failure changes nothing) and add the first rows where missing. Without
        ``create`` an empty database is ``server.not_initialised``. ``target`` other than head is
        for tests (a database at an older revision). The version before and the revisions
        applied (:func:`schema.upgrade`; ``vault`` for revisions that rebuild data)."""
        with self.write() as conn:
            if not create and schema.state(conn, extra).state == schema.EMPTY:
                self._not_initialised()
            result = schema.upgrade(conn, extra, target, vault)
            have = {r.name for r in conn.execute(select(counters.c.name))}
            for name in ("head", "places"):
                if name not in have:
                    conn.execute(counters.insert().values(name=name, value=0))
            keys = {r.key for r in conn.execute(select(meta.c.key))}
            if "epoch" not in keys:
                conn.execute(meta.insert().values(key="epoch", value=secrets.token_hex(4)))
            if "schema_version" not in keys:
                conn.execute(meta.insert().values(key="schema_version", value=SCHEMA_VERSION))
        return result

    def check_schema(self) -> schema.Version:
        """The schema's version, at head; ``server.not_initialised`` unless ``init`` created the
        schema here, ``server.schema_behind`` / ``server.schema_ahead`` unless it is at this
        code's head (:func:`schema.check`)."""
        try:
            with self.read() as conn:
                found = schema.check(conn)
                if found.state == schema.EMPTY:
                    self._not_initialised()
                conn.execute(select(meta.c.value).where(meta.c.key == "epoch")).one()
        except (DBAPIError, NoResultFound, LookupError, ValueError) as exc:
            self._not_initialised(exc)
        return found

    def _not_initialised(self, cause: BaseException | None = None) -> NoReturn:
        raise ServerSetupError("server.not_initialised", path=self.safe_url()) from cause

    def safe_url(self) -> str:
        """The URL without a password, for logs and messages."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (sees only committed data)."""
        with _busy(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A serialized write transaction: at most one runs at a time across all processes."""
        with (
            _busy(),
            self._writer.hold() if self._writer else nullcontext(),
            self.engine.connect().execution_options(linli_write=True) as conn,
            conn.begin(),
        ):
            if not self.is_sqlite:
                conn.exec_driver_sql(
                    f"SELECT set_config('lock_timeout', '{LOCK_TIMEOUT_S}s', true),"
                    f" pg_advisory_xact_lock({PG_WRITE_LOCK})"
                )
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
        if self._writer is not None:
            self._writer.close()

    def close(self) -> None:
        self.dispose()


@contextmanager
def _busy() -> Iterator[None]:
    """A database that is locked, timing out or unreachable means: try again later (503)."""
    try:
        yield
    except OperationalError as exc:
        raise SyncError("sync.server_busy", retry_after=5) from exc


_UPSERT_RECORDS = (
    " ON CONFLICT (kind, entity_id) DO UPDATE SET parent_ref = excluded.parent_ref,"
    " refs = excluded.refs, body = excluded.body, seq = excluded.seq"
)


def _pg_type(column: Column[Any]) -> str:
    kind = column.type
    if isinstance(kind, LargeBinary):
        return "bytea"
    if isinstance(kind, BigInteger):
        return "bigint"
    if isinstance(kind, Boolean):
        return "boolean"
    return "text"


def _bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]], tail: str) -> None:
    """Insert rows (all with the same keys) in ONE statement per call, written as plain SQL
    (table and column names are the schema's): on PostgreSQL ``INSERT … SELECT FROM unnest(
    arrays)`` — one round trip, one constant statement the server can keep prepared; on SQLite
    the driver's ``executemany`` (a C loop in the same process)."""
    if not rows:
        return
    names = list(rows[0])
    head = f"INSERT INTO {table.name} ({', '.join(names)}) "
    if conn.dialect.name == "postgresql":
        arrays = ", ".join(f"%s::{_pg_type(table.c[name])}[]" for name in names)
        columns = tuple([row[name] for row in rows] for name in names)
        conn.exec_driver_sql(f"{head}SELECT * FROM unnest({arrays}){tail}", columns)
    else:
        marks = ", ".join("?" * len(names))
        values = [tuple(row[name] for name in names) for row in rows]
        conn.exec_driver_sql(f"{head}VALUES ({marks}){tail}", values)


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows (all with the same keys) in one statement."""
    _bulk_insert(conn, table, rows, "")


def upsert_records(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert or replace merged records by ``(kind, entity_id)`` in one statement."""
    _bulk_insert(conn, records, rows, _UPSERT_RECORDS)


def upsert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]], key: str) -> None:
    """Insert or replace rows (all with the same keys) by their one-column primary ``key``."""
    if rows:
        sets = ", ".join(f"{n} = excluded.{n}" for n in rows[0] if n != key)
        _bulk_insert(conn, table, rows, f" ON CONFLICT ({key}) DO UPDATE SET {sets}")


def storable_id(value: object) -> bool:
    """True for an id every backend can store and compare (PostgreSQL refuses NUL bytes)."""
    return isinstance(value, str) and 0 < len(value) <= ID and value.isprintable()


def storable_int(value: int) -> bool:
    """True for an integer that fits a BIGINT column."""
    return 0 <= value < 2**63


def all_counters(conn: Connection) -> dict[str, int]:
    return {r.name: int(r.value) for r in conn.execute(select(counters.c.name, counters.c.value))}


def in_list(conn: Connection, column: Column[Any], values: list[Any]) -> Any:
    """``column IN values``; on PostgreSQL ``column = ANY(array)``, one constant statement
    (kept prepared) for any number of values."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def get_counter(conn: Connection, name: str) -> int:
    return int(conn.execute(select(counters.c.value).where(counters.c.name == name)).scalar_one())


def set_counter(conn: Connection, name: str, value: int) -> None:
    conn.execute(update(counters).where(counters.c.name == name).values(value=value))


def get_meta(conn: Connection, key: str) -> str | None:
    value = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none()
    return None if value is None else str(value)


def renew_epoch(conn: Connection, seen: str) -> str:
    """A new data epoch, unless it is no longer ``seen`` (someone renewed it first): the
    database was restored from a backup, so every phone's cursor is void and phones re-send what
    they keep. Returns the epoch in force. Inside a write transaction."""
    current = get_meta(conn, "epoch")
    if current != seen:
        return current or ""
    fresh = secrets.token_hex(4)
    conn.execute(update(meta).where(meta.c.key == "epoch").values(value=fresh))
    return fresh


def set_meta(conn: Connection, key: str, value: str) -> None:
    if get_meta(conn, key) is None:
        conn.execute(meta.insert().values(key=key, value=value))
    else:
        conn.execute(update(meta).where(meta.c.key == key).values(value=value))
