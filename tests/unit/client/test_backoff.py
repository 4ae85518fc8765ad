"""The one backoff function shared by the transport's retries and the app's probe."""

from __future__ import annotations

from sync.client import full_jitter


def test_full_jitter_draws_inside_a_doubling_capped_window() -> None:
    assert full_jitter(0, base=2.0, cap=60.0, rand=lambda: 1.0) == 2.0
    assert full_jitter(3, base=2.0, cap=60.0, rand=lambda: 1.0) == 16.0
    assert full_jitter(5, base=2.0, cap=60.0, rand=lambda: 1.0) == 60.0
    assert full_jitter(2, base=2.0, cap=60.0, rand=lambda: 0.25) == 2.0
    assert full_jitter(0, base=2.0, cap=60.0, rand=lambda: 0.0) == 0.0


def test_a_long_outage_does_not_overflow() -> None:
    assert full_jitter(100_000, base=0.5, cap=8.0, rand=lambda: 0.5) == 4.0
