"""Backup and restore of the server database: one file, any database, nothing in plaintext.

A backup is a consistent snapshot of every table (one read transaction: ``REPEATABLE READ READ
ONLY`` on PostgreSQL; on SQLite a WAL read transaction, which sees one snapshot however long it
runs and never blocks the writers) written as ONE gzip'd JSON-lines stream:

- line 1, the header: ``{"format": "linli-server-backup", "version": 1, "created_at": ms,
  "source": "sqlite" | "postgresql", "revision": ["0003"], "key_check": "…", "tables": {name:
  rows}}``; ``revision`` is the database's Alembic revision, ``key_check`` a MAC of a fixed text
  under the data key (:data:`KEY_CHECK`, :meth:`Vault.tag`): it names no key but tells whether
  a key file is the one the backup was made with;
- per table, a marker ``{"table": name, "columns": [...], "bytes": [...], "rows": n}`` and then
  one JSON array per row, in primary-key order; the ``bytes`` columns are base64. Bodies are
  copied exactly as stored: they are AES-GCM blobs under the data key, so the backup holds no
  resident data in plaintext (ids, kinds and sequence numbers are plaintext, as in the database);
- the trailer ``{"end": "linli-server-backup", "rows": {...}, "sha256": hex}``: the row counts
  again and the SHA-256 of every line before it (uncompressed). A file without it is truncated.

The format names no database: a SQLite backup restores into PostgreSQL and back. It is
written streaming (``CHUNK`` rows at a time, server-side cursors on PostgreSQL) to a temporary
file next to the target, fsync'd and renamed, mode 0600.

:func:`prepare` reads a file twice over (bounded memory): the whole stream is checked (gzip
CRC, trailer, checksum, row counts) before anything is written; then the format version, the
revision (not newer than this code's head), the key file, running server processes and an empty
target. :func:`restore` then, in ONE serialized write transaction (a failure writes nothing):
drops what ``init`` left (or, with ``replace``, everything), builds the schema at the backup's
revision through the migrations, inserts the rows in chunks, runs the migrations to head (and, on PostgreSQL, moves serial
columns' sequences past the restored ids) and renews the data epoch (:func:`db.renew_epoch`): every phone then re-sends the changes it kept
and pulls again from the start (docs/server.md, "Backup and restore").
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import os
import secrets
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    LargeBinary,
    MetaData,
    Table,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, OperationalError

from sync.errors import LinliError
from sync.server import db, schema
from sync.server.db import Database
from sync.server.vault import Vault

FORMAT = "linli-server-backup"
#: the backup format this code writes and the newest it reads (docs/upgrades.md)
FORMAT_VERSION = 1
#: the fixed text whose tag under the data key identifies the key file a backup needs
KEY_CHECK = "linli backup key check v1"
CHUNK = 1000
#: a longer line is not one this code wrote (bodies are far smaller)
MAX_LINE = 64 * 1024 * 1024
#: Alembic's own table: a restore rebuilds it through the migrations
SKIPPED = frozenset({"alembic_version"})
#: what ``init`` writes into a new database: a target holding rows only here counts as empty
INIT_TABLES = frozenset({"meta", "counters", "alembic_version"})

#: ``progress(stage, table, rows_done, rows_total)``; stage is "backup", "check" or "restore"
Progress = Callable[[str, str, int, int], None]


class BackupError(LinliError):
    """A backup cannot be made, or a backup file cannot (or must not) be restored."""

    code = "backup.failed"
    http_status = 500


@dataclass(frozen=True, slots=True)
class Made:
    """What :func:`make` wrote."""

    path: Path
    source: str
    revision: tuple[str, ...]
    rows: dict[str, int]
    sha256: str
    size: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Header:
    """A verified backup file's header, table markers and checksum."""

    path: Path
    version: int
    created_at: int
    source: str
    revision: tuple[str, ...]
    key_check: str
    rows: dict[str, int]
    columns: dict[str, list[str]]
    binary: dict[str, list[str]]
    sha256: str

    @property
    def total(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True, slots=True)
class Restored:
    """What :func:`restore` did."""

    header: Header
    replaced: bool
    steps: list[schema.Step]
    head: tuple[str, ...]
    epoch: str
    seconds: float
    dropped: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Plan:
    """A verified backup file, ready for :func:`restore` into ``database``."""

    database: Database
    header: Header
    replace: bool
    target_rows: int


def key_check(vault: Vault) -> str:
    return vault.tag(KEY_CHECK)


# ------------------------------------------------------------------------------------ backup


def make(database: Database, vault: Vault, path: Path, *, progress: Progress | None = None) -> Made:
    """Write a backup of ``database`` to ``path`` (replaced atomically once complete)."""
    started = time.perf_counter()
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise BackupError("backup.no_folder", path=str(target), folder=str(folder))
    tmp = folder / f".{target.name}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise BackupError("backup.cannot_write", path=str(target), reason=_why(exc)) from exc
    try:
        with open(fd, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as gz:
                source, revision, rows, digest = _dump(database, vault, gz, progress)
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
        _fsync_dir(folder)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError("backup.cannot_write", path=str(target), reason=_why(exc)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    size = target.stat().st_size
    return Made(
        target, source, revision, rows, digest, size, round(time.perf_counter() - started, 3)
    )


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class _Out:
    """Lines into the gzip stream, hashed, written a chunk at a time."""

    gz: gzip.GzipFile
    digest: Any = field(default_factory=hashlib.sha256)
    pending: list[bytes] = field(default_factory=list)

    def line(self, value: Any) -> None:
        self.pending.append(_encode(value))
        if len(self.pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            data = b"".join(self.pending)
            self.digest.update(data)
            self.gz.write(data)
            self.pending.clear()


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


@contextmanager
def _snapshot(database: Database) -> Iterator[Connection]:
    """One read transaction that sees a single snapshot from its first read to its end."""
    try:
        with database.engine.connect() as conn:
            if not database.is_sqlite:
                conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                yield conn
    except OperationalError as exc:
        raise BackupError("backup.database", database=database.safe_url()) from exc


def _tables(conn: Connection) -> list[Table]:
    """Every table of the database (reflected, so a newer schema's too), Alembic's aside."""
    names = sorted(set(inspect(conn).get_table_names()) - SKIPPED)
    found = MetaData()
    found.reflect(conn, only=names)
    return [found.tables[name] for name in names]


def _revision(conn: Connection, database: Database) -> tuple[str, ...]:
    version = schema.state(conn)
    if version.state == schema.EMPTY:
        raise BackupError("backup.not_initialised", database=database.safe_url())
    if version.state == schema.UNVERSIONED:
        return (schema.BASELINE,)
    return version.current


def _dump(
    database: Database, vault: Vault, gz: gzip.GzipFile, progress: Progress | None
) -> tuple[str, tuple[str, ...], dict[str, int], str]:
    out = _Out(gz)
    source = "sqlite" if database.is_sqlite else "postgresql"
    with _snapshot(database) as conn:
        revision = _revision(conn, database)
        tables = _tables(conn)
        counts = {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in tables
        }
        total = sum(counts.values())
        out.line(
            {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "created_at": int(time.time() * 1000),
                "source": source,
                "revision": list(revision),
                "key_check": key_check(vault),
                "tables": counts,
            }
        )
        done = 0
        for table in tables:
            columns = [c.name for c in table.columns]
            binary = [c.name for c in table.columns if isinstance(c.type, LargeBinary)]
            out.line(
                {
                    "table": table.name,
                    "columns": columns,
                    "bytes": binary,
                    "rows": counts[table.name],
                }
            )
            where = [i for i, c in enumerate(table.columns) if isinstance(c.type, LargeBinary)]
            order = list(table.primary_key.columns) or list(table.columns)
            query = select(table).order_by(*order)
            result = conn.execution_options(stream_results=True, yield_per=CHUNK).execute(query)
            written = 0
            for row in result:
                values = list(row)
                for i in where:
                    if values[i] is not None:
                        values[i] = base64.b64encode(bytes(values[i])).decode("ascii")
                out.line(values)
                written += 1
                if written % CHUNK == 0 and progress is not None:
                    progress("backup", table.name, done + written, total)
            if written != counts[table.name]:  # cannot happen in one snapshot
                raise BackupError("backup.database", database=database.safe_url())
            done += written
            if progress is not None:
                progress("backup", table.name, done, total)
    out.flush()
    digest = out.digest.hexdigest()
    gz.write(_encode({"end": FORMAT, "rows": counts, "sha256": digest}))
    return source, revision, counts, digest


# ------------------------------------------------------------------------------------ reading


def _damaged(path: Path, why: str) -> BackupError:
    """``backup.truncated`` (the end is missing), ``backup.checksum`` (the content changed) or
    ``backup.damaged`` (``why``: the part that does not parse)."""
    if why == "truncated":
        return BackupError("backup.truncated", path=str(path))
    if why == "checksum":
        return BackupError("backup.checksum", path=str(path))
    return BackupError("backup.damaged", path=str(path), why=why)


def _lines(path: Path) -> Iterator[bytes]:
    """The file's uncompressed lines; ``backup.unreadable`` / ``backup.damaged`` on failure."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise BackupError("backup.unreadable", path=str(path), reason=_why(exc)) from exc
    try:
        with raw, gzip.GzipFile(fileobj=raw, mode="rb") as handle:
            while True:
                line = handle.readline(MAX_LINE + 1)
                if not line:
                    return
                if not line.endswith(b"\n"):
                    raise _damaged(path, "truncated" if len(line) <= MAX_LINE else "line")
                yield line
    except gzip.BadGzipFile as exc:
        raise BackupError("backup.not_a_backup", path=str(path)) from exc
    except EOFError as exc:
        raise _damaged(path, "truncated") from exc
    except (zlib.error, OSError) as exc:
        raise _damaged(path, "gzip") from exc


def _object(path: Path, line: bytes) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError as exc:
        raise _damaged(path, "json") from exc
    if not isinstance(value, dict):
        raise _damaged(path, "json")
    return value


def _header_of(path: Path, line: bytes) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError as exc:
        raise BackupError("backup.not_a_backup", path=str(path)) from exc
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise BackupError("backup.not_a_backup", path=str(path))
    return value


def verify(path: Path, *, progress: Progress | None = None) -> Header:
    """Read the whole file once: its header, table markers, row counts and checksum, all
    consistent, or a coded error (nothing is written either way)."""
    path = Path(path)
    digest = hashlib.sha256()
    header: dict[str, Any] | None = None
    trailer: dict[str, Any] | None = None
    columns: dict[str, list[str]] = {}
    binary: dict[str, list[str]] = {}
    found: dict[str, int] = {}
    current: str | None = None
    done = total = 0
    for line in _lines(path):
        if trailer is not None:
            raise _damaged(path, "after_end")
        if header is None:
            header = _header_of(path, line)
            _check_version(path, header)
            total = sum(_counts(path, header.get("tables")).values())
        elif line.startswith(b"["):
            if current is None:
                raise _damaged(path, "row")
            found[current] += 1
            done += 1
            if progress is not None and done % (CHUNK * 10) == 0:
                progress("check", current, done, total)
        else:
            item = _object(path, line)
            if "end" in item:
                trailer = item
                continue
            current = _marker(path, item, columns, binary)
            found[current] = 0
        digest.update(line)
    if header is None:
        raise BackupError("backup.not_a_backup", path=str(path))
    if trailer is None:
        raise _damaged(path, "truncated")
    if trailer.get("sha256") != digest.hexdigest():
        raise _damaged(path, "checksum")
    rows = _counts(path, header.get("tables"))
    if rows != found or _counts(path, trailer.get("rows")) != found:
        raise _damaged(path, "counts")
    if progress is not None:
        progress("check", "", done, total)
    revision = header.get("revision")
    if not isinstance(revision, list) or not all(isinstance(r, str) for r in revision):
        raise _damaged(path, "header")
    return Header(
        path=path,
        version=int(header["version"]),
        created_at=int(header.get("created_at") or 0),
        source=str(header.get("source") or "?"),
        revision=tuple(revision),
        key_check=str(header.get("key_check") or ""),
        rows=rows,
        columns=columns,
        binary=binary,
        sha256=digest.hexdigest(),
    )


def _check_version(path: Path, header: dict[str, Any]) -> None:
    version = header.get("version")
    if not isinstance(version, int) or version < 1:
        raise _damaged(path, "header")
    if version > FORMAT_VERSION:
        raise BackupError(
            "backup.format_newer", path=str(path), version=version, supported=FORMAT_VERSION
        )


def _counts(path: Path, raw: Any) -> dict[str, int]:
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and v >= 0 for k, v in raw.items()
    ):
        raise _damaged(path, "header")
    return dict(raw)


def _marker(
    path: Path, item: dict[str, Any], columns: dict[str, list[str]], binary: dict[str, list[str]]
) -> str:
    name, names, blobs = item.get("table"), item.get("columns"), item.get("bytes")
    if (
        not isinstance(name, str)
        or name in columns
        or not isinstance(names, list)
        or not isinstance(blobs, list)
        or not all(isinstance(n, str) for n in names)
        or not set(blobs) <= set(names)
    ):
        raise _damaged(path, "table")
    columns[name], binary[name] = names, blobs
    return name


def _rows(header: Header) -> Iterator[tuple[str, list[list[Any]]]]:
    """The file's rows again (it was verified), ``CHUNK`` at a time per table, bytes decoded."""
    path = header.path
    current: str | None = None
    chunk: list[list[Any]] = []
    decode: list[int] = []
    digest = hashlib.sha256()  # again: the file must not have changed since it was verified
    lines = _lines(path)
    digest.update(next(lines, b""))  # the header
    for line in lines:
        if line.startswith(b"["):
            digest.update(line)
            try:
                values = json.loads(line)
                for i in decode:
                    if values[i] is not None:
                        values[i] = base64.b64decode(values[i], validate=True)
            except (ValueError, TypeError, IndexError, binascii.Error) as exc:
                raise _damaged(path, "row") from exc
            if current is None or len(values) != len(header.columns[current]):
                raise _damaged(path, "row")
            chunk.append(values)
            if len(chunk) >= CHUNK:
                yield current, chunk
                chunk = []
            continue
        item = _object(path, line)
        if current is not None and chunk:
            yield current, chunk
            chunk = []
        if "end" in item:
            if digest.hexdigest() != header.sha256:
                raise _damaged(path, "checksum")
            return
        digest.update(line)
        current = str(item["table"])
        names = header.columns[current]
        decode = [names.index(n) for n in header.binary[current]]
    raise _damaged(path, "truncated")


# ------------------------------------------------------------------------------------ restore


def prepare(
    database: Database,
    vault: Vault,
    path: Path,
    *,
    key_file: Path,
    replace: bool = False,
    progress: Progress | None = None,
) -> Plan:
    """Check everything a restore of ``path`` into ``database`` needs, writing nothing: the file
    whole and unchanged, a format and a revision this code knows, the key file the backup was
    made with, no other process on the database, and an empty database (any, with
    ``replace``)."""
    header = verify(Path(path), progress=progress)
    if not schema.known(header.revision):
        raise BackupError(
            "backup.revision_newer",
            path=str(path),
            revision=",".join(header.revision),
            head=",".join(schema.heads()),
        )
    if not secrets.compare_digest(header.key_check, key_check(vault)):
        raise BackupError("backup.wrong_key", path=str(path), key_file=str(key_file))
    with _snapshot(database) as conn:
        others = _others(conn, database)
        if others:
            raise BackupError(
                "backup.server_running", database=database.safe_url(), processes=", ".join(others)
            )
        holding = _holding(conn)
    if holding and not replace:
        raise BackupError(
            "backup.not_empty", database=database.safe_url(), tables=", ".join(holding)
        )
    return Plan(database, header, replace, len(holding))


def restore(plan: Plan, *, progress: Progress | None = None) -> Restored:
    """Restore the verified backup of ``plan`` in ONE serialized write transaction: a failure
    leaves the database as it was. See the module's docstring."""
    started = time.perf_counter()
    database, header = plan.database, plan.header
    url = database.safe_url()
    try:
        with database.write() as conn:
            holding = _holding(conn)  # again, under the write lock
            if holding and not plan.replace:
                raise BackupError("backup.not_empty", database=url, tables=", ".join(holding))
            present = MetaData()
            present.reflect(conn)
            dropped = sorted(present.tables)
            present.drop_all(conn)
            for revision in header.revision:
                schema.upgrade(conn, target=revision)
            tables = _targets(conn, header)
            done = 0
            for name, chunk in _rows(header):
                table = tables[name]
                names = header.columns[name]
                flags = [isinstance(table.c[n].type, Boolean) for n in names]
                conn.execute(
                    table.insert(),
                    [
                        {
                            n: (bool(v) if flag and v is not None else v)
                            for n, v, flag in zip(names, row, flags, strict=True)
                        }
                        for row in chunk
                    ],
                )
                done += len(chunk)
                if progress is not None:
                    progress("restore", name, done, header.total)
            _, steps = schema.upgrade(conn)
            _advance_sequences(conn, list(header.rows))
            seen = db.get_meta(conn, "epoch")
            if seen is None:
                epoch = secrets.token_hex(4)
                db.set_meta(conn, "epoch", epoch)
            else:
                epoch = db.renew_epoch(conn, seen)
    except OperationalError as exc:
        raise BackupError("backup.database", database=url) from exc
    except DBAPIError as exc:
        raise BackupError("backup.rows_refused", path=str(header.path), database=url) from exc
    if progress is not None:
        progress("restore", "", header.total, header.total)
    return Restored(
        header=header,
        replaced=bool(plan.target_rows),
        steps=steps,
        head=schema.heads(),
        epoch=epoch,
        seconds=round(time.perf_counter() - started, 3),
        dropped=[n for n in dropped if n not in SKIPPED],
    )


def _targets(conn: Connection, header: Header) -> dict[str, Table]:
    """The tables just built at the backup's revision; each must have exactly the backup's
    columns (else the file does not match the revision it names)."""
    found = MetaData()
    found.reflect(conn)
    for name, columns in header.columns.items():
        table = found.tables.get(name)
        if table is None or sorted(c.name for c in table.columns) != sorted(columns):
            raise _damaged(header.path, "schema")
    return dict(found.tables)


def _advance_sequences(conn: Connection, names: list[str]) -> None:
    """PostgreSQL: move each serial / identity column's sequence past the restored ids, so the
    next row the server adds gets a fresh one (SQLite takes ``max(rowid) + 1`` by itself)."""
    if conn.dialect.name != "postgresql":
        return
    found = inspect(conn)
    for name in names:
        for column in found.get_columns(name):
            sequence = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": name, "c": column["name"]}
            ).scalar_one()
            if sequence is None:
                continue
            quote = conn.dialect.identifier_preparer.quote
            conn.execute(
                text(
                    f"SELECT setval(:s, coalesce((SELECT max({quote(column['name'])})"
                    f" FROM {quote(name)}), 0) + 1, false)"
                ),
                {"s": sequence},
            )


def _holding(conn: Connection) -> list[str]:
    """The tables that hold rows other than what ``init`` writes."""
    names = sorted(set(inspect(conn).get_table_names()) - INIT_TABLES)
    held = []
    for name in names:
        quoted = conn.dialect.identifier_preparer.quote(name)
        if conn.execute(text(f"SELECT 1 FROM {quoted} LIMIT 1")).first() is not None:
            held.append(name)
    return held


def _others(conn: Connection, database: Database) -> list[str]:
    """Other processes using the database (a server still serving, most likely)."""
    if not database.is_sqlite:
        rows = conn.execute(
            text(
                "SELECT pid, coalesce(application_name, ''), coalesce(host(client_addr), 'local')"
                " FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        )
        return [f"pid {pid} {app} {addr}".replace("  ", " ") for pid, app, addr in rows]
    path = database.engine.url.database
    if not path or path == ":memory:":
        return []
    return _holders(Path(path).resolve())


def _holders(path: Path) -> list[str]:
    """Processes (of this user: /proc shows no more) with the SQLite file open, this one aside."""
    wanted = {str(path), f"{path}-wal"}
    mine = os.getpid()
    found = []
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == mine:
            continue
        try:
            if any(os.readlink(fd) in wanted for fd in (entry / "fd").iterdir()):
                found.append(f"pid {entry.name}")
        except OSError:
            continue
    return sorted(found)
