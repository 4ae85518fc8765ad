"""``python -m bench store --json PATH [--sizes 1000,10000,50000]``: the linli store vs TinyDB.

For each size: the same ≈400-byte household records are loaded into a linli ``LocalStore`` and a
plain TinyDB ``JSONStorage`` file, then inserts, updates by id and queries by field are timed,
interleaved one linli operation / one TinyDB operation so both meet the same disk conditions.
TinyDB rewrites its whole file per write, so at big sizes it gets fewer samples. Also measured:
the fsync floor of this disk (400-byte append + fdatasync) and open+unlock of the linli store.

JSON keys (stable): ``sizes.<n>.linli.{write,update,query}_p50_ms``, ``..._p99_ms``, the same
under ``.tinydb.``, ``sizes.<n>.speedup`` (TinyDB / linli write medians), ``sizes.<n>.open_ms``,
``fsync_floor_ms``; ``sizes.<n>.unlock_kdf_ms`` (the PIN key derivation inside ``open_ms``) and
``sizes.<n>.open_after_kdf_ms`` (the rest: load the snapshot, replay, check the head).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.store import LocalStore
from app.store.baseline import PlainTinyDB
from app.store.files import sync_data
from bench.report import write_json
from sync.hlc import HybridClock
from sync.ops import Op, new_id

PIN = "246810"
DEVICE = "dev-bench-01"
MEMBER = "m-bench-01"
LINLI_SAMPLES = 400
QUERY_SAMPLES = 30


def tinydb_samples(size: int) -> int:
    return 200 if size <= 1_000 else 60 if size <= 10_000 else 30


def household_fields(n: int, buildings: int = 40, rooms: int = 2900) -> dict[str, Any]:
    """The invented ≈400-byte household record number ``n`` (also the store tests' data)."""
    building, unit, room = 1 + n % buildings, 1 + n % 4, 101 + n % rooms
    return {
        "place_id": f"pl-unit-{building:02d}-{unit}",
        "building": f"{building}栋",
        "unit": f"{unit}单元",
        "room": str(room),
        "address": f"观海轩 {building}栋 {unit}单元 {room}",
        "phone": f"138{n % 100_000_000:08d}",
        "control": "sealed",
        "note": "家中有行动不便老人，采样需上门",
    }


def household_op(clock: HybridClock, n: int, entity_id: str | None = None) -> Op:
    return Op(
        op_id=new_id("op-"),
        kind="household",
        entity_id=entity_id or f"hh-{n:07d}",
        hlc=clock.now(),
        device=DEVICE,
        member=MEMBER,
        set=household_fields(n),
    )


def note_op(clock: HybridClock, entity_id: str, note: str) -> Op:
    return Op(
        new_id("op-"), "household", entity_id, clock.now(), DEVICE, MEMBER, set={"note": note}
    )


def _ms(fn: Callable[..., object], *args: Any, **kwargs: Any) -> float:
    t = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - t) * 1000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(write: list[float], update: list[float], query: list[float]) -> dict[str, Any]:
    return {
        "write_p50_ms": round(statistics.median(write), 4),
        "write_p99_ms": round(pct(write, 0.99), 4),
        "update_p50_ms": round(statistics.median(update), 4),
        "update_p99_ms": round(pct(update, 0.99), 4),
        "query_p50_ms": round(statistics.median(query), 4),
        "query_p99_ms": round(pct(query, 0.99), 4),
        "samples": {"write": len(write), "update": len(update), "query": len(query)},
    }


def fsync_floor(directory: Path, samples: int = 300) -> float:
    path = directory / "fsync-floor.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    times = []
    try:
        chunk = os.urandom(400)
        for _ in range(samples):
            t = time.perf_counter()
            os.write(fd, chunk)
            sync_data(fd)
            times.append((time.perf_counter() - t) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    return statistics.median(times)


def bench_size(size: int, workdir: Path, rng: random.Random) -> dict[str, Any]:
    clock = HybridClock()
    linli_dir, tiny_path = workdir / f"linli-{size}", workdir / f"tinydb-{size}.json"
    store = LocalStore.create(linli_dir, PIN)
    docs: list[dict[str, Any]] = []
    for start in range(0, size, 1_000):
        batch = [household_op(clock, n) for n in range(start, min(size, start + 1_000))]
        docs.extend(store.record_changes(batch))
    store.acknowledge([op.op_id for op in store.pending_ops()])  # as after a sync
    store.compact()
    doc_bytes = statistics.median(len(json.dumps(d, ensure_ascii=False).encode()) for d in docs)

    tiny = PlainTinyDB(tiny_path, "household")
    doc_ids = tiny.insert_many(docs)

    lw: list[float] = []
    lu: list[float] = []
    lq: list[float] = []
    tw: list[float] = []
    tu: list[float] = []
    tq: list[float] = []
    t_samples = tinydb_samples(size)
    for i in range(LINLI_SAMPLES):
        n = size + i
        op = household_op(clock, n)
        lw.append(_ms(store.record_change, op))
        if i < t_samples:
            doc = store.get("household", op.entity_id)
            tw.append(_ms(tiny.insert, doc))
    for i in range(LINLI_SAMPLES):
        k = rng.randrange(size)
        note = f"第{i}次回访：已送达物资"
        op = note_op(clock, f"hh-{k:07d}", note)
        lu.append(_ms(store.record_change, op))
        if i < t_samples:
            doc_id = doc_ids[k]
            tu.append(_ms(tiny.update, doc_id, {"note": note}))
    for i in range(QUERY_SAMPLES):
        room = str(101 + (i * 97) % 2900)  # a different value each time: no cache hits
        lq.append(_ms(store.find, "household", {"room": room}))
        tq.append(_ms(tiny.find, "room", room))
    tiny.close()
    store.close()

    opens, kdfs = [], []
    for _ in range(3):
        t = time.perf_counter()
        again = LocalStore.open(linli_dir, PIN)
        opens.append((time.perf_counter() - t) * 1000)
        kdfs.append(again.unlock_kdf_ms)
        count = again.count("household")
        again.close()
    assert count == size + LINLI_SAMPLES
    journal_bytes = sum(p.stat().st_size for p in linli_dir.glob("journal-*.log"))
    snapshot_bytes = sum(p.stat().st_size for p in linli_dir.glob("snapshot-*.bin"))
    during, full_open_ms, full_journal = worst_cases(linli_dir, clock, size)

    linli = summary(lw, lu, lq)
    tinydb = summary(tw, tu, tq)
    shutil.rmtree(linli_dir)
    tiny_path.unlink()
    return {
        "linli": linli,
        "tinydb": tinydb,
        "speedup": round(tinydb["write_p50_ms"] / linli["write_p50_ms"], 1),
        "open_ms": round(statistics.median(opens), 1),
        "unlock_kdf_ms": round(statistics.median(kdfs), 1),
        "open_after_kdf_ms": round(
            statistics.median(o - k for o, k in zip(opens, kdfs, strict=True)), 1
        ),
        "open_full_journal_ms": round(full_open_ms, 1),
        "journal_bytes_full": full_journal,
        "write_during_compaction_p50_ms": round(statistics.median(during), 4),
        "write_during_compaction_p99_ms": round(pct(during, 0.99), 4),
        "writes_during_compaction": len(during),
        "doc_bytes": doc_bytes,
        "snapshot_bytes": snapshot_bytes,
        "journal_bytes_at_open": journal_bytes,
    }


def worst_cases(directory: Path, clock: HybridClock, size: int) -> tuple[list[float], float, int]:
    """Writes timed while a background compaction runs; then open+unlock with the journal
    filled to just under the compaction threshold (the slowest open the store allows)."""
    store = LocalStore.open(directory, PIN)
    during: list[float] = []
    store.compact(wait=False)
    i = 0
    while store.compacting or len(during) < 20:
        op = note_op(clock, f"hh-{i % size:07d}", f"压缩期间第{i}次修改")
        during.append(_ms(store.record_change, op))
        i += 1
    store.wait_compaction()
    limit = store.journal_limit()
    n = 0
    while store.journal_bytes() < limit * 0.97:
        ops = [note_op(clock, f"hh-{(n + j) % size:07d}", f"第{n + j}次补记") for j in range(50)]
        if store.journal_bytes() + 60_000 > limit:
            ops = ops[:5]
        store.record_changes(ops)
        n += len(ops)
    full = store.journal_bytes()
    store.close()
    t = time.perf_counter()
    LocalStore.open(directory, PIN).close()
    return during, (time.perf_counter() - t) * 1000, full


def table(result: dict[str, Any]) -> str:
    head = (
        f"{'docs':>7} | {'store':<6} | {'write p50':>9} | {'write p99':>9} | {'update p50':>10} "
        f"| {'query p50':>9} | {'speedup':>7} | {'open':>7}"
    )
    lines = [head, "-" * len(head)]
    for size, row in result["sizes"].items():
        for name in ("linli", "tinydb"):
            r = row[name]
            extra = (
                f"{row['speedup']:>6.0f}x | {row['open_ms']:>5.0f}ms"
                if name == "linli"
                else f"{'':>7} | {'':>7}"
            )
            lines.append(
                f"{size:>7} | {name:<6} | {r['write_p50_ms']:>7.3f}ms | {r['write_p99_ms']:>7.3f}ms"
                f" | {r['update_p50_ms']:>8.3f}ms | {r['query_p50_ms']:>7.2f}ms | {extra}"
            )
    for size, row in result["sizes"].items():
        lines.append(
            f"{size:>7} docs: open with a full journal ({row['journal_bytes_full'] / 1e6:.1f} MB) "
            f"{row['open_full_journal_ms']:.0f} ms; writes during a compaction "
            f"p50 {row['write_during_compaction_p50_ms']:.3f} ms, "
            f"p99 {row['write_during_compaction_p99_ms']:.3f} ms (n={row['writes_during_compaction']})"
        )
        lines.append(
            f"{size:>7} docs: open {row['open_ms']:.0f} ms = PIN key derivation "
            f"{row['unlock_kdf_ms']:.0f} ms + {row['open_after_kdf_ms']:.0f} ms"
        )
    lines.append(f"fsync floor (400-byte append + fdatasync): {result['fsync_floor_ms']:.3f} ms")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench store")
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="linli-bench-store-") as tmp:
        workdir = Path(tmp)
        result: dict[str, Any] = {"fsync_floor_ms": round(fsync_floor(workdir), 4), "sizes": {}}
        for size in sizes:
            result["sizes"][str(size)] = bench_size(size, workdir, rng)
    print(table(result))
    write_json(args.json, result, indent=2)
    return 0
