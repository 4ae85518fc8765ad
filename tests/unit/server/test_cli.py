"""The server's command line in-process (click's ``CliRunner``) over a real SQLite data dir."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from sync.domain.enums import ASSIGNMENT_TYPES, ROLES
from sync.i18n import load_folder
from sync.server import admin, config, db
from sync.server.cli import build, main
from sync.server.db import Database
from sync.server.runtime import Runtime
from sync.server.service import SyncService
from sync.server.state import record_aad
from tests.integration.server.world import World, build_world
from tests.unit.server.conftest import make_runtime
from tests.unit.server.inproc import LocalPhone

LOCALES = Path(__file__).resolve().parents[3] / "sync" / "locales"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "server"


@pytest.fixture
def world(data_dir: Path) -> World:
    with make_runtime(data_dir) as rt:
        return build_world(rt)


def run(data_dir: Path, *args: str, lang: str = "en", **env: str) -> Result:
    return CliRunner().invoke(
        build(lang), ["--data-dir", str(data_dir), "--lang", lang, *args], env=env
    )


def ok(data_dir: Path, *args: str) -> str:
    done = run(data_dir, *args)
    assert done.exit_code == 0, (done.output, done.exception)
    return done.stdout


def record(data_dir: Path, kind: str, entity_id: str) -> dict[str, Any]:
    with Runtime.open(config.resolve(data_dir)) as rt, rt.db.read() as conn:
        t = db.records
        body = conn.execute(
            select(t.c.body).where(t.c.kind == kind, t.c.entity_id == entity_id)
        ).scalar_one()
        opened: dict[str, Any] = rt.vault.open(body, record_aad(kind, entity_id))
        return opened


def test_help_is_zh_cn_by_default_and_english_on_request(tmp_path: Path) -> None:
    runner = CliRunner()
    zh = runner.invoke(build("zh-CN"), ["--help"], env={"LINLI_LANG": ""})
    assert zh.exit_code == 0
    assert "用法：" in zh.stdout and "命令" in zh.stdout and "列出成员" in zh.stdout
    en = runner.invoke(build("en"), ["assign", "--help"])
    assert "Usage:" in en.stdout and "Options" in en.stdout
    for value in ASSIGNMENT_TYPES:
        assert value in en.stdout  # the choices are the domain's enum
    assert "server.cli." not in zh.stdout + en.stdout  # every text is in the catalogs


def test_main_reads_lang_anywhere_on_the_line_and_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["--lang", "en", "--help"]) == 0
    assert "Usage:" in capsys.readouterr().out
    assert main(["places", "--help", "--lang", "en"]) == 0
    assert "Usage:" in capsys.readouterr().out
    monkeypatch.setenv("LINLI_LANG", "en")
    assert main(["--help"]) == 0
    assert "Usage:" in capsys.readouterr().out
    monkeypatch.delenv("LINLI_LANG")
    assert main(["--help"]) == 0
    assert "用法：" in capsys.readouterr().out


def test_cli_catalog_has_the_same_keys_in_both_languages() -> None:
    cats = load_folder(LOCALES)
    zh = json.loads((LOCALES / "zh-CN" / "cli.json").read_text(encoding="utf-8"))
    en = json.loads((LOCALES / "en" / "cli.json").read_text(encoding="utf-8"))
    assert zh.keys() == en.keys()
    assert all(v.strip() for v in [*zh.values(), *en.values()])
    assert all(key in cats["zh-CN"] for key in zh)


def test_init_keeps_the_time_zone_and_an_old_config_still_loads(data_dir: Path) -> None:
    ok(data_dir, "init")
    saved = json.loads((data_dir / config.CONFIG_FILE).read_text(encoding="utf-8"))
    assert saved["timezone"] == "Asia/Shanghai"
    del saved["timezone"]  # a config written before the setting existed
    (data_dir / config.CONFIG_FILE).write_text(json.dumps(saved), encoding="utf-8")
    assert config.resolve(data_dir).timezone == config.DEFAULT_TIMEZONE
    ok(data_dir, "init", "--timezone", "Europe/Berlin")
    assert config.resolve(data_dir).timezone == "Europe/Berlin"
    ok(data_dir, "init")  # init again keeps the chosen zone
    assert config.resolve(data_dir).timezone == "Europe/Berlin"
    bad = run(data_dir, "init", "--timezone", "Mars/Olympus")
    assert bad.exit_code == 2 and "Mars/Olympus" in bad.stderr


def test_a_command_before_init_prints_the_coded_error_and_exits_2(data_dir: Path) -> None:
    done = run(data_dir, "places")
    assert done.exit_code == 2
    assert "has not been initialised" in done.stderr
    zh = run(data_dir, "places", lang="zh-CN")
    assert zh.exit_code == 2 and "init" in zh.stderr and "has not" not in zh.stderr


def test_global_options_may_follow_the_command(data_dir: Path, world: World) -> None:
    done = CliRunner().invoke(
        build("zh-CN"), ["teams", "--json", "--data-dir", str(data_dir), "--lang", "en"]
    )
    assert done.exit_code == 0, done.output
    assert {t["id"] for t in json.loads(done.stdout)} == {world.team_a, world.team_b}
    table = CliRunner().invoke(build("zh-CN"), ["teams", "--data-dir", str(data_dir)])
    assert "名称" in table.stdout and "观海轩2栋三人小组" in table.stdout


def test_lists_show_paths_names_and_json(data_dir: Path, world: World) -> None:
    places = ok(data_dir, "places")
    assert "大鹏湾区/观海轩社区/观海轩 1栋/1单元" in places and world.unit_a in places
    assert "6 row(s)." in places
    rows = json.loads(ok(data_dir, "places", "--json", "--under", "观海轩 2栋"))
    assert {r["id"] for r in rows} == {world.building_b, world.unit_b}
    teams = json.loads(ok(data_dir, "teams", "--json"))
    team_a = next(t for t in teams if t["id"] == world.team_a)
    assert team_a["area_paths"] == ["大鹏湾区/观海轩社区/观海轩 1栋"]
    members = json.loads(ok(data_dir, "members", "--json", "--team", "观海轩1栋邻里服务队"))
    assert {m["id"] for m in members} == {world.volunteer_a, world.lead_a}
    assert all("phone" not in m for m in members)
    assert all(m["role"] in ROLES for m in members)


def test_names_stand_for_ids_and_local_times_are_stored_as_utc(
    data_dir: Path, world: World
) -> None:
    out = ok(
        data_dir,
        "team",
        "create",
        "--name",
        "观海轩核酸采样队",
        "--kind",
        "three_person",
        "--community",
        "观海轩社区",
        "--area",
        "2栋/2单元",  # the start of a building's name may be left out
    )
    team_id = out.split(": ")[1].strip()
    team = record(data_dir, "team", team_id)
    assert team["community_id"] == world.community and list(team["area"]) == [world.unit_b]
    out = ok(
        data_dir,
        "assign",
        "--type",
        "welfare_check",
        "--target-kind",
        "place",
        "--target",
        "观海轩社区/观海轩 1栋/1单元",
        "--team",
        "观海轩1栋邻里服务队",
        "--assignee",
        "王桂兰",
        "--due",
        "2022-04-01 08:00",
    )
    assignment = record(data_dir, "assignment", out.split(": ")[1].strip())
    assert assignment["target_id"] == world.unit_a and assignment["team_id"] == world.team_a
    assert assignment["assignee_id"] == world.volunteer_a
    assert assignment["due"] == "2022-04-01T00:00:00Z"  # 08:00 in Asia/Shanghai
    out = ok(
        data_dir,
        *("assign", "--type", "welfare_check", "--target", world.household_a),
        *("--team", world.team_a, "--due", "2022-04-01T08:00:00+02:00"),
    )
    assert record(data_dir, "assignment", out.split(": ")[1].strip())["due"] == (
        "2022-04-01T06:00:00Z"
    )
    bad = run(
        data_dir,
        *("assign", "--type", "welfare_check", "--target", world.household_a),
        *("--team", world.team_a, "--due", "tomorrow morning"),
    )
    assert bad.exit_code == 2 and "tomorrow morning" in bad.stderr and "YYYY-MM-DD" in bad.stderr


def test_ambiguous_and_unknown_names_are_coded_errors_listing_candidates(
    data_dir: Path, world: World
) -> None:
    with Runtime.open(config.resolve(data_dir)) as rt:
        twin = admin.create_member(rt, name="王桂兰", role="volunteer", team_id=world.team_b)
    done = run(data_dir, "enroll", "--member", "王桂兰", "--no-terminal-qr")
    assert done.exit_code == 2
    assert "More than one member" in done.stderr
    assert world.volunteer_a in done.stderr and twin in done.stderr
    zh = run(data_dir, "enroll", "--member", "王桂兰", "--no-terminal-qr", lang="zh-CN")
    assert zh.exit_code == 2 and "不止一个" in zh.stderr
    unknown = run(
        data_dir, "notice", "publish", "--title", "通知", "--body", "内容", "--community", "观海"
    )
    assert unknown.exit_code == 2
    assert 'No place is called "观海"' in unknown.stderr and world.community in unknown.stderr
    two_units = run(data_dir, "places", "--under", "单元")
    assert two_units.exit_code == 2 and "No place" in two_units.stderr  # "单元" is no unit's name
    near = run(
        data_dir,
        *("assign", "--type", "welfare_check", "--target-kind", "place"),
        *("--target", "观海轩社区", "--team", "观海轩"),
    )
    assert near.exit_code == 2 and world.team_a in near.stderr


def test_import_then_assign_to_a_household_by_unit_path_and_room(
    data_dir: Path, world: World, tmp_path: Path
) -> None:
    csv = tmp_path / "households.csv"
    csv.write_text(
        "building,unit,room,name\n5栋,1单元,301,周淑珍\n5栋,1单元,302,吴德胜\n", encoding="utf-8"
    )
    assert "Households: 2 new" in ok(
        data_dir, "import-households", str(csv), "--community", "观海轩社区"
    )
    out = ok(
        data_dir,
        *("assign", "--type", "supply_delivery", "--target", "观海轩社区/5栋/1单元/302"),
        *("--team", world.team_a),
    )
    target = record(data_dir, "assignment", out.split(": ")[1].strip())["target_id"]
    household = record(data_dir, "household", target)
    assert household["room"] == "302"
    missing = run(
        data_dir,
        *("assign", "--type", "supply_delivery", "--target", "观海轩社区/5栋/1单元/999"),
        *("--team", world.team_a),
    )
    assert missing.exit_code == 2 and "999" in missing.stderr


def test_enroll_and_devices_show_local_time(data_dir: Path, world: World) -> None:
    out = ok(data_dir, "enroll", "--member", "王桂兰", "--no-terminal-qr")
    assert f"Member: {world.volunteer_a}" in out and "(Asia/Shanghai)" in out
    listing = ok(data_dir, "devices")
    assert "0 phone(s)." in listing
    assert json.loads(ok(data_dir, "devices", "--json")) == []
    gone = run(data_dir, "revoke", "dv-nobody")
    assert gone.exit_code == 1 and "dv-nobody" in gone.stdout


def test_enroll_without_member_or_name_and_role_exits_2(data_dir: Path, world: World) -> None:
    done = run(data_dir, "enroll", "--name", "孙丽娟")
    assert done.exit_code == 2 and "--member" in done.stdout
    bad_role = run(data_dir, "enroll", "--name", "孙丽娟", "--role", "mayor")
    assert bad_role.exit_code == 2 and "mayor" in bad_role.stderr


def test_runtime_and_database_close_as_context_managers(data_dir: Path) -> None:
    with make_runtime(data_dir) as rt:
        with rt.db.read() as conn:
            conn.execute(select(db.meta.c.key)).all()
        assert rt.db.engine.pool.checkedin() == 1
    assert rt.db.engine.pool.checkedin() == 0  # disposed: a fresh, empty pool
    with Database(config.resolve(data_dir).database_url) as database:
        with database.write():
            pass
        assert database.engine.pool.checkedin() == 1
    assert database.engine.pool.checkedin() == 0


def test_revoke_takes_a_device_id_label_or_member_name(data_dir: Path, world: World) -> None:
    with Runtime.open(config.resolve(data_dir)) as rt:
        service = SyncService(rt)
        first, second = (LocalPhone.enrolled(rt, service, world.volunteer_a) for _ in range(2))
        lead = LocalPhone.enrolled(rt, service, world.lead_a)
    listing = ok(data_dir, "devices")
    assert "3 phone(s)." in listing and "观海轩1栋邻里服务队" in listing and "never" in listing
    twice = run(data_dir, "revoke", "王桂兰")
    assert twice.exit_code == 2
    assert first.device_id in twice.stderr and second.device_id in twice.stderr
    assert lead.device_id in ok(data_dir, "revoke", "刘志强")
    assert first.device_id in ok(data_dir, "revoke", first.device_id)
    assert second.device_id in ok(data_dir, "revoke", "测试")  # the one active device so labelled
    rows = json.loads(ok(data_dir, "devices", "--json"))
    assert all(r["revoked"] for r in rows)
    assert run(data_dir, "revoke", "王桂兰").exit_code == 1  # no active device left
