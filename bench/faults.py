"""``python -m bench faults --syncs N --json PATH``: syncs through a faulty link lose nothing.

Six real phones (encrypted ``LocalStore``, real engine) on the demo district — team A's lead and
two volunteers, team B's lead and a volunteer, the coordinator — record changes
(:mod:`bench.workload`) and sync ``N`` times in total through :class:`~bench.netem.FaultProxy`,
which injects a fault into a random share of exchanges (request dropped, response dropped after
the server committed, response truncated, response stalled then cut, 503). Then the link is
clean and everyone syncs until quiet, and :func:`bench.audit.audit` counts what went wrong.
The workload changes roles under the phones' feet: leads reassign open doors, volunteers
sometimes visit a teammate's door, leads finish doors volunteers are also visiting — so the server
refuses or narrows some ops (told to the phone, never silent) — and half way through one
volunteer's phone is retired and another's revoked while they still hold unsent work. Keys: ``syncs``,
``faults_injected``, ``lost``, ``duplicated``, ``diverged``, ``rejected_divergent`` (phone records
still differing from the server on an entity something was refused on), ``visits_lost`` (visits a
phone recorded that the server does not hold; also in ``lost``) — all must be 0 — and
``rejected`` (ops refused whole or in part, each told to its phone).
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.audit import audit
from bench.harness import LiveServer
from bench.netem import FaultProxy, random_faults
from bench.phones import Fleet, crew
from bench.report import aligned, write_json
from bench.workload import shifts_and_syncs

STALL_S = 0.5


class Switch:
    """A fault policy that can be turned off (enrollment and the clean syncs at the end)."""

    def __init__(self, rate: float, seed: int) -> None:
        self.on = True
        self._faults = random_faults(rate, seed)

    def __call__(self) -> str | None:
        return self._faults() if self.on else None


def run(syncs: int, rate: float, db: str, seed: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="linli-bench-faults-"))
    policy = Switch(rate, seed)
    started = time.perf_counter()
    with (
        LiveServer(db, demo=True) as server,
        FaultProxy(server.address, policy=policy, stall_s=STALL_S) as proxy,
    ):
        people = crew(server)
        fleet = Fleet(server, tmp)
        try:
            members = [
                people.lead_a,
                *people.volunteers_a[:2],
                people.lead_b,
                people.volunteers_b[0],
                people.coordinator,
            ]
            phones = [fleet.add(m, via=proxy.url) for m in members]
            policy.on = False
            fleet.sync_until_quiet()
            policy.on = True
            rng = random.Random(seed)
            failed = shifts_and_syncs(phones, syncs // 2, rng, most=4)
            # mid-run a volunteer hands back her phone and another phone is reported stolen:
            # both still hold unsent work, which must reach the server (or its review queue)
            retired, revoked = phones[2], phones[4]
            server.leave(retired.device_id, "retire")
            server.leave(revoked.device_id, "revoke")
            failed += shifts_and_syncs(phones, syncs - syncs // 2, rng, most=4)
            policy.on = False
            quiet_rounds = fleet.sync_until_quiet()
            gone = {retired.device_id, revoked.device_id}
            result = audit(server, phones, fleet.created(), gone)
        finally:
            fleet.close()
            shutil.rmtree(tmp, ignore_errors=True)
    return {
        "syncs": syncs,
        "faults_injected": proxy.stats.faults_injected,
        "lost": result.lost,
        "duplicated": result.duplicated,
        "diverged": result.diverged,
        "rejected_divergent": result.rejected_divergent,
        "visits_lost": result.visits_lost,
        "rejected": result.rejected,
        "pending": result.pending,
        "failed_syncs": failed,
        "faults": dict(sorted(proxy.stats.faults.items())),
        "exchanges": proxy.stats.exchanges,
        "ops_created": result.created,
        "server_ops": result.server_ops,
        "records": result.records,
        "clean_rounds": quiet_rounds,
        "phones": len(phones),
        "fault_rate": rate,
        "db": db,
        "seconds": round(time.perf_counter() - started, 1),
        "details": result.details,
    }


def table(r: dict[str, Any]) -> str:
    rows = [
        (
            "syncs (failed)",
            f"{r['syncs']} ({r['failed_syncs']}) by {r['phones']} phones, {r['db']}",
        ),
        ("faults injected", f"{r['faults_injected']} of {r['exchanges']} exchanges: {r['faults']}"),
        ("ops created / on server", f"{r['ops_created']} / {r['server_ops']}"),
        ("lost / duplicated / diverged", f"{r['lost']} / {r['duplicated']} / {r['diverged']}"),
        (
            "visits lost / rejected but divergent",
            f"{r['visits_lost']} / {r['rejected_divergent']}",
        ),
        ("ops refused (whole or in part, told)", str(r["rejected"])),
        ("pending after clean syncs", str(r["pending"])),
        ("clean rounds to quiet", str(r["clean_rounds"])),
        ("seconds", str(r["seconds"])),
    ]
    return aligned(rows)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench faults", description=__doc__)
    parser.add_argument("--syncs", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=0.3, help="share of exchanges faulted")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", type=int, default=20220401)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)
    result = run(args.syncs, args.rate, args.db, args.seed)
    print(table(result))
    write_json(args.json, result)
    bad = ("lost", "duplicated", "diverged", "rejected_divergent", "visits_lost")
    return 1 if any(result[k] for k in bad) else 0
