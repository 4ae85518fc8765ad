"""The households import end to end: a real ``serve`` process on SQLite and PostgreSQL, the CLI
in its own process, an enrolled phone pulling over HTTP. Bad input is refused with a coded
message and nothing written."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.integration.server.conftest import Backend, ServerProcess, enrolled, phone_record

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"


def test_three_bad_rows_are_listed_then_the_fixed_file_reaches_the_phone(
    backend: Backend, server: ServerProcess, tmp_path: Path
) -> None:
    world, (coordinator,) = enrolled(backend, server.url, "coordinator")
    before = backend.fingerprint()
    bad = tmp_path / "台账.csv"
    shutil.copy(FIXTURES / "committee-three-bad-rows-gbk.csv", bad)
    done = backend.cli("import-households", str(bad), "--community", "观海轩社区", check=False)
    assert done.returncode == 2
    assert "encoding gb18030" in done.stdout and "Ignored columns: 序号, 性别" in done.stdout
    assert "Problems (3;" in done.stdout
    for line, column in ((4, "年龄"), (5, "联系电话"), (6, "管控状态")):
        assert f"line {line} [{column}]" in done.stdout
    assert "3 problem(s)" in done.stderr
    assert backend.fingerprint() == before
    fixed = tmp_path / "台账-改.csv"
    shutil.copy(FIXTURES / "committee-fixed-gbk.csv", fixed)
    out = backend.cli("import-households", str(fixed), "--community", "观海轩社区").stdout
    assert "Households: 5 new" in out and "Residents: 6 new" in out and "Imported:" in out
    coordinator.pull_all()
    names = {
        (phone_record(coordinator, "resident", o.entity_id) or {}).get("name")
        for o in coordinator.received.values()
        if o.kind == "resident"
    }
    assert {"周淑珍", "吴德胜", "王芳", "赵建国", "孙丽", "钱进"} <= names
    homes = [
        phone_record(coordinator, "household", o.entity_id)
        for o in coordinator.received.values()
        if o.kind == "household"
    ]
    assert any(h and h.get("room") == "101" and h.get("control") == "sealed" for h in homes)
    again = backend.cli("import-households", str(fixed), "--community", world.community).stdout
    assert "Residents: 0 new, 0 changed, 6 unchanged" in again and "Nothing to write" in again


def _zip_bomb(path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" * (64 * 1024 * 1024))
    path.write_bytes(out.getvalue())


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("big.csv", "larger than 20 MB"),
        ("bomb.xlsx", "unpacks to something enormous"),
        ("formulas.xlsx", "holds a formula"),
        ("photo.csv", "not a spreadsheet"),
    ],
)
def test_bad_input_is_refused_with_a_coded_message_and_nothing_written(
    backend: Backend, tmp_path: Path, name: str, expect: str
) -> None:
    backend.cli("demo")
    before = backend.fingerprint()
    path = tmp_path / name
    if name == "big.csv":
        with path.open("wb") as f:
            f.write("楼栋,房号\n".encode())
            f.truncate(50 * 1024 * 1024)
    elif name == "bomb.xlsx":
        _zip_bomb(path)
    elif name == "formulas.xlsx":
        shutil.copy(FIXTURES / name, path)
    else:
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    done = backend.cli("import-households", str(path), "--community", "观海轩社区", check=False)
    assert done.returncode == 2
    assert expect in done.stdout + done.stderr
    if name == "formulas.xlsx":  # kept as text, never evaluated
        assert '=HYPERLINK("http://example.invalid","点我")' in done.stdout
        assert "=13800000000+1" in done.stdout
    assert backend.fingerprint() == before
