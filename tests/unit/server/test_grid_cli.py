"""``place rename|move``, ``control set|show`` and ``init --practice`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from sync.server import config
from sync.server.runtime import Runtime
from sync.server.service import SyncService
from tests.integration.server.world import World, build_world
from tests.unit.server.inproc import LocalPhone
from tests.unit.server.test_cli import data_dir, ok, record, run, world

__all__ = ["data_dir", "world"]


def test_rename_move_and_control_by_path(data_dir: Path, world: World) -> None:
    out = ok(data_dir, "place", "rename", "观海轩社区/观海轩 1栋", "观海轩 3栋")
    assert "Renamed: 大鹏湾区/观海轩社区/观海轩 3栋" in out
    out = ok(data_dir, "place", "move", "观海轩 3栋/1单元", "--to", "观海轩 2栋")
    assert "Moved: 大鹏湾区/观海轩社区/观海轩 2栋/1单元" in out
    assert record(data_dir, "place", world.unit_a)["parent_id"] == world.building_b
    refused = run(data_dir, "place", "move", "观海轩 2栋", "--to", "观海轩 2栋/1单元")
    assert refused.exit_code != 0 and "cannot be moved under itself" in refused.output

    out = ok(
        data_dir, "control", "set", "观海轩 2栋", "sealed", "--since", "2022-04-01",
        "--until", "2022-04-15",
    )  # fmt: skip
    assert "观海轩 2栋: Sealed" in out
    building = record(data_dir, "place", world.building_b)
    assert building["control_since"] == "2022-03-31T16:00:00Z"  # local midnight, Shanghai
    assert building["control_until"] == "2022-04-14T16:00:00Z"
    # a household (by id: these have no room), in home isolation from today: day 1 of 14
    out = ok(data_dir, "control", "set", world.household_a, "home_isolation")
    assert "Home isolation · day 1 of 14" in out, out
    shown = ok(data_dir, "control", "show", world.household_a)
    assert "Normal → Home isolation" in shown and "cli:" in shown
    bad = run(data_dir, "control", "set", "观海轩 2栋", "sealed", "--since", "2022-04-15",
              "--until", "2022-04-01")  # fmt: skip
    assert bad.exit_code != 0 and "must be after the first day" in bad.output


def test_init_practice_marks_the_server_and_its_sync_answers(tmp_path: Path) -> None:
    folder = tmp_path / "practice"
    out = ok(folder, "init", "--practice")
    assert "practice server" in out
    saved = json.loads((folder / config.CONFIG_FILE).read_text(encoding="utf-8"))
    assert saved["practice"] is True
    assert config.resolve(folder).practice is True
    ok(folder, "init")  # init again without the flag keeps it a practice server
    assert config.resolve(folder).practice is True
    with Runtime.open(config.resolve(folder)) as rt:
        w = build_world(rt)
        phone = LocalPhone.enrolled(rt, SyncService(rt), w.volunteer_a)
        assert phone.sync().practice is True
    live = tmp_path / "live"
    ok(live, "init")
    assert config.resolve(live).practice is False


def test_a_live_server_sends_no_practice_flag(data_dir: Path, world: World) -> None:
    with Runtime.open(config.resolve(data_dir)) as rt:
        phone = LocalPhone.enrolled(rt, SyncService(rt), world.volunteer_a)
        assert phone.sync().practice is False
