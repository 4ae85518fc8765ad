from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync import hlc
from sync.hlc import HybridClock


class FakeWall:
    """A settable wall clock (ms)."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def test_now_is_strictly_increasing_even_when_the_wall_clock_stalls_or_goes_back() -> None:
    wall = FakeWall(1_000)
    clock = HybridClock(clock=wall)
    a = clock.now()
    b = clock.now()
    wall.ms = 500  # the phone's clock was set back
    c = clock.now()
    assert a < b < c
    assert hlc.decode(c) == (1_000, 2)


def test_observe_moves_past_a_remote_stamp_from_the_future() -> None:
    wall = FakeWall(1_000)
    clock = HybridClock(clock=wall)
    remote = hlc.encode(5_000, 7)
    after = clock.observe(remote)
    assert after > remote
    assert clock.now() > after


def test_counter_overflow_rolls_into_the_next_millisecond() -> None:
    clock = HybridClock(last=hlc.encode(10, hlc.MAX_COUNTER), clock=FakeWall(0))
    assert hlc.decode(clock.now()) == (11, 0)


@pytest.mark.parametrize("bad", ["", "1:2", "000000000000001-00001", "00000000000000a:00001", 5])
def test_decode_refuses_what_is_not_a_stamp(bad: object) -> None:
    assert not hlc.is_valid(bad)


@given(
    st.integers(0, 10**14),
    st.integers(0, hlc.MAX_COUNTER),
    st.integers(0, 10**14),
    st.integers(0, hlc.MAX_COUNTER),
)
def test_string_order_is_time_order(m1: int, c1: int, m2: int, c2: int) -> None:
    assert (hlc.encode(m1, c1) < hlc.encode(m2, c2)) == ((m1, c1) < (m2, c2))


def test_threads_never_get_the_same_stamp() -> None:
    clock = HybridClock(clock=FakeWall(42))
    seen: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [clock.now() for _ in range(500)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(set(seen)) == 2_000
