"""``python -m bench sync --ops 500 --json PATH``: one device's end-of-shift sync.

A team lead's phone (real :class:`~app.store.LocalStore`, real engine) on the demo district
records ``--ops`` changes offline (visits, status changes, new requests — a few urgent — notes,
edits; :mod:`bench.workload`), while ``--team-ops`` changes by a teammate reach the server first;
then it syncs against a real server (SQLite). Measured from the bytes actually exchanged:

- ``round_trips``; ``wire_bytes`` (request + response bodies); ``plain_json_bytes`` (the same
  ops sent and changes received as plain UTF-8 JSON); ``wire_ratio``; ``crypto_overhead_bytes``
  (HPKE encapsulation + tag and the Ed25519 signature of every message);
- ``throttled_s``: the same sync by a fresh device on a fresh server through
  ``FaultProxy(rate_bps=100_000, rtt_s=0.3)``, and when its urgent ops were acknowledged;
- ``one_request``: for comparison, the same ops sent as ONE request with the urgent ops first
  (built with the protocol codec, since the engine always uses a separate priority lane);
- ``fresh_pull_notes_s`` and ``fresh_pull_ops_per_s``: a fresh phone's enroll-and-pull of a scope
  whose one request holds ``--fresh-notes`` notes, then of ``--fresh-ops`` more ops
  (:mod:`bench.fresh_pull`; PIN derivation excluded).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.fresh_pull import TARGETS as FRESH_TARGETS
from bench.fresh_pull import fresh_pulls
from bench.harness import LiveServer, enroll
from bench.netem import FaultProxy
from bench.phones import Phone, RecordingTransport, local_store
from bench.workload import Shift
from sync import protocol
from sync.client import HttpTransport
from sync.client.batching import is_urgent
from sync.crypto.sealing import OVERHEAD
from sync.crypto.signing import SIGNATURE_BYTES
from sync.ops import Op

RATE_BPS = 100_000
RTT_S = 0.3
TARGETS = {"round_trips": 1, "wire_ratio": 0.40, "throttled_s": 5.0, **FRESH_TARGETS}


def plain_json(items: list[dict[str, Any]]) -> int:
    """Bytes of a list as plain, compact UTF-8 JSON (no compression, no crypto)."""
    return len(json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode())


class Scenario:
    """A fresh demo server, a lead's phone with ``ops`` pending and a teammate's ``team_ops``
    already on the server."""

    def __init__(self, ops: int, team_ops: int, seed: int, urgent_rate: float) -> None:
        self.server = LiveServer("sqlite", demo=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="linli-bench-sync-"))
        self.n, self.team_ops, self.seed = ops, team_ops, seed
        self.urgent_rate = urgent_rate
        self.phones: list[Phone] = []

    def __enter__(self) -> Scenario:
        self.server.start()
        try:
            self._prepare()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for phone in self.phones:
            phone.close()
        self.server.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _phone(self, member_id: str) -> Phone:
        identity = enroll(self.server.url, self.server.issue_code(member_id))
        store = local_store(self.tmp / identity.device_id)
        phone = Phone(identity, store, RecordingTransport(HttpTransport(self.server.url)))
        phone.sync_until_quiet()
        self.phones.append(phone)
        return phone

    def _prepare(self) -> None:
        records = self.server.records()
        team = min(
            (
                r
                for (k, _), r in records.items()
                if k == "team" and r["kind"] == "neighbour_service"
            ),
            key=lambda r: str(r["id"]),
        )
        crew = sorted(
            (
                r
                for (k, _), r in records.items()
                if k == "member" and r.get("team_id") == team["id"]
            ),
            key=lambda r: (r["role"] != "team_lead", str(r["id"])),
        )
        self.crew = crew
        self.lead = self._phone(str(crew[0]["id"]))
        if self.team_ops:
            mate = self._phone(str(crew[1]["id"]))
            Shift(mate, random.Random(self.seed + 1)).run(self.team_ops)
            mate.sync_until_quiet()
        self.shift = Shift(self.lead, random.Random(self.seed), urgent_rate=self.urgent_rate)
        self.ops = self.shift.run(self.n)
        self.recorder: RecordingTransport = self.lead.transport  # type: ignore[assignment]
        self.recorder.reset()


def measure(scenario: Scenario) -> dict[str, Any]:
    """The direct sync: round trips and bytes, decoded from the exchanged bodies."""
    phone, recorder = scenario.lead, scenario.recorder
    summary = phone.sync()
    up = down = 0
    changes: list[dict[str, Any]] = []
    for _path, request, status, response, _t in recorder.exchanges:
        up += len(request)
        down += len(response)
        if status == 200:
            batch = protocol.peek_header(request).batch
            resp = protocol.open_response(
                response, phone.identity.keys, phone.identity.server_signing_public, batch
            )
            changes.extend(op.to_dict() for op in resp.changes)
    sent = [op.to_dict() for op in scenario.ops]
    plain = plain_json(sent) + plain_json(changes)
    messages = 2 * len(recorder.exchanges)
    return {
        "round_trips": summary.round_trips,
        "acked": summary.acked,
        "rejected": len(summary.rejected),
        "changes_received": len(changes),
        "request_bytes": up,
        "response_bytes": down,
        "wire_bytes": up + down,
        "plain_json_bytes": plain,
        "wire_ratio": round((up + down) / plain, 4),
        "crypto_overhead_bytes": messages * (OVERHEAD + SIGNATURE_BYTES),
    }


def throttled(scenario: Scenario) -> dict[str, Any]:
    """The engine's sync through the thin link; when the urgent ops were acknowledged."""
    phone, recorder = scenario.lead, scenario.recorder
    with FaultProxy(scenario.server.address, rate_bps=RATE_BPS, rtt_s=RTT_S) as proxy:
        recorder.inner = HttpTransport(proxy.url)
        started = time.perf_counter()
        summary = phone.sync()
        elapsed = time.perf_counter() - started
    urgent = {op.op_id for op in scenario.ops if is_urgent(op)}
    urgent_at: float | None = None
    if urgent and recorder.exchanges:
        urgent_at = round(recorder.exchanges[0][4], 3)  # the priority lane goes first
    return {
        "throttled_s": round(elapsed, 3),
        "throttled_round_trips": summary.round_trips,
        "throttled_urgent_acked_s": urgent_at,
    }


def one_request(scenario: Scenario) -> dict[str, Any]:
    """The same ops in ONE request, urgent ops first, through the thin link (codec only)."""
    phone = scenario.lead
    ident = phone.identity
    lane = {op.entity_id for op in scenario.ops if is_urgent(op)}
    ordered: list[Op] = sorted(
        scenario.ops, key=lambda op: not (op.kind == "request" and op.entity_id in lane)
    )
    req = protocol.SyncRequest(
        ident.device_id,
        f"b-one-{scenario.seed}-{int(time.time() * 1000)}",
        int(time.time() * 1000) + 10**6,
        ordered,
        phone.store.cursor(),
        protocol.DEFAULT_PULL_LIMIT,
        True,
    )
    body = protocol.seal_request(
        req, ident.keys, ident.server_signing_public, ident.server_sealing_public
    )
    with FaultProxy(scenario.server.address, rate_bps=RATE_BPS, rtt_s=RTT_S) as proxy:
        transport = HttpTransport(proxy.url)
        started = time.perf_counter()
        answer = transport.post(protocol.SYNC_PATH, body, protocol.SYNC_CONTENT_TYPE)
        elapsed = time.perf_counter() - started
        transport.close()
    resp = protocol.open_response(
        answer.body, ident.keys, ident.server_signing_public, req.batch_id
    )
    return {
        "round_trips": 1,
        "acked": len(resp.acks),
        "wire_bytes": len(body) + len(answer.body),
        "throttled_s": round(elapsed, 3),
        "urgent_acked_s": round(elapsed, 3),
    }


def run(
    ops: int, team_ops: int, seed: int, urgent_rate: float, fresh: tuple[int, int] = (4000, 100_000)
) -> dict[str, Any]:
    with Scenario(ops, team_ops, seed, urgent_rate) as s:
        result: dict[str, Any] = {
            "ops": ops,
            "team_ops": team_ops,
            "urgent_ops": sum(is_urgent(op) for op in s.ops),
            "mix": dict(sorted(s.shift.done.items())),
        }
        result.update(measure(s))
    with Scenario(ops, team_ops, seed, urgent_rate) as s:
        result.update(throttled(s))
    with Scenario(ops, team_ops, seed, urgent_rate) as s:
        result["one_request"] = one_request(s)
    with Scenario(0, 0, seed, urgent_rate) as s:
        mate = str(s.crew[1]["id"])
        result.update(fresh_pulls(s.server, s.lead, mate, s.tmp, *fresh))
    result["targets"] = TARGETS
    return result


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def table(result: dict[str, Any]) -> str:
    rows = [
        ("ops (urgent)", f"{result['ops']} ({result['urgent_ops']})"),
        ("teammate ops pulled", str(result["changes_received"])),
        ("round trips", f"{result['round_trips']} (target 1)"),
        ("request / response bytes", f"{result['request_bytes']} / {result['response_bytes']}"),
        ("wire bytes", str(result["wire_bytes"])),
        ("plain JSON bytes", str(result["plain_json_bytes"])),
        ("wire ratio", f"{result['wire_ratio']:.3f} (target ≤ 0.40)"),
        ("crypto overhead bytes", str(result["crypto_overhead_bytes"])),
        ("throttled sync", f"{result['throttled_s']:.2f} s (target ≤ 5 s)"),
        ("  urgent ops acked after", _seconds(result["throttled_urgent_acked_s"])),
        ("one request, urgent first", f"{result['one_request']['throttled_s']:.2f} s"),
        (
            f"fresh pull, {result['fresh_pull_notes']} notes on one request",
            f"{result['fresh_pull_notes_s']:.2f} s (target ≤ 3 s)",
        ),
        (
            f"fresh pull, {result['fresh_pull_ops']} ops",
            f"{result['fresh_pull_ops_per_s']} ops/s (target ≥ 5000), "
            f"{result['fresh_pull_ops_round_trips']} round trips",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench sync", description=__doc__)
    parser.add_argument("--ops", type=int, default=500)
    parser.add_argument("--team-ops", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--urgent-rate", type=float, default=0.05, help="share of new requests that are urgent"
    )
    parser.add_argument("--fresh-notes", type=int, default=4000, help="notes on one request")
    parser.add_argument("--fresh-ops", type=int, default=100_000, help="ops in a fresh scope")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)
    fresh = (args.fresh_notes, args.fresh_ops)
    result = run(args.ops, args.team_ops, args.seed, args.urgent_rate, fresh)
    print(table(result))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0
