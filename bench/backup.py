"""``python -m bench backup``: how long ``backup`` and ``restore`` take, and their peak memory, on
a database filled the way ``bench server`` fills it (``--devices`` × ``--ops`` real synced ops:
1,000 × 100 ≈ 100k ops by default).

The backup runs while the server is serving (it is an online backup); the restore goes into a
new, empty database of the same kind (a new data dir holding the same key file). Each command
is a real ``python -m sync.server`` process; its peak RSS is its ``VmHWM`` (polled).
Keys: ``ops``, ``rows``, ``file_mib``, ``backup_s``, ``backup_peak_rss_mib``, ``restore_s``,
``restore_peak_rss_mib``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import LiveServer
from bench.report import write_json
from bench.server import fire, prepare
from sync.server import config
from sync.server.harness import pg_create, pg_drop, pg_url


def timed(argv: list[str], env: dict[str, str], log: Path) -> tuple[float, float]:
    """Run ``argv`` (its output to ``log``); (wall seconds, peak RSS in MiB) — it must succeed.

    The peak is the child's own ``VmHWM``, polled: the kernel's ``ru_maxrss`` of a forked child
    starts at the parent's RSS, which here is the benchmark's fleet, not the command."""
    start = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        peak_kib = 0
        while proc.poll() is None:
            peak_kib = max(peak_kib, _hwm_kib(proc.pid))
            time.sleep(0.02)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[3:])} failed: {log.read_text()[-2000:]}")
    return round(seconds, 2), round(peak_kib / 1024, 1)


def _hwm_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run(devices: int, ops: int, db: str, seed: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="linli-backup-"))
    try:
        return _run(work, devices, ops, db, seed)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, devices: int, ops: int, db: str, seed: int) -> dict[str, Any]:
    target = work / "restored"
    target.mkdir()
    with LiveServer(db, workers=2) as server:
        fleet = prepare(server, devices, ops, seed)
        fire(server.url, [d.body for d in fleet], 64)
        count = len(server.op_ids())
        path = work / "bench-backup.gz"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
        env["LINLI_LANG"] = "en"
        base = [sys.executable, "-m", "sync.server", "--data-dir", str(server.data_dir)]
        if server.database:
            base += ["--database", server.database]
        backup_s, backup_rss = timed([*base, "backup", str(path)], env, work / "backup.log")
        size = path.stat().st_size
        rows = sum(json.loads(_first_line(path))["tables"].values())
        shutil.copy2(server.data_dir / config.KEY_FILE, target / config.KEY_FILE)
    # the server is stopped: restore refuses while another process uses a database
    name = pg_create("linli_bench") if db == "postgres" else None
    argv = [sys.executable, "-m", "sync.server", "--data-dir", str(target)]
    if name:
        argv += ["--database", pg_url(name)]
    try:
        restore_s, restore_rss = timed(
            [*argv, "restore", str(path), "--yes"], env, work / "restore.log"
        )
    finally:
        if name:
            pg_drop(name)
    return {
        "db": db,
        "devices": devices,
        "ops_per_device": ops,
        "ops": count,
        "rows": rows,
        "file_mib": round(size / 1024 / 1024, 1),
        "backup_s": backup_s,
        "backup_peak_rss_mib": backup_rss,
        "restore_s": restore_s,
        "restore_peak_rss_mib": restore_rss,
    }


def _first_line(path: Path) -> bytes:
    import gzip

    with gzip.open(path, "rb") as handle:
        return handle.readline()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench backup")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--ops", type=int, default=100)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)
    result = run(args.devices, args.ops, args.db, args.seed)
    write_json(args.json, result)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
