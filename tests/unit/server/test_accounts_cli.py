"""``user`` and ``audit`` commands in-process (click's ``CliRunner``) over a real SQLite data dir.
A real ``serve`` process with these accounts: tests/integration/server/test_console_http.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import update

from sync.server import db, demo
from sync.server.accounts import sessions
from sync.server.cli import build
from sync.server.runtime import Runtime
from tests.unit.server.conftest import make_runtime

PASSWORD = "correct horse battery"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "server"


@pytest.fixture
def rt(data_dir: Path) -> Iterator[Runtime]:
    runtime = make_runtime(data_dir)
    demo.seed(runtime)
    yield runtime
    runtime.close()


def run(data_dir: Path, *args: str, stdin: str | None = None, lang: str = "en") -> Result:
    return CliRunner().invoke(
        build(lang), ["--data-dir", str(data_dir), "--lang", lang, *args], input=stdin
    )


def test_user_add_list_reset_disable_through_the_cli(rt: Runtime, data_dir: Path) -> None:
    done = run(data_dir, "user", "add", "wang", "--role", "coordinator", "--scope", "观海轩社区")
    assert done.exit_code == 0, done.output
    assert "观海轩社区" in done.stdout and "One-time password" in done.stdout
    one_time = done.stdout.rsplit(": ", 1)[1].strip()
    assert sessions.login(rt, "wang", one_time, address="a", now=1).session.account.must_change
    done = run(
        data_dir, "user", "add", "li", "--role", "admin", "--password-stdin", stdin="short\n"
    )
    assert done.exit_code == 2 and "at least 12 characters" in done.output
    done = run(data_dir, "user", "add", "li", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    assert done.exit_code == 0 and PASSWORD not in done.stdout and "One-time" not in done.stdout
    rows = json.loads(run(data_dir, "user", "list", "--json").stdout)
    assert [(r["name"], r["role"], bool(r["scope"])) for r in rows] == [
        ("li", "admin", False),
        ("wang", "coordinator", True),
    ]
    assert "wang" in run(data_dir, "user", "list", lang="zh-CN").stdout
    done = run(data_dir, "user", "reset", "wang", "--password-stdin", stdin=PASSWORD + "\n")
    assert done.exit_code == 0
    assert sessions.login(rt, "wang", PASSWORD, address="a", now=2).session.complete
    assert run(data_dir, "user", "disable", "wang").exit_code == 0
    refused = run(data_dir, "user", "disable", "nobody")
    assert refused.exit_code == 2 and "nobody" in refused.output
    done = run(data_dir, "user", "add", "zhao", "--role", "coordinator")
    assert done.exit_code == 2 and "--scope" in done.output


def test_user_totp_prints_an_otpauth_uri_and_writes_a_png(
    rt: Runtime, data_dir: Path, tmp_path: Path
) -> None:
    assert run(data_dir, "user", "add", "li", "--role", "admin").exit_code == 0
    png = tmp_path / "qr.png"
    done = run(data_dir, "user", "totp", "li", "--png", str(png))
    assert done.exit_code == 0, done.output
    assert "otpauth://totp/linli:li?secret=" in done.stdout
    assert png.read_bytes().startswith(b"\x89PNG")
    assert run(data_dir, "user", "totp", "li", "--off").exit_code == 0


def test_audit_verify_names_the_first_tampered_entry(rt: Runtime, data_dir: Path) -> None:
    for name in ("a1", "a2", "a3"):
        assert run(data_dir, "user", "add", name, "--role", "admin").exit_code == 0
    done = run(data_dir, "audit", "verify")
    assert done.exit_code == 0 and "3 entries checked" in done.stdout
    entries = json.loads(run(data_dir, "audit", "list", "--json").stdout)
    assert [e["target"] for e in entries] == ["a3", "a2", "a1"]
    with rt.db.write() as conn:
        conn.execute(update(db.audit_log).where(db.audit_log.c.id == 2).values(who="someone"))
    done = run(data_dir, "audit", "verify")
    assert done.exit_code == 1 and "breaks at entry 2" in done.stdout
