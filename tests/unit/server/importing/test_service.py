"""preview -> commit on a real SQLite server runtime: every problem, re-import semantics,
ambiguous residents, same names, field-added residents, an interrupted commit run again."""

from __future__ import annotations

from typing import Any

import pytest

from sync.errors import ValidationError
from sync.server import admin, importing
from sync.server.admin import Author
from sync.server.importing import apply
from sync.server.importing.places import add_place
from sync.server.runtime import Runtime
from tests.integration.server.world import World, build_world
from tests.unit.server.importing.helpers import (
    HEADER,
    csv_source,
    fingerprint,
    records,
    xlsx_source,
)

GOOD = [
    HEADER,
    "1,5栋,1单元,301,周淑珍,女,85,+86 138 0000 3333,独居老人、低保,居家隔离,需上门",
    "2,,,301,吴德胜,男,62,138-0000-3334,血透,,",
    "3,,2单元,302,王芳,女,30,13800003335,,封控,",
    "4,6栋,1单元,101,李强,男,45,,退役军人,,",
]


def residents_by_name(rt: Runtime) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in records(rt, "resident").values():
        out.setdefault(r["name"], []).append(r)
    return out


def run(rt: Runtime, world: World, lines: list[str], **kw: Any) -> importing.Preview:
    preview = importing.preview(rt, csv_source(lines, "gbk"), world.community, **kw)
    importing.commit(rt, preview)
    return preview


def test_a_committee_file_imports_with_labels_bands_phones_and_fill_down(rt: Runtime) -> None:
    world = build_world(rt)
    before = fingerprint(rt)
    preview = importing.preview(rt, csv_source(GOOD, "gbk"), world.community)
    assert fingerprint(rt) == before  # a preview writes nothing
    assert preview.encoding == "gb18030" and preview.ready
    assert (preview.households.new, preview.residents.new, preview.places) == (3, 4, 5)
    assert preview.filled == 2
    importing.commit(rt, preview)
    people = residents_by_name(rt)
    zhou = people["周淑珍"][0]
    assert zhou["phone"] == "13800003333" and zhou["age_band"] == "80+"
    assert zhou["care_flags"] == ["elderly_alone", "hardship"] and zhou["care_note"] == "需上门"
    assert people["吴德胜"][0]["care_flags"] == ["scheduled_treatment"]
    assert people["吴德胜"][0]["household_id"] == zhou["household_id"]
    li = people["李强"][0]
    assert li["care_flags"] == ["other"] and li["care_other"] == "退役军人"
    homes = records(rt, "household")
    home = homes[zhou["household_id"]]
    assert (home["building"], home["unit"], home["room"], home["control"]) == (
        "5栋",
        "1单元",
        "301",
        "home_isolation",
    )
    assert home["address"] == "观海轩社区 5栋 1单元 301"
    assert homes[people["王芳"][0]["household_id"]]["control"] == "sealed"
    # the same file again: nothing new, nothing written
    again = importing.preview(rt, csv_source(GOOD, "gbk"), world.community)
    assert (again.households.unchanged, again.residents.unchanged, again.plan) == (3, 4, [])


def test_every_problem_is_listed_and_nothing_is_written(rt: Runtime) -> None:
    world = build_world(rt)
    bad = [
        HEADER,
        "1,5栋,1单元,301,周淑珍,女,85,1380000,独居老人,居家隔离,",
        "2,5栋,1单元,302,吴德胜,男,两百,13800003334,,被隔离了,",
        "3,,1单元,303,王芳,女,30,13800003335,,,",
        "4,5栋,1单元,,=A1,女,30,,,,",
        "5,5栋,1单元,304,赵六,男,30,13800003336,,,",
    ]
    before = fingerprint(rt)
    preview = importing.preview(rt, csv_source(bad, "gbk"), world.community)
    found = {(p.line, p.column, p.reason) for p in preview.problems}
    assert found == {
        (2, "联系电话", "phone"),
        (3, "年龄", "age"),
        (3, "管控状态", "control"),
        (5, "房号", "required"),
        (5, "姓名", "formula"),
    }
    assert not preview.ready and preview.bad_lines == {2, 3, 5}
    # line 4's blank building is filled from the row above; line 6 is fine
    assert (preview.households.new, preview.residents.new) == (2, 2)
    with pytest.raises(ValidationError) as refused:
        importing.commit(rt, preview)
    assert refused.value.code == "import.not_ready"
    assert fingerprint(rt) == before
    importing.commit(rt, preview, skip_bad_rows=True)
    assert set(residents_by_name(rt)) >= {"王芳", "赵六"}
    assert "周淑珍" not in residents_by_name(rt)


def test_reimport_sets_only_what_changed_in_the_file(rt: Runtime) -> None:
    world = build_world(rt)
    run(rt, world, GOOD)
    zhou_id, zhou = next(
        (i, r) for i, r in records(rt, "resident").items() if r["name"] == "周淑珍"
    )

    def correct(a: Author) -> None:  # a volunteer's correction in the field
        a.op("resident", zhou_id, set={"care_note": "已送药", "age_band": "60-79"})

    admin.write(rt, correct)
    again = importing.preview(rt, csv_source(GOOD, "gbk"), world.community)
    assert again.residents.changed == 0 and again.plan == []
    changed = [GOOD[0], GOOD[1].replace("需上门", "需每日上门"), *GOOD[2:]]
    preview = run(rt, world, changed)
    assert preview.residents.changed == 1
    zhou = records(rt, "resident")[zhou_id]
    assert zhou["care_note"] == "需每日上门"  # changed in the file: set
    assert zhou["age_band"] == "60-79"  # unchanged in the file: the field's correction stands


def test_same_names_field_residents_and_ambiguous_matches(rt: Runtime) -> None:
    world = build_world(rt)
    twins = [
        HEADER,
        "1,7栋,1单元,101,张伟,男,70,13800004444,,,",
        "2,7栋,1单元,101,张伟,男,8,,,,",
    ]
    run(rt, world, twins)
    zhang = residents_by_name(rt)["张伟"]
    assert len(zhang) == 2  # two people of one name in one household are both kept
    household = zhang[0]["household_id"]

    def field_add(a: Author) -> None:  # added by a volunteer at the door
        a.op("resident", set={"household_id": household, "name": "陈静", "phone": "13800004445"})
        a.op("resident", set={"household_id": household, "name": "刘洋"})

    admin.write(rt, field_add)
    grown = [
        *twins,
        "3,7栋,1单元,101,陈静,女,40,13800004445,,,",  # the field's 陈静: same name and phone
        "4,7栋,1单元,101,刘洋,男,41,13800004446,,,",  # the field's 刘洋 had no phone: ambiguous
    ]
    preview = importing.preview(rt, csv_source(grown, "gbk"), world.community)
    assert preview.residents.changed == 1 and preview.residents.new == 0
    assert [(a.line, a.name) for a in preview.ambiguities] == [(5, "刘洋")]
    assert preview.undecided == {5} and not preview.ready
    liu = preview.ambiguities[0].candidates[0].resident_id
    with pytest.raises(ValidationError) as bad:
        importing.preview(rt, csv_source(grown, "gbk"), world.community, decisions={5: "rs-x"})
    assert bad.value.code == "import.bad_decision"
    decided = importing.preview(rt, csv_source(grown, "gbk"), world.community, decisions={5: liu})
    assert decided.ready
    importing.commit(rt, decided)
    people = residents_by_name(rt)
    assert len(people["陈静"]) == 1 and len(people["刘洋"]) == 1 and len(people["张伟"]) == 2
    assert people["刘洋"][0]["phone"] == "13800004446" and people["陈静"][0]["age_band"] == "18-59"
    # the next import finds everyone without a decision; a file without them removes no one
    again = importing.preview(rt, csv_source(grown, "gbk"), world.community)
    assert again.ready and again.plan == []
    run(rt, world, twins)
    assert len(records(rt, "resident")) == 2 + 4  # the world's two and the household's four


def test_a_new_person_decision_adds_one(rt: Runtime) -> None:
    world = build_world(rt)
    lines = [HEADER, "1,观海轩 1栋,1单元,1201,张秀英,女,83,13900000009,,,"]
    preview = importing.preview(rt, csv_source(lines, "gbk"), world.community)
    # the world's household at 1栋 1单元 has no room recorded: the file makes a new one
    assert preview.households.new == 1 and preview.places == 0


def test_an_interrupted_commit_completes_when_run_again(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(rt)
    lines = [HEADER] + [
        f"{i},8栋,{i % 3 + 1}单元,{100 + i},居民{i},女,{20 + i},138{i:08d},,," for i in range(40)
    ]
    preview = importing.preview(rt, csv_source(lines, "gbk"), world.community)
    calls = {"n": 0}
    real_write = apply.write

    def crash_on_third(rt: Runtime, build: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the process is stopped mid-import
        return real_write(rt, build)

    monkeypatch.setattr(apply, "write", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        importing.commit(rt, preview, chunk=10)
    partly = len(records(rt, "resident"))
    assert 2 < partly < 2 + 40
    monkeypatch.setattr(apply, "write", real_write)
    rerun = importing.preview(rt, csv_source(lines, "gbk"), world.community)
    assert rerun.residents.unchanged == partly - 2 and rerun.residents.new == 40 - (partly - 2)
    importing.commit(rt, rerun, chunk=10)
    assert len(records(rt, "resident")) == 2 + 40
    # the original preview committed again writes nothing more
    assert importing.commit(rt, preview, chunk=10).ops == 0
    assert importing.preview(rt, csv_source(lines, "gbk"), world.community).plan == []


def test_xlsx_with_merged_cells_and_yes_no_columns(rt: Runtime) -> None:
    world = build_world(rt)
    source = xlsx_source(
        [
            ["楼栋", "单元", "房号", "姓名", "年龄", "是否低保", "独居老人"],
            ["9栋", "1单元", 101, "孙丽", 81, "是", "√"],
            [None, None, 102, "钱进", 50, "否", ""],
        ],
        merges=("A2:A3", "B2:B3"),
    )
    preview = importing.preview(rt, source, world.community)
    assert preview.ready and preview.sheet == "居民台账" and preview.filled == 1
    importing.commit(rt, preview)
    people = residents_by_name(rt)
    assert people["孙丽"][0]["care_flags"] == ["elderly_alone", "hardship"]
    assert people["钱进"][0]["care_flags"] == []


def test_the_community_must_be_a_community(rt: Runtime) -> None:
    world = build_world(rt)
    with pytest.raises(ValidationError) as info:
        importing.preview(rt, csv_source(GOOD), world.building_a)
    assert info.value.code == "import.not_community"


def test_places_from_nothing(rt: Runtime) -> None:
    district = add_place(rt, level="district", name="大亚湾区", parent_id=None)
    street = add_place(rt, level="street", name="霞涌街道", parent_id=district)
    community = add_place(rt, level="community", name="观海轩社区", parent_id=street)
    for level, parent, code in (
        ("community", district, "place.bad_parent"),
        ("district", street, "place.bad_parent"),
        ("community", street, "place.exists"),
    ):
        with pytest.raises(ValidationError) as info:
            add_place(rt, level=level, name="观海轩社区", parent_id=parent)
        assert info.value.code == code
    preview = importing.preview(rt, csv_source(GOOD), community)
    importing.commit(rt, preview)
    assert len(records(rt, "household")) == 3
