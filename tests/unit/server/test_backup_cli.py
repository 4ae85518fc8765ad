"""``backup`` / ``restore`` in-process (click's ``CliRunner``) over real SQLite data dirs: the
confirmation a restore asks for, ``--replace`` without ``--yes``, and both languages. The real
server processes, PostgreSQL and the phones are in tests/integration/server/test_backup_http.py."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import inspect

from sync.server import config
from sync.server.cli import build
from sync.server.db import Database


def run(data_dir: Path, *args: str, lang: str = "en", stdin: str | None = None) -> Result:
    return CliRunner().invoke(
        build(lang), ["--data-dir", str(data_dir), "--lang", lang, *args], input=stdin
    )


def backed_up(tmp_path: Path) -> tuple[Path, Path]:
    """A demo server's backup, and a data dir holding only its key file."""
    source = tmp_path / "source"
    assert run(source, "init").exit_code == 0
    assert run(source, "demo").exit_code == 0
    path = tmp_path / "demo.gz"
    made = run(source, "backup", str(path))
    assert made.exit_code == 0, made.output
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copy2(source / config.KEY_FILE, fresh / config.KEY_FILE)
    return path, fresh


def tables(data_dir: Path) -> list[str]:
    with Database(config.resolve(data_dir).database_url) as database, database.read() as conn:
        return sorted(inspect(conn).get_table_names())


def test_restore_asks_first_and_a_no_changes_nothing(tmp_path: Path) -> None:
    path, fresh = backed_up(tmp_path)
    declined = run(fresh, "restore", str(path), stdin="n\n")
    assert declined.exit_code == 1
    assert "Nothing was restored" in declined.output
    assert tables(fresh) == []
    accepted = run(fresh, "restore", str(path), stdin="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "Restored" in accepted.output and "ops" in tables(fresh)


def test_replace_needs_yes_and_texts_come_in_both_languages(tmp_path: Path) -> None:
    path, fresh = backed_up(tmp_path)
    zh = run(fresh, "restore", str(path), "--replace", lang="zh-CN")
    assert zh.exit_code == 2 and "--yes" in zh.output and "没有任何改动" in zh.output
    en = run(fresh, "restore", str(path), "--replace")
    assert en.exit_code == 2 and "add --yes" in en.output
    assert tables(fresh) == []
    assert "备份" in run(fresh, "backup", "--help", lang="zh-CN").output
    done = run(fresh, "restore", str(path), "--yes", lang="zh-CN")
    assert done.exit_code == 0 and "数据纪元已更新" in done.output


def test_restore_without_the_key_file_says_which_file_to_put_back(tmp_path: Path) -> None:
    path, fresh = backed_up(tmp_path)
    (fresh / config.KEY_FILE).unlink()
    done = run(fresh, "restore", str(path), "--yes")
    assert done.exit_code == 2
    assert str(fresh / config.KEY_FILE) in done.output and "Do not run init" in done.output
    assert not (fresh / config.SQLITE_FILE).exists()
