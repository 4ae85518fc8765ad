"""Change notification: subscribers, and delivery on the UI's event loop when one is installed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from app.services.observable import Observable
from app.ui.app import on_loop


@pytest.fixture
def ui_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A real event loop running in its own thread, as the Flet server's is."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="ui-loop", daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


@pytest.fixture
def installed(ui_loop: asyncio.AbstractEventLoop) -> Iterator[asyncio.AbstractEventLoop]:
    Observable.deliver = on_loop(ui_loop)
    try:
        yield ui_loop
    finally:
        Observable.deliver = None


def test_without_a_deliverer_subscribers_run_at_once_in_the_announcing_thread() -> None:
    source, threads = Observable(), []
    source.subscribe(lambda: threads.append(threading.current_thread().name))
    source.changed()
    assert threads == [threading.current_thread().name]


def test_changes_from_other_threads_reach_subscribers_on_the_ui_loop_in_order(
    installed: asyncio.AbstractEventLoop,
) -> None:
    source, seen = Observable(), []
    done = threading.Event()
    source.subscribe(lambda: seen.append(threading.current_thread().name))

    def background() -> None:
        for _ in range(3):
            source.changed()
        installed.call_soon_threadsafe(done.set)

    worker = threading.Thread(target=background, name="linli-sync")
    worker.start()
    worker.join(5)
    assert done.wait(5)
    assert seen == ["ui-loop"] * 3


def test_a_change_announced_on_the_ui_loop_is_delivered_at_once(
    installed: asyncio.AbstractEventLoop,
) -> None:
    source, seen = Observable(), []
    source.subscribe(lambda: seen.append("redrawn"))

    async def tap() -> list[str]:
        source.changed()
        return list(seen)  # what the tap's handler sees right after announcing

    assert asyncio.run_coroutine_threadsafe(tap(), installed).result(5) == ["redrawn"]


def test_a_screen_that_unsubscribed_before_delivery_is_not_called(
    installed: asyncio.AbstractEventLoop,
) -> None:
    source, seen = Observable(), []
    gate, done = threading.Event(), threading.Event()
    installed.call_soon_threadsafe(gate.wait, 5)  # the UI thread is busy for a moment
    unsubscribe = source.subscribe(lambda: seen.append("old screen"))
    source.changed()  # from this (non-UI) thread: queued behind the busy moment
    unsubscribe()
    gate.set()
    installed.call_soon_threadsafe(done.set)
    assert done.wait(5)
    assert seen == []
