"""``python -m bench abuse --json PATH``: the server cannot be starved.

Against a real ``serve --workers 2`` (:class:`~bench.harness.LiveServer`), three attacks; memory
is the growth over idle of the PSS summed over the server's processes, CPU is their user + system
time, both read from ``/proc`` (:mod:`bench.attacks`):

- ``stalled_bodies_rss_mb`` — 100 connections each declaring a 4 MiB body, sending 2 MiB and
  stalling (target ≤ 64 MB). Also: how many were refused at once (503) and dropped at the body
  deadline (408), and the growth after the drop.
- ``healthz_under_slowloris_ok`` — ``/healthz`` answers (within 5 s, three times) while 1,100
  half-sent requests are open and every server process is limited to 1,024 descriptors.
- ``object_bomb_rss_mb`` / ``object_bomb_cpu_s`` — one enrolled device posts a 33 KiB signed body
  that inflates to 32 MiB of ``[],[],…`` (targets ≤ 64 MB, ≤ 0.2 s).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench import attacks
from bench.harness import LiveServer, enroll
from sync import protocol

TARGETS = {
    "stalled_bodies_rss_mb": 64.0,
    "object_bomb_rss_mb": 64.0,
    "object_bomb_cpu_s": 0.2,
}


def _peak_pss(pids: list[int], seconds: float) -> float:
    peak = 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        peak = max(peak, attacks.pss_mb(pids))
        time.sleep(0.05)
    return peak


def stalled_bodies(server: LiveServer, pids: list[int], n: int) -> dict[str, Any]:
    idle = attacks.pss_mb(pids)
    socks = attacks.stall_bodies(server.address, n)
    try:
        peak = _peak_pss(pids, 2.0)
        answers = [attacks.answer_of(s, 15.0) for s in socks]
    finally:
        attacks.close_all(socks)
    time.sleep(0.5)
    statuses = [attacks.status_of(a) for a in answers]
    return {
        "stalled_bodies_rss_mb": round(peak - idle, 1),
        "stalled_bodies_connections": len(socks),
        "stalled_bodies_refused_503": statuses.count(503),
        "stalled_bodies_dropped_408": statuses.count(408),
        "stalled_bodies_after_drop_rss_mb": round(attacks.pss_mb(pids) - idle, 1),
    }


def slowloris(server: LiveServer, pids: list[int], n: int, fds: int) -> dict[str, Any]:
    attacks.limit_descriptors(pids, fds)
    socks = attacks.half_sent_requests(server.address, n)
    try:
        checks = []
        for _ in range(3):
            started = time.monotonic()
            checks.append((attacks.healthz_ok(server.url, timeout=5.0), time.monotonic() - started))
            time.sleep(0.2)
    finally:
        attacks.close_all(socks)
    return {
        "healthz_under_slowloris_ok": all(ok for ok, _ in checks),
        "slowloris_connections": len(socks),
        "slowloris_healthz_s": round(max(s for _, s in checks), 3),
        "slowloris_fd_limit": fds,
    }


def object_bomb(server: LiveServer, pids: list[int]) -> dict[str, Any]:
    member = next(
        eid
        for (kind, eid), r in server.records().items()
        if kind == "member" and r.get("role") == "volunteer"
    )
    identity = enroll(server.url, server.issue_code(member))
    body = attacks.bomb_body(identity.device_id, identity.keys, identity.server_sealing_public)
    time.sleep(0.5)
    idle, cpu = attacks.pss_mb(pids), attacks.cpu_s(pids)
    peak = [idle]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], attacks.pss_mb(pids))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        r = httpx.post(
            f"{server.url}{protocol.SYNC_PATH}",
            content=body,
            headers={"Content-Type": protocol.SYNC_CONTENT_TYPE},
            timeout=120,
        )
    finally:
        done.set()
        watcher.join()
    used = attacks.cpu_s(pids) - cpu
    code = r.json().get("error", {}).get("code") if r.status_code != 200 else None
    return {
        "object_bomb_rss_mb": round(max(peak[0], attacks.pss_mb(pids)) - idle, 1),
        "object_bomb_cpu_s": round(used, 3),
        "object_bomb_body_bytes": len(body),
        "object_bomb_status": r.status_code,
        "object_bomb_code": code,
    }


def run(db: str, workers: int, stalls: int, half_sent: int, fds: int) -> dict[str, Any]:
    with LiveServer(db, demo=True, workers=workers) as server:
        assert server.proc is not None
        time.sleep(1.0)
        for _ in range(20):  # both workers up and warm
            attacks.healthz_ok(server.url)
        pids = attacks.process_tree(server.proc.pid)
        result: dict[str, Any] = {"db": db, "workers": workers, "processes": len(pids)}
        result |= object_bomb(server, pids)
        result |= stalled_bodies(server, pids, stalls)
        result |= slowloris(server, pids, half_sent, fds)
    result["targets"] = TARGETS
    result["meets_targets"] = result["healthz_under_slowloris_ok"] and all(
        result[k] <= v for k, v in TARGETS.items()
    )
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench abuse", description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stalls", type=int, default=100)
    parser.add_argument("--half-sent", type=int, default=1100)
    parser.add_argument("--fd-limit", type=int, default=1024)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)
    result = run(args.db, args.workers, args.stalls, args.half_sent, args.fd_limit)
    for key, value in result.items():
        print(f"{key:36} {value}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0 if result["meets_targets"] else 1
