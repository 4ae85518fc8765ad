"""Processes killed with SIGKILL mid-write (and mid-compaction) never lose a confirmed write."""

from __future__ import annotations

from pathlib import Path

from bench.crash import run


def test_kill_nine_loses_no_confirmed_write(tmp_path: Path) -> None:
    result = run(trials=30, seed=20261129, workdir=tmp_path)
    assert result["trials"] == 30
    assert result["writes_confirmed"] > 300  # the children really wrote before dying
    assert (result["unreadable"], result["lost_acked"], result["wrong"]) == (0, 0, 0)
