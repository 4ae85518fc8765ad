"""``python -m bench importer --rows 20000 --json PATH``: the households import at a district's size.

Invents ``--rows`` residents (plausible Chinese names, buildings, units and rooms, 1-4 people per
household, ages, phones in the forms committees write them, key-care categories, control
statuses — never real people), writes them as an XLSX and as a GBK CSV with the Chinese headers a
residential committee uses (and the 序号/性别 columns it keeps), then for each file runs the same
service the CLI and console use (:mod:`sync.server.importing`) into its own community of a fresh
SQLite server: ``preview`` then ``commit``, then a re-import preview of the unchanged file.

Keys: ``preview_s`` and ``commit_s`` (the slower of the two files), ``rows``, ``peak_rss_mb``
(the peak PSS of this process, sampled every 50 ms), per-file figures and ``longest_chunk_s``
(the longest commit transaction: how long a phone's sync may wait behind the import).
Targets: preview ≤ 10 s, commit ≤ 10 s, 20,000 rows, ≤ 500 MB.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import attacks
from bench.report import aligned, write_json

TARGETS = {"preview_s": 10.0, "commit_s": 10.0, "peak_rss_mb": 500.0}
HEADER = [
    "序号",
    "楼栋",
    "单元",
    "房号",
    "姓名",
    "性别",
    "年龄",
    "联系电话",
    "重点人员类别",
    "管控状态",
    "备注",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "秀英桂兰玉梅凤霞建国建华志强文明海燕丽娟春花德胜淑珍国平红梅小红子豪雨涵浩然欣怡晓东振华永刚丽华美玲俊杰思远嘉怡宇航"
CARE = [
    "",
    "",
    "",
    "",
    "独居老人",
    "高龄老人",
    "血透",
    "放化疗",
    "精神障碍",
    "困难/低保",
    "留守儿童",
    "残疾人、低保",
    "慢性病",
]
CONTROL = ["", "", "", "居家隔离", "封控", "防范"]
NOTES = ["", "", "", "需上门", "行动不便", "需送药", "独自在家"]


def invent(rows: int, seed: int = 20221005) -> list[list[Any]]:
    rng = random.Random(seed)
    out: list[list[Any]] = []
    household = 0
    while len(out) < rows:
        household += 1
        building = f"{(household - 1) // 160 + 1}栋"
        unit = f"{(household - 1) // 40 % 4 + 1}单元"
        room = str(100 * ((household - 1) // 2 % 20 + 1) + (household - 1) % 2 + 1)
        for person in range(min(rng.randint(1, 4), rows - len(out))):
            phone = f"13{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"
            form = rng.randrange(3)
            phone = [
                phone,
                f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}",
                f"{phone[:3]}-{phone[3:7]}-{phone[7:]}",
            ][form]
            name = rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.randint(1, 2))
            )
            out.append(
                [
                    len(out) + 1,
                    building if person == 0 else "",  # merged cells leave the rest blank
                    unit if person == 0 else "",
                    room,
                    name,
                    rng.choice("男女"),
                    rng.randint(1, 99),
                    phone if rng.random() < 0.9 else "",
                    rng.choice(CARE),
                    rng.choice(CONTROL),
                    rng.choice(NOTES),
                ]
            )
    return out


def write_files(folder: Path, rows: list[list[Any]]) -> tuple[Path, Path]:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("居民台账")
    sheet.append(["观海轩社区 居民及重点人员台账"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    xlsx = folder / "households.xlsx"
    book.save(xlsx)
    csv = folder / "households-gbk.csv"
    lines = [",".join(HEADER)] + [",".join(str(c) for c in row) for row in rows]
    csv.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return xlsx, csv


class PeakPss:
    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, attacks.pss_mb([os.getpid()]))
            self._stop.wait(0.05)

    def __enter__(self) -> PeakPss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, attacks.pss_mb([os.getpid()]))


def run(rows: int) -> dict[str, Any]:
    from sync.server import config, importing
    from sync.server.db import Database
    from sync.server.importing.places import add_place
    from sync.server.runtime import Runtime

    result: dict[str, Any] = {"rows": rows}
    with tempfile.TemporaryDirectory(prefix="linli-bench-import-") as tmp, PeakPss() as pss:
        folder = Path(tmp)
        xlsx, csv = write_files(folder, invent(rows))
        result["xlsx_mb"] = round(xlsx.stat().st_size / 2**20, 2)
        result["csv_mb"] = round(csv.stat().st_size / 2**20, 2)
        settings = config.resolve(folder / "server", None)
        config.init_data_dir(settings, save_database=False)
        with Database(settings.database_url) as database:
            database.create_schema()
        with Runtime.open(settings) as rt:
            district = add_place(rt, level="district", name="大亚湾区", parent_id=None)
            street = add_place(rt, level="street", name="霞涌街道", parent_id=district)
            for kind, path in (("xlsx", xlsx), ("csv", csv)):
                community = add_place(
                    rt, level="community", name=f"观海轩{kind}社区", parent_id=street
                )
                began = time.perf_counter()
                preview = importing.preview(rt, importing.from_path(path), community)
                result[f"{kind}_preview_s"] = round(time.perf_counter() - began, 2)
                assert preview.ready, preview.problems[:3]
                result[f"{kind}_households"] = preview.households.new
                result[f"{kind}_residents"] = preview.residents.new
                began = time.perf_counter()
                done = importing.commit(rt, preview)
                result[f"{kind}_commit_s"] = round(time.perf_counter() - began, 2)
                result[f"{kind}_ops"] = done.ops
                result[f"{kind}_chunks"] = done.chunks
                result[f"{kind}_longest_chunk_s"] = round(done.longest_chunk_s, 3)
                began = time.perf_counter()
                again = importing.preview(rt, importing.from_path(path), community)
                result[f"{kind}_reimport_preview_s"] = round(time.perf_counter() - began, 2)
                assert not again.plan and again.residents.unchanged == preview.residents.new
    result["preview_s"] = max(result["xlsx_preview_s"], result["csv_preview_s"])
    result["commit_s"] = max(result["xlsx_commit_s"], result["csv_commit_s"])
    result["longest_chunk_s"] = max(result["xlsx_longest_chunk_s"], result["csv_longest_chunk_s"])
    result["peak_rss_mb"] = round(pss.peak, 1)
    result["targets"] = {**TARGETS, "rows": rows}
    result["meets_targets"] = all(result[k] <= v for k, v in TARGETS.items())
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench importer", description=__doc__)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)
    result = run(args.rows)
    print(aligned([(k, str(v)) for k, v in result.items()]))
    write_json(args.json, result)
    return 0 if result["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
