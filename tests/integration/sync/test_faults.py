"""Five phones sync through a fault-injecting proxy, then cleanly: nothing lost, nothing twice,
everyone equal to the server.

Faults (``bench.netem``): the request dropped, the response dropped AFTER the server committed,
the response cut in half, the response held then the connection closed, a 503 from the link. A
failed sync leaves the phone's outbox and in-flight batch in place; the next sync re-sends the
same batch, which the server must answer from its stored answer without applying anything twice.
"""

from __future__ import annotations

import random
from pathlib import Path

from bench.audit import audit
from bench.faults import Switch
from bench.harness import LiveServer
from bench.netem import FaultProxy
from bench.phones import Fleet, crew
from bench.workload import shifts_and_syncs

SYNCS = 150
FAULT_RATE = 0.35


def test_faulty_link_loses_nothing(live: LiveServer, tmp_path: Path) -> None:
    people = crew(live)
    policy = Switch(FAULT_RATE, seed=20220401)
    with FaultProxy(live.address, policy=policy, stall_s=0.3) as proxy:
        fleet = Fleet(live, tmp_path)
        try:
            members = [
                people.lead_a,
                people.volunteers_a[0],
                people.volunteers_a[1],
                people.lead_b,
                people.coordinator,
            ]
            # the first code comes from the real CLI, the rest from the server's enrollment API
            first = fleet.add(members[0], code=live.issue_code(members[0]), via=proxy.url)
            phones = [first] + [fleet.add(m, via=proxy.url) for m in members[1:]]
            policy.on = False
            fleet.sync_until_quiet()
            policy.on = True

            rng = random.Random(7)
            failed = shifts_and_syncs(phones, SYNCS, rng, most=3)
            injected = proxy.stats.faults_injected
            assert injected >= SYNCS * FAULT_RATE / 2, proxy.stats
            assert failed > 0, "no sync failed: the faults did not reach the engine"
            assert set(proxy.stats.faults) == {
                "drop_request",
                "drop_response",
                "truncate",
                "stall",
                "error_5xx",
            }, proxy.stats.faults

            policy.on = False
            fleet.sync_until_quiet()
            result = audit(live, phones, fleet.created())
            result.assert_clean()
            assert result.created > SYNCS  # the phones really worked between syncs
        finally:
            fleet.close()
