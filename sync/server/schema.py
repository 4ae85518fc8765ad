"""The server database's schema version, under Alembic (migrations in :mod:`.migrations`).

A database is in one of five states (:func:`state`):

- ``empty`` — none of the server's tables: ``init`` has not run;
- ``unversioned`` — the server's tables without ``alembic_version``: created before Alembic, by
  ``metadata.create_all``; it is exactly the baseline (``0001``) and ``upgrade`` stamps it there;
- ``behind`` — at a revision this code knows, but not the newest: ``upgrade`` runs the rest;
- ``head`` — at this code's newest revision: the only state the server serves;
- ``ahead`` — at a revision this code does not know: a newer server wrote it ("update the server").

:func:`upgrade` runs inside :meth:`Database.write <sync.server.db.Database.write>`, so two upgrades
(or an upgrade and a writer) never run at once: SQLite's file lock plus ``BEGIN IMMEDIATE``,
PostgreSQL's advisory lock; the migrations and the new version commit together (PostgreSQL and
SQLite both have transactional DDL), so a failed upgrade leaves the database as it was.
``extra`` version directories are for tests only (a revision on top of this code's head).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from sync.server.config import ServerSetupError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"
#: the table whose presence marks a database ``init`` created (before or after Alembic)
MARKER_TABLE = "meta"
UPGRADE_COMMAND = "python -m sync.server upgrade"

EMPTY, UNVERSIONED, BEHIND, HEAD, AHEAD = "empty", "unversioned", "behind", "head", "ahead"


@dataclass(frozen=True, slots=True)
class Version:
    """Where a database stands: its state, its revision(s) and this code's head."""

    state: str
    current: tuple[str, ...]
    head: tuple[str, ...]

    def describe(self) -> str:
        return ",".join(self.current) or "-"


@dataclass(frozen=True, slots=True)
class Step:
    revision: str
    doc: str


def _config(extra: Sequence[str]) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    locations = [str(MIGRATIONS / "versions"), *(str(Path(p).resolve()) for p in extra)]
    cfg.set_main_option("version_locations", os.pathsep.join(locations))
    return cfg


@lru_cache(maxsize=8)
def _script(extra: tuple[str, ...]) -> ScriptDirectory:
    return ScriptDirectory.from_config(_config(extra))


def heads(extra: Sequence[str] = ()) -> tuple[str, ...]:
    """This code's newest revision(s) (one, unless two branches were merged badly)."""
    return tuple(sorted(_script(tuple(extra)).get_heads()))


def known(revisions: Sequence[str], extra: Sequence[str] = ()) -> bool:
    """True when this code's migrations hold every one of ``revisions`` (a backup's, say)."""
    names = {rev.revision for rev in _script(tuple(extra)).walk_revisions()}
    return set(revisions) <= names


def state(conn: Connection, extra: Sequence[str] = ()) -> Version:
    """Where the database on ``conn`` stands against this code's migrations."""
    script = _script(tuple(extra))
    head = heads(extra)
    current = tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
    if not current:
        found = inspect(conn).has_table(MARKER_TABLE)
        return Version(UNVERSIONED if found else EMPTY, (), head)
    if current == head:
        return Version(HEAD, current, head)
    known = {rev.revision for rev in script.walk_revisions()}
    return Version(BEHIND if set(current) <= known else AHEAD, current, head)


def check(conn: Connection, extra: Sequence[str] = ()) -> Version:
    """The database's version; ``server.schema_behind`` / ``server.schema_ahead`` unless at head
    (``empty`` is returned: the caller says "not initialised")."""
    found = state(conn, extra)
    if found.state in (UNVERSIONED, BEHIND):
        raise ServerSetupError("server.schema_behind", command=UPGRADE_COMMAND, **_versions(found))
    _refuse_ahead(found)
    return found


def _versions(found: Version) -> dict[str, str]:
    return {"current": found.describe(), "head": ",".join(found.head)}


def _refuse_ahead(found: Version) -> None:
    if found.state == AHEAD:
        raise ServerSetupError("server.schema_ahead", **_versions(found))


def upgrade(
    conn: Connection, extra: Sequence[str] = (), target: str = "heads"
) -> tuple[Version, list[Step]]:
    """Bring the database on ``conn`` (inside the caller's write transaction) to ``target``:
    stamp an unversioned database at the baseline, then run what is pending. The version before,
    and the revisions applied, oldest first (none when already there: idempotent)."""
    before = state(conn, extra)
    _refuse_ahead(before)
    cfg = _config(extra)
    cfg.attributes["connection"] = conn
    done = before.current
    if before.state == UNVERSIONED:
        command.stamp(cfg, BASELINE)
        done = (BASELINE,)
    script = _script(tuple(extra))
    had = _lineage(script, done)
    steps = [
        Step(rev.revision, _first_line(rev.doc))
        for rev in script.iterate_revisions(target, "base")
        if rev.revision not in had
    ]
    if steps:
        command.upgrade(cfg, target)
    steps.reverse()
    return before, steps


def _first_line(doc: str | None) -> str:
    return next(iter((doc or "").strip().splitlines()), "")


def _lineage(script: ScriptDirectory, revisions: Sequence[str]) -> set[str]:
    """The revisions and all their ancestors."""
    found: set[str] = set()
    for revision in revisions:
        found |= {rev.revision for rev in script.iterate_revisions(revision, "base")}
    return found
