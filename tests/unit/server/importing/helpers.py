"""Files as committees make them, and what the server then holds (decrypted)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from sync.server import db
from sync.server.importing import Source
from sync.server.runtime import Runtime
from sync.server.state import record_aad

HEADER = "序号,楼栋,单元,房号,姓名,性别,年龄,联系电话,重点人员类别,管控状态,备注"


def csv_source(lines: list[str], encoding: str = "utf-8", name: str = "hh.csv") -> Source:
    return Source(name, ("\r\n".join(lines) + "\r\n").encode(encoding))


def xlsx_source(
    rows: list[list[Any]], merges: tuple[str, ...] = (), name: str = "hh.xlsx"
) -> Source:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "居民台账"
    for row in rows:
        sheet.append(row)
    for cells in merges:
        sheet.merge_cells(cells)
    out = io.BytesIO()
    book.save(out)
    return Source(name, out.getvalue())


def records(rt: Runtime, kind: str) -> dict[str, dict[str, Any]]:
    t = db.records
    with rt.db.read() as conn:
        rows = conn.execute(select(t.c.entity_id, t.c.body).where(t.c.kind == kind))
        return {r.entity_id: rt.vault.open(r.body, record_aad(kind, r.entity_id)) for r in rows}


def fingerprint(rt: Runtime) -> tuple[int, int, int]:
    with rt.db.read() as conn:
        return (
            conn.execute(select(func.count()).select_from(db.records)).scalar_one(),
            db.get_counter(conn, "head"),
            conn.execute(select(func.count()).select_from(db.import_values)).scalar_one(),
        )


def write(tmp_path: Path, source: Source) -> Path:
    path = tmp_path / source.name
    path.write_bytes(source.data)
    return path
