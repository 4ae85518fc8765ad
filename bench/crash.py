"""``python -m bench crash --trials N --json PATH``: kill -9 a writing process, check what survived.

Each trial starts a child process that opens the store and writes in a loop — new records, updates,
outbox acknowledgements, settings, and compactions (the child uses a tiny compaction threshold so
many kills land mid-compaction). Before each write the child tells the parent what it is about to
do (``try``) and after the call returns it confirms it (``ok``), one line each on a pipe. The parent
kills the child with SIGKILL at a random moment (sometimes while it is still opening the store),
reopens the store and checks that every confirmed write is there and right. The one write in
flight at the kill may or may not have landed; either is correct, anything else is not.

JSON keys (stable): ``trials``, ``unreadable`` (reopen failed), ``lost_acked`` (a confirmed write is
missing), ``wrong`` (something present that no write produced, or a wrong value); plus
``killed_mid_compaction``, ``killed_while_opening``, ``writes_confirmed``, ``seconds``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.store import LocalStore
from bench.report import write_json
from sync.hlc import HybridClock
from sync.ops import Op, new_id

PIN = "246810"
META_KEY = "crash.counter"
CHILD_COMPACT_BYTES = 40_000
TRIALS_PER_STORE = 25


# -- the child ---------------------------------------------------------------------------------


def _say(event: dict[str, Any]) -> None:
    os.write(1, json.dumps(event, ensure_ascii=False).encode("utf-8") + b"\n")


def _household(clock: HybridClock, entity_id: str, note: str) -> Op:
    n = sum(entity_id.encode()) % 40
    return Op(
        op_id=new_id("op-"),
        kind="household",
        entity_id=entity_id,
        hlc=clock.now(),
        device="dev-crash-01",
        member="m-crash-01",
        set={
            "place_id": f"pl-unit-{n:02d}-1",
            "building": f"{n + 1}栋",
            "unit": "1单元",
            "room": str(101 + n),
            "address": f"观海轩 {n + 1}栋 1单元 {101 + n}",
            "phone": f"1380000{n:04d}",
            "control": "sealed",
            "note": note,
        },
    )


def _note(clock: HybridClock, entity_id: str, note: str) -> Op:
    return Op(
        new_id("op-"), "household", entity_id, clock.now(), "dev-crash-01", "m-crash-01",
        set={"note": note},
    )  # fmt: skip


def child(directory: Path, trial: int, seed: int) -> int:
    store = LocalStore.open(directory, PIN, compact_min_bytes=CHILD_COMPACT_BYTES)
    clock = HybridClock(last=store.get_meta("crash.hlc"))
    rng = random.Random(seed)
    ids = [r["id"] for r in store.all("household")]
    pending = [op.op_id for op in store.pending_ops()]
    counter = int(store.get_meta(META_KEY, 0))
    _say({"e": "ready"})
    i = 0
    while True:
        i += 1
        roll = rng.random()
        if roll < 0.45 or not ids:
            eid, note = f"hh-{trial}-{i}", f"t{trial}-{i}"
            op = _household(clock, eid, note)
            _say({"e": "try", "w": "put", "id": eid, "v": note, "op": op.op_id})
            store.record_change(op)
            ids.append(eid)
            pending.append(op.op_id)
        elif roll < 0.8:
            eid, note = rng.choice(ids), f"t{trial}-{i}"
            op = _note(clock, eid, note)
            _say({"e": "try", "w": "put", "id": eid, "v": note, "op": op.op_id})
            store.record_change(op)
            pending.append(op.op_id)
        elif roll < 0.9:
            batch, pending = pending[:5], pending[5:]
            _say({"e": "try", "w": "ack", "ops": batch})
            store.acknowledge(batch)
        elif roll < 0.97:
            counter += 1
            _say({"e": "try", "w": "meta", "v": counter})
            store.set_meta(META_KEY, counter)
        else:
            _say({"e": "try", "w": "compact"})
            store.compact(wait=False)
        _say({"e": "ok"})


# -- the parent --------------------------------------------------------------------------------


@dataclass
class Ledger:
    """What the confirmed writes say the store must hold."""

    notes: dict[str, str] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    acked: set[str] = field(default_factory=set)
    counter: int = 0

    def apply(self, write: dict[str, Any]) -> None:
        if write["w"] == "put":
            self.notes[write["id"]] = write["v"]
            self.pending.add(write["op"])
        elif write["w"] == "ack":
            self.pending.difference_update(write["ops"])
            self.acked.update(write["ops"])
        elif write["w"] == "meta":
            self.counter = write["v"]


@dataclass
class Tally:
    trials: int = 0
    unreadable: int = 0
    lost_acked: int = 0
    wrong: int = 0
    killed_mid_compaction: int = 0
    killed_while_opening: int = 0
    writes_confirmed: int = 0


def _reader(stream: Any, sink: list[dict[str, Any]], ready: threading.Event) -> None:
    for line in stream:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        sink.append(event)
        if event.get("e") == "ready":
            ready.set()
    ready.set()


def _mid_compaction(directory: Path) -> bool:
    names = [p.name for p in directory.iterdir()]
    journals = [n for n in names if n.startswith("journal-")]
    return len(journals) > 1 or any(n.startswith("snapshot-") and n.endswith(".tmp") for n in names)


def _check(directory: Path, ledger: Ledger, inflight: dict[str, Any] | None, tally: Tally) -> bool:
    """Reopen and compare with the ledger; fold a landed in-flight write into it."""
    try:
        store = LocalStore.open(directory, PIN)
    except Exception as exc:
        print(f"unreadable: {exc}", file=sys.stderr)
        tally.unreadable += 1
        return False
    try:
        records = {r["id"]: r.get("note") for r in store.all("household")}
        pending = {op.op_id for op in store.pending_ops()}
        counter = int(store.get_meta(META_KEY, 0))
        landed = dict(ledger.notes)
        if inflight and inflight["w"] == "put" and records.get(inflight["id"]) == inflight["v"]:
            landed[inflight["id"]] = inflight["v"]
        for eid in ledger.notes:
            if eid not in records:
                tally.lost_acked += 1
            elif records[eid] != landed[eid]:
                tally.wrong += 1
        tally.wrong += len(set(records) - set(landed))
        expected_pending = set(ledger.pending)
        if inflight and inflight["w"] == "put" and inflight["op"] in pending:
            expected_pending.add(inflight["op"])
        if inflight and inflight["w"] == "ack" and not (set(inflight["ops"]) & pending):
            expected_pending.difference_update(inflight["ops"])
        tally.lost_acked += len(expected_pending - pending)
        tally.wrong += len(pending - expected_pending)
        if counter != ledger.counter and not (
            inflight and inflight["w"] == "meta" and counter == inflight["v"]
        ):
            tally.wrong += 1
        # what landed is now what every later trial must find
        ledger.notes, ledger.pending, ledger.counter = landed, pending & expected_pending, counter
        store.set_meta("crash.hlc", HybridClock().now())
    finally:
        store.close()
    return True


def run(trials: int, seed: int = 1, workdir: Path | None = None) -> dict[str, Any]:
    rng = random.Random(seed)
    tally = Tally()
    started = time.perf_counter()
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory(prefix="linli-crash-", dir=workdir) as tmp:
        directory = Path(tmp) / "store"
        ledger = Ledger()
        for trial in range(trials):
            if trial % TRIALS_PER_STORE == 0:
                LocalStore.wipe(directory)
                LocalStore.create(directory, PIN).close()
                ledger = Ledger()
            events: list[dict[str, Any]] = []
            ready = threading.Event()
            proc = subprocess.Popen(
                [sys.executable, "-m", "bench.crash", "--child", str(directory),
                 "--trial", str(trial), "--seed", str(rng.randrange(2**31))],
                stdout=subprocess.PIPE, env=env, cwd=root,
            )  # fmt: skip
            reader = threading.Thread(target=_reader, args=(proc.stdout, events, ready))
            reader.start()
            if rng.random() < 0.15:
                time.sleep(rng.uniform(0.0, 0.2))
                tally.killed_while_opening += not ready.is_set()
            else:
                ready.wait(30)
                time.sleep(rng.uniform(0.0, 0.25))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            reader.join()
            assert proc.stdout is not None
            proc.stdout.close()
            tally.killed_mid_compaction += _mid_compaction(directory)
            inflight: dict[str, Any] | None = None
            for event in events:
                if event["e"] == "try":
                    inflight = event
                elif event["e"] == "ok" and inflight is not None:
                    ledger.apply(inflight)
                    tally.writes_confirmed += 1
                    inflight = None
            tally.trials += 1
            if not _check(directory, ledger, inflight, tally):
                ledger = Ledger()
                LocalStore.wipe(directory)
                LocalStore.create(directory, PIN).close()
    out = dict(tally.__dict__)
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench crash")
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--trial", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.trial, args.seed)
    if args.json is None:
        parser.error("--json PATH is required")
    result = run(args.trials, args.seed)
    print(
        f"trials {result['trials']}: unreadable {result['unreadable']}, lost_acked "
        f"{result['lost_acked']}, wrong {result['wrong']} — {result['writes_confirmed']} confirmed "
        f"writes, {result['killed_mid_compaction']} kills mid-compaction, "
        f"{result['killed_while_opening']} while opening, {result['seconds']} s"
    )
    write_json(args.json, result, indent=2, ensure_ascii=True)
    return 0 if result["unreadable"] == result["lost_acked"] == result["wrong"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
