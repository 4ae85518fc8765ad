"""The benches' shared reporting: aligned tables and JSON result files."""

from __future__ import annotations

import json
from pathlib import Path

from bench import faults
from bench.report import aligned, write_json


def test_aligned_puts_the_values_in_one_column() -> None:
    assert aligned([("syncs", "10"), ("lost / duplicated", "0 / 0")]) == (
        "syncs              10\nlost / duplicated  0 / 0"
    )


def test_write_json_makes_the_folder_and_keeps_chinese_readable(tmp_path: Path) -> None:
    path = tmp_path / "out" / "result.json"
    write_json(path, {"db": "观海轩", "n": [1]})
    text = path.read_text(encoding="utf-8")
    assert "观海轩" in text and text == json.dumps(
        {"db": "观海轩", "n": [1]}, indent=1, ensure_ascii=False
    )
    write_json(path, {"db": "观海轩"}, indent=2, ensure_ascii=True)
    assert path.read_text(encoding="utf-8") == '{\n  "db": "\\u89c2\\u6d77\\u8f69"\n}'


def test_a_bench_table_is_aligned() -> None:
    result = {
        "syncs": 4,
        "failed_syncs": 1,
        "phones": 3,
        "db": "sqlite",
        "faults_injected": 2,
        "exchanges": 8,
        "faults": {"drop": 2},
        "ops_created": 5,
        "server_ops": 5,
        "lost": 0,
        "duplicated": 0,
        "diverged": 0,
        "visits_lost": 0,
        "rejected_divergent": 0,
        "rejected": 2,
        "pending": 0,
        "clean_rounds": 1,
        "seconds": 1.5,
    }
    lines = faults.table(result).splitlines()
    assert lines[0] == "syncs (failed)                        4 (1) by 3 phones, sqlite"
    assert lines[-1] == "seconds                               1.5"
