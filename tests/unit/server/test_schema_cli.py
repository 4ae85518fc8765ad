"""``init`` / ``upgrade`` / ``serve`` and the schema version, in-process (click's ``CliRunner``)
over a real SQLite data dir; the PostgreSQL and real-process cases are in
tests/integration/server/test_schema.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from sync.server import config, schema
from sync.server.cli import build
from sync.server.config import ServerSetupError
from sync.server.db import Database


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "server"


def run(data_dir: Path, *args: str, lang: str = "en") -> Result:
    return CliRunner().invoke(build(lang), ["--data-dir", str(data_dir), "--lang", lang, *args])


def sql(data_dir: Path, statement: str) -> None:
    with Database(config.resolve(data_dir).database_url) as database, database.write() as conn:
        conn.execute(text(statement))


def at_baseline(data_dir: Path, *, versioned: bool) -> None:
    """Replace the database with one at the baseline revision (the schema ``init`` made before
    the review queue), as Alembic-era (``versioned``) or as from before Alembic."""
    url = config.resolve(data_dir).database_url
    Path(url.removeprefix("sqlite:///")).unlink()
    with Database(url) as database:
        database.migrate(create=True, target=schema.BASELINE)
        if not versioned:
            with database.write() as conn:
                conn.execute(text("DROP TABLE alembic_version"))


def test_upgrade_before_init_says_run_init(data_dir: Path) -> None:
    done = run(data_dir, "upgrade")
    assert done.exit_code == 2 and "has not been initialised" in done.stderr
    zh = run(data_dir, "upgrade", lang="zh-CN")
    assert zh.exit_code == 2 and "init" in zh.stderr and "has not" not in zh.stderr


def test_upgrade_after_init_has_nothing_to_do(data_dir: Path) -> None:
    assert run(data_dir, "init").exit_code == 0
    done = run(data_dir, "upgrade")
    assert done.exit_code == 0, done.output
    head = schema.heads()[0]
    assert f"already at {head}" in done.stdout and "nothing to do" in done.stdout
    zh = run(data_dir, "upgrade", lang="zh-CN")
    assert zh.exit_code == 0 and "无需操作" in zh.stdout
    assert "upgrade" in run(data_dir, "--help").stdout


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_serve_and_commands_refuse_a_schema_behind_head(data_dir: Path, lang: str) -> None:
    assert run(data_dir, "init").exit_code == 0
    at_baseline(data_dir, versioned=False)  # as a database from before Alembic
    for command in (["serve", "--port", "1"], ["devices"]):
        done = run(data_dir, *command, lang=lang)
        assert done.exit_code == 2, done.output
        assert "python -m sync.server upgrade" in done.stderr
    upgraded = run(data_dir, "upgrade", lang=lang)
    assert upgraded.exit_code == 0 and schema.BASELINE in upgraded.stdout
    assert "0002" in upgraded.stdout  # then the review queue's revision ran
    assert run(data_dir, "devices", lang=lang).exit_code == 0


def test_a_database_a_newer_server_wrote_is_refused(data_dir: Path) -> None:
    assert run(data_dir, "init").exit_code == 0
    sql(data_dir, "UPDATE alembic_version SET version_num = 'zz_from_the_future'")
    for command in (["serve", "--port", "1"], ["upgrade"], ["devices"]):
        done = run(data_dir, *command)
        assert done.exit_code == 2, done.output
        assert "newer version of the server" in done.stderr
        assert "zz_from_the_future" in done.stderr


def test_an_empty_database_is_not_initialised_not_busy(data_dir: Path) -> None:
    settings = config.resolve(data_dir)
    config.init_data_dir(settings, save_database=False)
    with Database(settings.database_url) as database:
        with pytest.raises(ServerSetupError) as refused:
            database.check_schema()
        assert refused.value.code == "server.not_initialised"
        with pytest.raises(ServerSetupError) as also:
            database.migrate()
        assert also.value.code == "server.not_initialised"
        was, steps = database.create_schema()
        assert was.state == schema.EMPTY
        assert [s.revision for s in steps] == [
            schema.BASELINE,
            "0002",
            "0003",
            "0004",
            "0005",
            "0006",
        ]
        assert database.check_schema().state == schema.HEAD
