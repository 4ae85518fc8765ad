"""``python -m bench.app_phone APP-ARGS``: ``python -m app`` with a commit listener, for ``bench app``.

The phone is the real app (same composition root, same arguments); the only addition is a store
listener, installed when the device opens its store, that appends ``time.monotonic_ns()`` to the
file named by :data:`COMMIT_LOG_ENV` after each local commit (a change that queues an op in the
outbox), so ``bench app`` can time a tap to the change being durable. CLOCK_MONOTONIC is shared
by every process on the machine. Nothing about residents is written: a time stamp per commit.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from app import main as app_main
from app.config import AppConfig
from app.services.device import Device
from app.services.sync_service import SyncService
from app.store import LocalStore
from app.store.tables import OUTBOX

COMMIT_LOG_ENV = "LINLI_BENCH_COMMIT_LOG"


def commit_listener(path: Path) -> Callable[[frozenset[str]], None]:
    """A store listener logging the time of each local commit (its data and its outbox entry)."""

    def on_change(kinds: frozenset[str]) -> None:
        if OUTBOX in kinds and len(kinds) > 1:  # record_changes; an acknowledgement is OUTBOX only
            stamp = time.monotonic_ns()
            with open(path, "a", encoding="ascii") as out:
                out.write(f"commit {stamp}\n")

    return on_change


def watch_commits(device: Device, path: Path) -> None:
    """Install :func:`commit_listener` on every store ``device`` opens (each unlock)."""
    hooked: list[LocalStore] = []

    def on_device() -> None:
        store = device.store
        if store is not None and not any(s is store for s in hooked):
            hooked.append(store)
            store.add_listener(commit_listener(path))

    device.subscribe(on_device)


def main(argv: list[str]) -> int:
    log = Path(os.environ[COMMIT_LOG_ENV])
    build = app_main.build

    def build_watched(config: AppConfig) -> tuple[Device, SyncService]:
        device, sync = build(config)
        watch_commits(device, log)
        return device, sync

    app_main.build = build_watched
    return app_main.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
