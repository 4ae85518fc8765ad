"""``python -m bench server --devices N --ops M --db sqlite|postgres [--concurrency C] --json PATH``.

N enrolled devices each push M ops in one sync against one real server (``serve --workers 2``),
at most C requests in flight. Untimed setup: a world of teams of four (a lead and three
volunteers, each team with its own building, households and assignments) written through the
server's admin path; N codes from the server's enrollment API; N enrollments over HTTP (in
parallel); each device's first pull into an in-memory replica; then each device records M
changes (:mod:`bench.workload`) and its REAL sync engine seals the batch — the transport captures
the body instead of sending it. The clock then runs only while the bodies are POSTed; every answer
is opened and checked afterwards (all ops acked, none rejected). Keys: ``ops_per_s``, ``p50_s``,
``p99_s``, ``errors``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.harness import LiveServer, enroll_many
from bench.phones import MemoryReplica, Phone
from bench.report import aligned, write_json
from bench.workload import Shift
from sync import protocol
from sync.client import HttpTransport
from sync.client.ports import TransportResponse
from sync.errors import SyncError

TEAM_SIZE = 4
HOUSEHOLDS_PER_TEAM = 6
ASSIGNMENTS_PER_VOLUNTEER = 2
SETUP_THREADS = 8
TARGETS = {"ops_per_s": 5000, "p99_s": 2.0, "errors": 0}
ASSIGNMENT_TYPES = ("nucleic_acid_sampling", "supply_delivery", "welfare_check")


def build_world(server: LiveServer, teams: int) -> list[str]:
    """Teams of a lead and three volunteers, each with a building of households and the
    volunteers' assignments; the member ids in team order."""

    def district(a: Any) -> str:
        top = a.op("place", set={"level": "district", "name": "大鹏湾区"}).entity_id
        return str(
            a.op(
                "place", set={"level": "community", "name": "观海轩社区", "parent_id": top}
            ).entity_id
        )

    community = server.write(district)
    members: list[str] = []
    per_write = 25
    for first in range(0, teams, per_write):

        def build(a: Any, first: int = first) -> list[str]:
            out: list[str] = []
            for t in range(first, min(teams, first + per_write)):
                out.extend(_team(a, community, t))
            return out

        members.extend(server.write(build))
    return members


def _team(a: Any, community: str, t: int) -> list[str]:
    place = {"level": "building", "name": f"观海轩 {t + 1}栋", "parent_id": community}
    building = a.op("place", set=place).entity_id
    unit = a.op("place", set={"level": "unit", "name": "1单元", "parent_id": building}).entity_id
    households = [
        a.op(
            "household",
            set={"place_id": unit, "address": f"观海轩 {t + 1}栋 1单元 {f + 1}01"},
        ).entity_id
        for f in range(HOUSEHOLDS_PER_TEAM)
    ]
    team = a.op(
        "team",
        set={
            "name": f"观海轩{t + 1}栋邻里服务队",
            "kind": "neighbour_service",
            "community_id": community,
            "area": [building],
        },
    ).entity_id
    crew = [a.op("member", set={"name": "刘志强", "role": "team_lead", "team_id": team}).entity_id]
    crew += [
        a.op("member", set={"name": name, "role": "volunteer", "team_id": team}).entity_id
        for name in ("王桂兰", "陈玉梅", "赵国华")
    ]
    for v, volunteer in enumerate(crew[1:]):
        for k in range(ASSIGNMENTS_PER_VOLUNTEER):
            a.op(
                "assignment",
                set={
                    "type": ASSIGNMENT_TYPES[(v + k) % len(ASSIGNMENT_TYPES)],
                    "target_kind": "household",
                    "target_id": households[(v * ASSIGNMENTS_PER_VOLUNTEER + k) % len(households)],
                    "team_id": team,
                    "assignee_id": volunteer,
                    "priority": "normal",
                    "title": "核酸采样上门",
                    "status": "pending",
                },
            )
    return [str(m) for m in crew]


class CaptureTransport:
    """Keeps the sealed body the engine hands it and reports the network as down, so the
    engine records the batch as in flight exactly as a phone that lost its link would."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def post(self, path: str, body: bytes, content_type: str) -> TransportResponse:
        self.bodies.append(body)
        raise SyncError("sync.unreachable", reason="captured")

    def get(self, path: str) -> TransportResponse:
        raise SyncError("sync.unreachable", reason="captured")


@dataclass
class Device:
    phone: Phone
    body: bytes = b""
    ops: int = 0


def prepare(server: LiveServer, devices: int, ops: int, seed: int) -> list[Device]:
    members = build_world(server, -(-devices // TEAM_SIZE))[:devices]
    codes = server.issue_codes(members)
    identities = enroll_many(server.url, codes, threads=SETUP_THREADS)

    def first_pull(i: int) -> Device:
        transport = HttpTransport(server.url)
        phone = Phone(identities[i], MemoryReplica(), transport)
        phone.sync_until_quiet()
        transport.close()
        rng = random.Random(seed * 100_003 + i)
        Shift(phone, rng, urgent_rate=0.0).run(ops)
        capture = CaptureTransport()
        phone.engine.transport = capture
        with contextlib.suppress(SyncError):
            phone.engine.sync()
        if len(capture.bodies) != 1:
            raise RuntimeError(f"expected one sealed batch, got {len(capture.bodies)}")
        return Device(phone, capture.bodies[0], ops)

    with ThreadPoolExecutor(max_workers=SETUP_THREADS) as pool:
        return list(pool.map(first_pull, range(len(identities))))


@dataclass
class Outcome:
    status: int
    body: bytes
    seconds: float
    error: str | None = None


def fire(url: str, bodies: Sequence[bytes], concurrency: int) -> tuple[list[Outcome], float]:
    """POST every body, at most ``concurrency`` in flight; (outcomes, wall seconds)."""
    outcomes: list[Outcome | None] = [None] * len(bodies)
    lock = threading.Lock()
    next_index = 0

    def worker() -> None:
        nonlocal next_index
        headers = {"Content-Type": protocol.SYNC_CONTENT_TYPE}
        with httpx.Client(base_url=url, timeout=60.0) as client:
            while True:
                with lock:
                    i = next_index
                    next_index += 1
                if i >= len(bodies):
                    return
                started = time.perf_counter()
                try:
                    r = client.post(protocol.SYNC_PATH, content=bodies[i], headers=headers)
                    outcomes[i] = Outcome(r.status_code, r.content, time.perf_counter() - started)
                except httpx.HTTPError as exc:
                    seconds = time.perf_counter() - started
                    outcomes[i] = Outcome(0, b"", seconds, type(exc).__name__)

    threads = [threading.Thread(target=worker) for _ in range(min(concurrency, len(bodies)))]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return [o for o in outcomes if o is not None], wall


def check(devices: Sequence[Device], outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Open every answer with its device's keys: acks, rejections, pulled changes."""
    errors = rejected = pulled = acked = 0
    codes: dict[str, int] = {}
    for device, out in zip(devices, outcomes, strict=True):
        if out.status != 200:
            errors += 1
            problem = protocol.parse_problem(out.body) if out.body else None
            key = problem.code if problem else (out.error or f"http {out.status}")
            codes[key] = codes.get(key, 0) + 1
            continue
        ident = device.phone.identity
        batch = protocol.peek_header(device.body).batch
        try:
            resp = protocol.open_response(out.body, ident.keys, ident.server_signing_public, batch)
        except SyncError as exc:
            errors += 1
            codes[exc.code] = codes.get(exc.code, 0) + 1
            continue
        acked += len(resp.acks)
        rejected += len(resp.rejected)
        pulled += len(resp.changes)
        if len(resp.acks) != device.ops:
            errors += 1
            codes["missing_acks"] = codes.get("missing_acks", 0) + 1
    return {
        "errors": errors,
        "error_codes": codes,
        "acked": acked,
        "rejected_ops": rejected,
        "pulled_ops": pulled,
    }


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux ``/proc``)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            todo.extend(int(c) for c in task.read_text().split())
    return out


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds used so far by these processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def profiler(server: LiveServer, path: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling the server and its worker processes (collapsed stacks to ``path``)."""
    assert server.proc is not None
    cmd = [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(server.proc.pid)]
    cmd += ["--subprocesses", "--rate", "200", "--format", "raw", "--output", str(path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    return proc


def run(
    devices: int,
    ops: int,
    db: str,
    concurrency: int,
    workers: int,
    seed: int,
    profile: Path | None = None,
    keep_log: Path | None = None,
) -> dict[str, Any]:
    with LiveServer(db, workers=workers) as server:
        t0 = time.perf_counter()
        fleet = prepare(server, devices, ops, seed)
        setup_s = time.perf_counter() - t0
        spy = profiler(server, profile) if profile else None
        assert server.proc is not None
        pids = process_tree(server.proc.pid)
        server_cpu, client_cpu = cpu_seconds(pids), time.process_time()
        outcomes, wall = fire(server.url, [d.body for d in fleet], concurrency)
        server_cpu, client_cpu = cpu_seconds(pids) - server_cpu, time.process_time() - client_cpu
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        if keep_log is not None:
            shutil.copyfile(server.log_path, keep_log)
        latencies = [o.seconds for o in outcomes]
        result: dict[str, Any] = {
            "devices": devices,
            "ops_per_device": ops,
            "db": db,
            "workers": workers,
            "concurrency": concurrency,
            "ops_per_s": round(devices * ops / wall, 1),
            "p50_s": round(quantile(latencies, 0.50), 4),
            "p99_s": round(quantile(latencies, 0.99), 4),
            "mean_s": round(statistics.fmean(latencies), 4),
            "wall_s": round(wall, 3),
            "server_cpu_s": round(server_cpu, 1),
            "server_cpu_per_batch_ms": round(server_cpu / devices * 1000, 1),
            "server_cpu_share": round(server_cpu / (wall * (os.cpu_count() or 1)), 3),
            "client_cpu_s": round(client_cpu, 1),
            "setup_s": round(setup_s, 1),
            "request_bytes_mean": round(statistics.fmean(len(d.body) for d in fleet)),
        }
        result.update(check(fleet, outcomes))
        result["server_ops"] = len(server.op_ids())
        result["targets"] = TARGETS
        return result


def table(r: dict[str, Any]) -> str:
    rows = [
        (
            "devices × ops",
            f"{r['devices']} × {r['ops_per_device']} ({r['db']}, {r['workers']} workers)",
        ),
        ("in flight", str(r["concurrency"])),
        ("ops/s", f"{r['ops_per_s']:.0f} (target ≥ 5000)"),
        ("p50 / p99", f"{r['p50_s']:.3f} s / {r['p99_s']:.3f} s (target p99 ≤ 2 s)"),
        ("errors", f"{r['errors']} {r['error_codes'] or ''}".strip()),
        ("acked / rejected ops", f"{r['acked']} / {r['rejected_ops']}"),
        ("ops pulled in answers", str(r["pulled_ops"])),
        ("wall / setup", f"{r['wall_s']:.1f} s / {r['setup_s']:.0f} s"),
        (
            "server CPU",
            f"{r['server_cpu_s']:.1f} s ({r['server_cpu_per_batch_ms']:.0f} ms a batch)",
        ),
        ("load generator CPU", f"{r['client_cpu_s']:.1f} s"),
    ]
    return aligned(rows)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench server", description=__doc__)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--ops", type=int, default=100)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--profile", type=Path, help="py-spy collapsed stacks of the server")
    parser.add_argument("--keep-log", type=Path, help="copy the server's JSON-lines log here")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)
    result = run(
        args.devices,
        args.ops,
        args.db,
        args.concurrency,
        args.workers,
        args.seed,
        args.profile,
        args.keep_log,
    )
    print(table(result))
    write_json(args.json, result)
    return 0
