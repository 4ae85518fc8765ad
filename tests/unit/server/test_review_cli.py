"""The review queue, ``retire`` and ``devices`` in-process: the real sync service and the real
command line (click's ``CliRunner``) over a real SQLite data dir. The real-process versions on
SQLite and PostgreSQL are in tests/integration/server/test_review_http.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from sync.server import config, db, review
from sync.server.cli import build
from sync.server.runtime import Runtime
from sync.server.service import SyncService
from tests.integration.server.world import World, build_world
from tests.unit.server.conftest import make_runtime
from tests.unit.server.inproc import LocalPhone


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "server"


@pytest.fixture
def rt(data_dir: Path) -> Iterator[Runtime]:
    runtime = make_runtime(data_dir)
    yield runtime
    runtime.close()


@pytest.fixture
def world(rt: Runtime) -> World:
    return build_world(rt)


@pytest.fixture
def volunteer(rt: Runtime, world: World) -> LocalPhone:
    phone = LocalPhone.enrolled(rt, SyncService(rt), world.volunteer_a)
    phone.pull_all()
    return phone


def run(data_dir: Path, *args: str, lang: str = "en") -> Result:
    return CliRunner().invoke(build(lang), ["--data-dir", str(data_dir), "--lang", lang, *args])


def ok(data_dir: Path, *args: str, lang: str = "en") -> str:
    done = run(data_dir, *args, lang=lang)
    assert done.exit_code == 0, (done.output, done.exception)
    return done.stdout


def listed(data_dir: Path, state: str = "open") -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        ok(data_dir, "review", "list", "--state", state, "--json")
    )
    return rows


def resident(data_dir: Path, resident_id: str) -> dict[str, Any]:
    with Runtime.open(config.resolve(data_dir)) as rt, rt.db.read() as conn:
        found = rt.ledger.world(conn).record("resident", resident_id)
    assert found is not None
    return found


def counts(rt: Runtime) -> tuple[int, int]:
    with rt.db.read() as conn:
        return (
            conn.execute(select(func.count()).select_from(db.ops)).scalar_one(),
            db.get_counter(conn, "head"),
        )


def test_a_refused_op_is_kept_once_and_shown_in_plain_words(
    data_dir: Path, rt: Runtime, world: World, volunteer: LocalPhone
) -> None:
    fix = volunteer.op("resident", world.resident_a, set={"phone": "13900000009"})
    req = volunteer.request([fix])
    first = volunteer.send(req)
    assert [r.code for r in first.rejected] == ["op.forbidden_role"]
    volunteer.send(req)  # the same batch again (a lost answer): answered from storage
    volunteer.sync([fix])  # the same op in a new batch: refused again
    rows = listed(data_dir)
    assert [(r["op_id"], r["code"], r["state"]) for r in rows] == [
        (fix.op_id, "op.forbidden_role", "open")
    ]
    row = rows[0]
    assert row["device"] == volunteer.device_id and row["member"] == world.volunteer_a
    assert (row["kind"], row["entity_id"]) == ("resident", world.resident_a)
    assert row["params"] == {"kind": "resident", "role": "volunteer"}
    assert row["op"] is None  # the list leaves bodies sealed

    table = ok(data_dir, "review", "list")
    assert "王桂兰" in table and "op.forbidden_role" in table and "1 change" in table
    shown = ok(data_dir, "review", "show", str(row["id"]))
    assert "Your role (volunteer) may not make this change to a resident record" in shown
    assert "王桂兰" in shown and volunteer.device_id in shown
    assert '"13900000009"' in shown and "Asia/Shanghai" in shown
    zh = ok(data_dir, "review", "show", str(row["id"]), lang="zh-CN")
    assert "拒绝原因" in zh and "王桂兰" in zh
    full = json.loads(ok(data_dir, "review", "show", str(row["id"]), "--json"))
    assert full["op"]["i"] == fix.op_id and full["op"]["s"] == {"phone": "13900000009"}


def test_the_body_is_sealed_and_bound_to_its_row(
    data_dir: Path, rt: Runtime, world: World, volunteer: LocalPhone
) -> None:
    fix = volunteer.op("resident", world.resident_a, set={"phone": "13900000009"})
    volunteer.sync([fix])
    with rt.db.read() as conn:
        body = conn.execute(select(db.review.c.body)).scalar_one()
        assert b"13900000009" not in body
        assert rt.vault.open(body, review.body_aad(1))["i"] == fix.op_id
        with pytest.raises(Exception, match="damaged"):
            rt.vault.open(body, review.body_aad(2))


def test_apply_reissues_the_change_as_the_system_and_phones_receive_it(
    data_dir: Path, rt: Runtime, world: World, volunteer: LocalPhone
) -> None:
    fix = volunteer.op("resident", world.resident_a, set={"phone": "13900000009"})
    volunteer.sync([fix])
    row_id = str(listed(data_dir)[0]["id"])
    assert run(data_dir, "review", "apply", row_id).exit_code == 2  # --by is required
    done = ok(data_dir, "review", "apply", row_id, "--by", "赵国华", "--note", "电话已核实")
    assert f"Applied review {row_id}" in done and "赵国华" in done
    assert resident(data_dir, world.resident_a)["phone"] == "13900000009"
    applied = listed(data_dir, "applied")
    assert [r["decided_by"] for r in applied] == ["赵国华"]
    assert applied[0]["applied_op"] and applied[0]["decided_at"]
    assert listed(data_dir) == []
    shown = ok(data_dir, "review", "show", row_id)
    assert "Applied by 赵国华" in shown and "电话已核实" in shown
    volunteer.pull_all()
    got = volunteer.record("resident", world.resident_a)
    assert got is not None and got["phone"] == "13900000009"
    server_op = next(
        op for op in volunteer.received.values() if op.op_id == applied[0]["applied_op"]
    )
    assert server_op.device == "srv-system"
    again = run(data_dir, "review", "apply", row_id, "--by", "赵国华")
    assert again.exit_code == 2 and "already applied" in again.stderr


def test_apply_that_no_longer_fits_says_why_and_changes_nothing(
    data_dir: Path, rt: Runtime, world: World, volunteer: LocalPhone
) -> None:
    coordinator = LocalPhone.enrolled(rt, SyncService(rt), world.coordinator)
    coordinator.pull_all()
    # the volunteer starts team B's door: outside her team's area, refused
    start = volunteer.op(
        "assignment",
        world.assignment_b,
        set={"status": "in_progress"},
        current={"id": world.assignment_b, "status": "pending"},
    )
    assert [r.code for r in volunteer.sync([start]).rejected] == ["op.out_of_scope"]
    cancel = coordinator.op("assignment", world.assignment_b, set={"status": "cancelled"})
    assert coordinator.sync([cancel]).acks == [cancel.op_id]
    before = counts(rt)
    row_id = str(listed(data_dir)[0]["id"])
    done = run(data_dir, "review", "apply", row_id, "--by", "赵国华")
    assert done.exit_code == 2, done.output
    assert "cannot be applied to the record as it is now" in done.stderr
    assert "The status cannot change this way" in done.stderr  # the cause, in plain words
    assert counts(rt) == before
    assert [r["op_id"] for r in listed(data_dir)] == [start.op_id]  # still open
    dismissed = ok(data_dir, "review", "dismiss", row_id, "--by", "赵国华", "--note", "已取消")
    assert f"Dismissed review {row_id}" in dismissed
    assert counts(rt) == before
    assert listed(data_dir) == [] and len(listed(data_dir, "dismissed")) == 1
    assert len(listed(data_dir, "all")) == 1
    gone = run(data_dir, "review", "show", "99")
    assert gone.exit_code == 2 and "no review number 99" in gone.stderr


def test_temporary_refusals_are_not_kept(
    data_dir: Path, rt: Runtime, world: World, volunteer: LocalPhone
) -> None:
    from dataclasses import replace

    from sync import hlc

    op = volunteer.op("assignment", world.assignment_a, set={"status": "in_progress"})
    future = replace(op, hlc=hlc.encode(hlc.wall_ms() + 3_600_000, 0))
    assert [r.code for r in volunteer.sync([future]).rejected] == ["op.clock_ahead"]
    assert listed(data_dir, "all") == []


def test_retire_and_revoke_show_in_devices(
    data_dir: Path, rt: Runtime, world: World, volunteer: LocalPhone
) -> None:
    lead = LocalPhone.enrolled(rt, SyncService(rt), world.lead_a)
    assert volunteer.device_id in ok(data_dir, "retire", volunteer.device_id)
    assert run(data_dir, "retire", volunteer.device_id).exit_code == 1  # already retired
    assert lead.device_id in ok(data_dir, "revoke", "刘志强")
    assert run(data_dir, "retire", lead.device_id).exit_code == 1  # revoked: not retired
    rows = {r["device_id"]: r for r in json.loads(ok(data_dir, "devices", "--json"))}
    assert rows[volunteer.device_id]["status"] == "retired"
    assert rows[volunteer.device_id]["retired_at"] and not rows[volunteer.device_id]["revoked"]
    assert rows[lead.device_id]["status"] == "revoked" and rows[lead.device_id]["revoked_at"]
    table = ok(data_dir, "devices")
    assert "retired 20" in table and "revoked 20" in table
    zh = ok(data_dir, "devices", lang="zh-CN")
    assert "已收回" in zh and "已停用" in zh
    # a retired phone that is then lost can still be revoked
    assert volunteer.device_id in ok(data_dir, "revoke", volunteer.device_id)


def test_a_retired_phone_is_processed_as_usual_and_told_to_wipe(
    data_dir: Path, rt: Runtime, world: World, volunteer: LocalPhone
) -> None:
    ok(data_dir, "retire", volunteer.device_id)
    before = counts(rt)
    start = volunteer.op("assignment", world.assignment_a, set={"status": "in_progress"})
    answer = volunteer.sync([start])
    assert answer.acks == [start.op_id] and answer.receipt is not None
    assert answer.wipe == "retired" and answer.changes == [] and not answer.more
    assert counts(rt)[0] == before[0] + 1
    assert volunteer.sync().wipe == "retired"  # with nothing to send: still told
