"""Two server processes on one PostgreSQL: devices alternating between them end in one state."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from sync import protocol
from sync.merge import apply_op
from sync.ops import Op
from sync.server import db
from sync.server.state import op_aad, record_aad
from tests.integration.server.conftest import Backend, Phone, phone_op, start_server
from tests.integration.server.world import build_world, code_for

ROUNDS = 6


@pytest.mark.postgres
def test_two_servers_one_database_same_final_state(pg_database: str, tmp_path: Path) -> None:
    backend = Backend(tmp_path / "server", pg_database)
    backend.cli("init")
    rt = backend.runtime()
    world = build_world(rt)
    servers = [start_server(backend), start_server(backend)]
    try:
        urls = [s.url for s in servers]
        members = [world.volunteer_a, world.lead_a, world.volunteer_b, world.coordinator]
        phones = []
        for i, member in enumerate(members):
            phone = Phone(urls[i % 2])
            assert phone.enroll(code_for(rt, member)).status_code == 200
            phones.append(phone)
        households = {world.team_a: world.household_a, world.team_b: world.household_b}
        acked: dict[str, set[str]] = {p.device_id: set() for p in phones}
        errors: list[BaseException] = []

        def work(index: int, phone: Phone) -> None:
            try:
                for round_no in range(ROUNDS):
                    phone.url = urls[(index + round_no) % 2]
                    phone.pull_all()
                    household = households.get(phone.team_id or "", world.household_a)
                    ops = [
                        phone_op(
                            phone,
                            "request",
                            None,
                            set={
                                "household_id": household,
                                "category": "food_goods",
                                "urgency": "routine",
                                "created_at": "2022-04-01T08:00:00Z",
                                "status": "new",
                                "description": f"第{round_no}轮：需要蔬菜{n}份",
                            },
                        )
                        for n in range(3)
                    ]
                    req = phone.request(ops)
                    resp = phone.send(req)
                    assert resp.rejected == [], resp.rejected
                    # the retry reaches the OTHER server and gets the same answer
                    phone.url = urls[(index + round_no + 1) % 2]
                    again = protocol.open_response(
                        phone.post(phone.seal(req)).content,
                        phone.keys,
                        phone.server_signing,
                        req.batch_id,
                    )
                    assert (again.acks, again.receipt) == (resp.acks, resp.receipt)
                    acked[phone.device_id].update(resp.acks)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i, p)) for i, p in enumerate(phones)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=240)
        assert not errors, errors
        assert all(len(ids) == ROUNDS * 3 for ids in acked.values())

        # the feed is gap-free, every acked op is stored once, records equal a fresh merge
        with rt.db.read() as conn:
            seqs = list(conn.execute(select(db.feed.c.seq).order_by(db.feed.c.seq)).scalars())
            assert seqs == list(range(1, db.get_counter(conn, "head") + 1))
            rows = conn.execute(select(db.ops.c.op_id, db.ops.c.body)).all()
            stored = [Op.from_dict(rt.vault.open(r.body, op_aad(r.op_id))) for r in rows]
            records = {
                (r.kind, r.entity_id): rt.vault.open(r.body, record_aad(r.kind, r.entity_id))
                for r in conn.execute(
                    select(db.records.c.kind, db.records.c.entity_id, db.records.c.body)
                )
            }
        assert len({o.op_id for o in stored}) == len(stored)
        assert set().union(*acked.values()) <= {o.op_id for o in stored}
        fresh: dict[tuple[str, str], dict] = {}
        for op in sorted(stored, key=lambda o: o.order):
            fresh[(op.kind, op.entity_id)] = apply_op(fresh.get((op.kind, op.entity_id)), op)
        assert fresh == records

        # coordinators reading through either server see the same ops and the same records
        views = []
        for url in urls:
            viewer = Phone(url)
            assert viewer.enroll(code_for(rt, world.coordinator)).status_code == 200
            viewer.pull_all()
            views.append(viewer.received)
        assert set(views[0]) == set(views[1]) == {o.op_id for o in stored}
        # and team A's volunteer never got team B's requests
        a = phones[0]
        a.pull_all()
        theirs = {op for op in acked[phones[2].device_id]}
        assert not theirs & set(a.received)
    finally:
        for s in servers:
            s.stop()
        rt.close()
