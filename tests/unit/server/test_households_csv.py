"""CSV import: atomic, coded errors with line numbers, re-import does not duplicate."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from sync.errors import ValidationError
from sync.server import db
from sync.server.households_csv import import_households
from sync.server.runtime import Runtime
from tests.integration.server.world import build_world

HEADER = "building,unit,room,phone,control,name,resident_phone,age_band,care_flags,care_note\n"
GOOD = (
    "3栋,1单元,101,13800000011,sealed,张秀英,13800000012,80+,elderly_alone|chronic_illness,需上门\n"
    "3栋,1单元,101,,,李建国,,60-79,,\n"
    "3栋,2单元,502,13800000013,,,,,,\n"
)


def write(tmp_path: Path, text: str, name: str = "hh.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(rt: Runtime) -> tuple[int, int]:
    with rt.db.read() as conn:
        return (
            conn.execute(select(func.count()).select_from(db.records)).scalar_one(),
            db.get_counter(conn, "head"),
        )


def test_good_file_imports_places_households_residents(rt: Runtime, tmp_path: Path) -> None:
    world = build_world(rt)
    result = import_households(rt, write(tmp_path, HEADER + GOOD), world.community)
    assert (result.households, result.residents, result.places) == (2, 2, 3)
    again = import_households(rt, write(tmp_path, HEADER + GOOD), world.community)
    assert (again.residents, again.places, again.skipped_residents) == (0, 0, 2)
    with rt.db.read() as conn:
        kinds: dict[str, int] = dict(
            conn.execute(select(db.records.c.kind, func.count()).group_by(db.records.c.kind)).all()
        )
    assert kinds["household"] == 2 + 2  # the world's two plus the imported two


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        (
            HEADER + GOOD + "3栋,1单元,102,电话坏了,,,,,,\n",
            "import.bad_row",
            {"line": 5, "column": "phone"},
        ),
        (
            HEADER + "3栋,1单元,101,,,王五,,200,,\n",
            "import.bad_row",
            {"line": 2, "column": "age_band"},
        ),
        (
            HEADER + GOOD + "3栋,1单元,103,,,赵六,1380000,,,\n",
            "import.bad_row",
            {"line": 5, "column": "resident_phone"},
        ),
        (HEADER + "3栋,1单元\n", "import.bad_row", {"line": 2}),
        (HEADER + ",1单元,101,,,,,,,\n", "import.bad_row", {"line": 2, "column": "building"}),
        ("building,unit\n3栋,1单元\n", "import.bad_header", {"missing": "room"}),
        ("building,unit,room,shoe_size\n", "import.bad_header", {"unknown": "shoe_size"}),
        (HEADER, "import.empty", {}),
    ],
)
def test_bad_files_change_nothing(
    rt: Runtime, tmp_path: Path, text: str, code: str, params: dict[str, object]
) -> None:
    world = build_world(rt)
    before = snapshot(rt)
    with pytest.raises(ValidationError) as info:
        import_households(rt, write(tmp_path, text), world.community)
    assert info.value.code == code
    for key, value in params.items():
        assert info.value.params[key] == value
    assert snapshot(rt) == before


def test_unreadable_files(rt: Runtime, tmp_path: Path) -> None:
    world = build_world(rt)
    path = tmp_path / "latin1.csv"
    path.write_bytes("building,unit,room\n3栋,1,1\n".encode("gb18030"))
    with pytest.raises(ValidationError) as info:
        import_households(rt, path, world.community)
    assert info.value.code == "import.unreadable"
    with pytest.raises(ValidationError) as missing:
        import_households(rt, tmp_path / "nope.csv", world.community)
    assert missing.value.code == "import.unreadable"


def test_the_community_must_exist(rt: Runtime, tmp_path: Path) -> None:
    build_world(rt)
    with pytest.raises(ValidationError) as info:
        import_households(rt, write(tmp_path, HEADER + GOOD), "pl-nowhere")
    assert info.value.code == "admin.not_found"
