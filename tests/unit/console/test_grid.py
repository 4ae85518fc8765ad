"""The Grid page in process (the console mounted on a real SQLite runtime with the demo seeded):
the tree within the scope, create/rename/move, control status with "day N of 14" and its
history, refusals outside the scope (403 + audit entry) and without CSRF."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sync.server import audit, grid
from sync.server.importing.places import add_place
from sync.server.names import Directory
from sync.server.runtime import Runtime
from tests.unit.console.test_console import CONSOLE, client, csrf_of, login, world

__all__ = ["world"]


def audit_actions(rt: Runtime) -> list[tuple[str, str]]:
    with rt.db.read() as conn:
        return [(e.action, e.target) for e in audit.listing(conn)]


def record(rt: Runtime, kind: str, entity_id: str) -> dict:
    with rt.db.read() as conn:
        found = rt.ledger.world(conn).record(kind, entity_id)
    assert found is not None
    return found


def test_an_admin_builds_a_district_street_and_community_from_the_tree(world) -> None:
    rt, _summary = world
    c = client(rt)
    login(c, "admin1")
    page = c.get("/console/grid")
    assert page.status_code == 200 and 'id="grid-tree"' in page.text and "观海轩社区" in page.text
    r = c.post("/console/grid/places", data={"csrf": csrf_of(page.text), "name": "大亚湾区"})
    assert r.status_code == 200 and 'id="grid-done"' in r.text
    district = Directory(rt).place("大亚湾区")
    page = c.get(f"/console/grid/place/{district}")
    token = csrf_of(page.text)
    r = c.post("/console/grid/places", data={"csrf": token, "parent": district, "name": "霞涌街道"})
    street = Directory(rt).place("大亚湾区/霞涌街道")
    assert f'id="place-{street}"' in r.text
    r = c.post("/console/grid/places", data={"csrf": token, "parent": street, "name": "新村社区"})
    community = Directory(rt).place("霞涌街道/新村社区")
    assert record(rt, "place", community)["level"] == "community"
    # the same name twice under one parent: the coded message on the page, nothing written
    again = c.post(
        "/console/grid/places", data={"csrf": token, "parent": street, "name": "新村社区"}
    )
    assert again.status_code == 409 and 'id="grid-error"' in again.text
    assert ("place.add", community) in audit_actions(rt)


def test_rename_and_move_keep_everything_beneath(world) -> None:
    rt, summary = world
    names = Directory(rt)
    building = names.place("观海轩社区/1栋")
    other = add_place(rt, level="community", name="望海社区", parent_id=names.place("南澳街道"))
    c = client(rt)
    login(c, "admin1")
    page = c.get(f"/console/grid/place/{building}")
    assert 'id="move-form"' in page.text and other in page.text
    token = csrf_of(page.text)
    r = c.post(f"/console/grid/place/{building}/rename", data={"csrf": token, "name": "观海轩 9栋"})
    assert r.status_code == 200 and "观海轩 9栋" in r.text
    r = c.post(f"/console/grid/place/{building}/move", data={"csrf": token, "parent": other})
    assert r.status_code == 200 and 'id="grid-done"' in r.text
    assert Directory(rt).place_path(building) == "大鹏湾区/南澳街道/望海社区/观海轩 9栋"
    unit = Directory(rt).place("望海社区/观海轩 9栋/1单元")
    assert len(grid_households(rt, unit)) > 0  # households moved with their unit
    # a community cannot go under a building (levels), nor a building under its own unit
    r = c.post(f"/console/grid/place/{building}/move", data={"csrf": token, "parent": unit})
    assert r.status_code == 409 and 'id="grid-error"' in r.text
    assert ("place.move", building) in audit_actions(rt)
    assert summary.community_id  # the demo community is still there


def grid_households(rt: Runtime, unit: str) -> dict:
    from console.pages.grid import households_at

    return households_at(rt, unit)


def test_a_household_in_home_isolation_shows_day_1_of_14_and_its_history(world) -> None:
    rt, _summary = world
    unit = Directory(rt).place("观海轩社区/1栋/1单元")
    household = next(iter(grid_households(rt, unit)))
    c = client(rt)
    login(c, "coord")
    page = c.get(f"/console/grid/household/{household}")
    assert page.status_code == 200 and 'id="control-form"' in page.text
    r = c.post(
        f"/console/grid/household/{household}/control",
        data={"csrf": csrf_of(page.text), "status": "home_isolation", "since": "", "until": ""},
    )
    assert r.status_code == 200
    assert re.search(r'id="control-days">第 1 天/共 14 天<', r.text), r.text
    assert "居家隔离" in r.text and "coord" in r.text  # the history names who set it
    home = record(rt, "household", household)
    assert home["control"] == "home_isolation" and home["control_until"] > home["control_since"]
    assert [e["by"] for e in grid.history(home)] == ["coord"]
    unit_page = c.get(f"/console/lang/en?next=/console/grid/place/{unit}")
    assert "day 1 of 14" in unit_page.text
    assert ("control.set", household) in audit_actions(rt)
    # a release before the first day is refused with its coded message, nothing written
    r = c.post(
        f"/console/grid/household/{household}/control",
        data={
            "csrf": csrf_of(page.text),
            "status": "sealed",
            "since": "2022-04-10",
            "until": "2022-04-01",
        },
    )
    assert r.status_code == 409 and 'id="grid-error"' in r.text
    assert record(rt, "household", household)["control"] == "home_isolation"


def test_a_coordinator_sees_only_its_scope_and_cannot_move_out_of_it(world) -> None:
    rt, _summary = world
    names = Directory(rt)
    street = names.place("南澳街道")
    building = names.place("观海轩社区/2栋")
    outside = add_place(rt, level="community", name="望海社区", parent_id=street)
    c = client(rt)
    login(c, "coord")
    tree = c.get("/console/grid").text
    assert "观海轩社区" in tree and "望海社区" not in tree and "南澳街道" not in tree
    assert 'id="add-district-form"' not in tree
    r = c.get(f"/console/grid/place/{outside}")
    assert r.status_code == 403
    token = csrf_of(c.get(f"/console/grid/place/{building}").text)
    r = c.post(f"/console/grid/place/{building}/move", data={"csrf": token, "parent": outside})
    assert r.status_code == 403 and "console.grid_outside_scope" in r.text
    r = c.post("/console/grid/places", data={"csrf": token, "parent": street, "name": "x"})
    assert r.status_code == 403
    r = c.post("/console/grid/places", data={"csrf": token, "name": "某区"})  # a district
    assert r.status_code == 403
    assert Directory(rt).place_path(building).startswith("大鹏湾区/南澳街道/观海轩社区")
    denied = [t for a, t in audit_actions(rt) if a == "access.denied"]
    assert outside in denied and street in denied


def test_changes_without_csrf_are_refused_and_change_nothing(world) -> None:
    rt, _summary = world
    building = Directory(rt).place("观海轩社区/1栋")
    c = client(rt)
    login(c, "admin1")
    r = c.post(f"/console/grid/place/{building}/rename", data={"name": "改名"})
    assert r.status_code == 403 and "console.csrf" in r.text
    r = c.post(f"/console/grid/place/{building}/control", data={"status": "normal"})
    assert r.status_code == 403
    assert record(rt, "place", building)["name"] == "观海轩 1栋"
    assert record(rt, "place", building)["control"] == "sealed"


def test_grid_catalogs_have_the_same_keys_and_cover_the_templates() -> None:
    def catalog(lang: str) -> dict[str, str]:
        path = CONSOLE / "locales" / lang / "grid.json"
        loaded: dict[str, str] = json.loads(Path(path).read_text(encoding="utf-8"))
        return loaded

    zh, en = catalog("zh-CN"), catalog("en")
    assert zh.keys() == en.keys()
    templates = "".join(
        (CONSOLE / "templates" / name).read_text()
        for name in ("grid.html", "grid_place.html", "grid_household.html", "_grid_control.html")
    )
    for key in re.findall(r't\("(console\.grid\.[a-z_.]+)"', templates):
        assert key.endswith((".", "_")) or key in en, key
