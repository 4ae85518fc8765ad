"""``team edit|disable|enable|codes``, ``member add|move|disable`` and ``import-roster`` in-process
over a real SQLite data dir."""

from __future__ import annotations

import json
from pathlib import Path

from sync import protocol
from tests.integration.server.world import World
from tests.unit.server.test_cli import data_dir, ok, record, run, world

__all__ = ["data_dir", "world"]  # fixtures


def test_members_and_teams_through_the_cli(data_dir: Path, world: World) -> None:
    out = ok(data_dir, "member", "add", "--name", "新人", "--team", "观海轩1栋邻里服务队",
             "--phone", "+86 139 0000 0009")  # fmt: skip
    member_id = out.strip().rsplit(" ", 1)[-1]
    assert record(data_dir, "member", member_id)["phone"] == "13900000009"
    ok(data_dir, "member", "move", member_id, "--team", "观海轩2栋三人小组")
    assert record(data_dir, "member", member_id)["team_id"] == world.team_b
    assert "Nothing to change" in ok(data_dir, "member", "move", member_id, "--team", world.team_b)
    ok(data_dir, "team", "edit", "观海轩2栋三人小组", "--name", "二号楼三人小组")
    assert record(data_dir, "team", world.team_b)["name"] == "二号楼三人小组"
    codes = json.loads(ok(data_dir, "team", "codes", world.team_b, "--json"))
    assert member_id in {c["member_id"] for c in codes}
    link = protocol.parse_enroll_link(codes[0]["link"])
    assert link.code == codes[0]["code"] and link.fingerprint
    ok(data_dir, "team", "disable", world.team_b)
    assert record(data_dir, "team", world.team_b)["disabled_at"]
    refused = run(data_dir, "team", "codes", world.team_b)
    assert refused.exit_code == 2 and "is disabled" in refused.output
    ok(data_dir, "team", "enable", world.team_b)
    ok(data_dir, "member", "disable", member_id)
    assert record(data_dir, "member", member_id)["disabled_at"]


def test_import_roster_lists_problems_then_imports(
    data_dir: Path, world: World, tmp_path: Path
) -> None:
    bad = tmp_path / "名单.csv"
    bad.write_bytes(
        "姓名,电话,角色,队伍\n甲,138abc,队长,观海轩1栋邻里服务队\n乙,13800000002,,没有\n".encode(
            "gbk"
        )
    )
    done = run(data_dir, "import-roster", str(bad), "--community", "观海轩社区")
    assert done.exit_code == 1 and "line 2 [电话]" in done.output and "line 3 [队伍]" in done.output
    good = tmp_path / "名单-改.csv"
    good.write_bytes("姓名,电话,角色,队伍\n甲,13800000001,队长,观海轩1栋邻里服务队\n".encode("gbk"))
    out = ok(data_dir, "import-roster", str(good), "--community", "观海轩社区")
    assert "1 new" in out and "Roster imported: 1" in out
    again = ok(data_dir, "import-roster", str(good), "--community", "观海轩社区", "--dry-run")
    assert "0 new, 0 changed, 1 unchanged" in again
