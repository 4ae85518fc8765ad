"""A member moved to another team must receive the new team's area, whatever replays arrive.

The "restart your pull" signal is the device's state on the server (the scope it was last
answered for): a replayed old request neither receives nor consumes it; the device's next genuine
request does, and a retry of that request (its answer lost) carries it again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.integration.server.conftest import Backend, Phone, ServerProcess, enrolled, phone_op
from tests.integration.server.world import World


@dataclass
class Scene:
    world: World
    a: Phone  # volunteer of team A (building 1)
    k: Phone  # coordinator


@pytest.fixture
def scene(backend: Backend, server: ServerProcess) -> Iterator[Scene]:
    world, (a, k) = enrolled(backend, server.url, "volunteer_a", "coordinator")
    a.pull_all()
    k.pull_all()
    yield Scene(world, a, k)


def seen(phone: Phone, kind: str) -> set[str]:
    return {op.entity_id for op in phone.received.values() if op.kind == kind}


def move_to_team_b(scene: Scene) -> None:
    k, w = scene.k, scene.world
    move = phone_op(k, "member", w.volunteer_a, set={"team_id": w.team_b})
    assert k.sync([move]).acks == [move.op_id]


def test_a_replayed_old_request_does_not_take_the_moved_members_restart(scene: Scene) -> None:
    a, w = scene.a, scene.world
    assert w.household_b not in seen(a, "household")
    old = a.request()
    old_body = a.seal(old)
    a.send(old)  # an ordinary sync, recorded by an eavesdropper
    move_to_team_b(scene)
    replay = a.post(old_body)  # the recorded request, sent again after the move
    assert replay.status_code == 200
    a.pull_all()  # the real phone's next syncs
    assert w.household_b in seen(a, "household")
    assert w.resident_b in seen(a, "resident")


def test_a_replay_with_an_old_counter_does_not_take_the_restart(scene: Scene) -> None:
    a, w = scene.a, scene.world
    stale = a.seal(a.request())
    a.sync()  # a newer counter is used first
    move_to_team_b(scene)
    assert a.post(stale).status_code != 200  # refused as a replay
    a.pull_all()
    assert w.household_b in seen(a, "household")


def test_a_restart_whose_answer_is_lost_comes_again_with_the_retry(scene: Scene) -> None:
    a, w = scene.a, scene.world
    move_to_team_b(scene)
    req = a.request()
    body = a.seal(req)
    assert a.post(body).status_code == 200  # processed, but the answer is lost on the way
    assert a.post(body).status_code == 200  # replayed by someone else: still not the phone's
    retry = a.send(req)  # the phone retries the same batch
    assert w.household_b in {op.entity_id for op in retry.changes}
    a.pull_all()
    assert w.resident_b in seen(a, "resident")
