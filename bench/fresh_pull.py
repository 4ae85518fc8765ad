"""A fresh phone's first pull of a large scope, for ``bench sync``.

- ``fresh_pull_notes_s``: a teammate has written ``notes`` notes on ONE request; a fresh phone of
  the team enrolls and pulls everything (the request record grows note by note on the phone).
- ``fresh_pull_ops_per_s``: the team's scope holds ``ops`` more ops (notes spread over the team's
  requests); a fresh phone enrolls and pulls them all.
- ``fresh_pull_*_round_trips``: the exchanges each pull took (a first pull asks for pages of
  ``MAX_PULL_LIMIT`` ops; the server may end a page earlier at ``MAX_PULL_BYTES``).

The fresh phone's store (and its PIN derivation) is made before the clock starts; the timed part
is enrollment plus the engine's sync until nothing is left. The teammate's ops reach the server
as plain protocol requests (codec only), so setting up costs no phone-side merging.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.harness import LiveServer, enroll
from bench.phones import Phone, local_store
from sync import protocol
from sync.client import HttpTransport
from sync.domain.changes import add_note
from sync.ops import Op

TARGETS = {"fresh_pull_notes_s": 3.0, "fresh_pull_ops_per_s": 5000}
NOTE = "已电话联系，明早复查"


def _chunks(ops: Sequence[Op], size: int) -> Iterator[Sequence[Op]]:
    for start in range(0, len(ops), size):
        yield ops[start : start + size]


def push_direct(server: LiveServer, mate: Phone, ops: Sequence[Op]) -> int:
    """Send ``ops`` as ``mate``'s requests of at most ``MAX_OPS_PER_REQUEST``; acks counted."""
    ident = mate.identity
    transport = HttpTransport(server.url)
    acked = 0
    try:
        counter = int(time.time() * 1000) + 10**6
        for i, part in enumerate(_chunks(ops, protocol.MAX_OPS_PER_REQUEST)):
            req = protocol.SyncRequest(
                ident.device_id, f"b-fresh-{counter}-{i}", counter + i, list(part), None, 0
            )
            body = protocol.seal_request(
                req, ident.keys, ident.server_signing_public, ident.server_sealing_public
            )
            answer = transport.post(protocol.SYNC_PATH, body, protocol.SYNC_CONTENT_TYPE)
            resp = protocol.open_response(
                answer.body, ident.keys, ident.server_signing_public, req.batch_id
            )
            acked += len(resp.acks)
    finally:
        transport.close()
    return acked


def notes_on(mate: Phone, requests: Sequence[dict[str, Any]], count: int) -> list[Op]:
    """``count`` note ops by ``mate``, spread round-robin over ``requests``."""
    author = mate.author()
    return [add_note(requests[i % len(requests)], NOTE, **author) for i in range(count)]


def timed_fresh_phone(
    server: LiveServer, member_id: str, directory: Path
) -> tuple[float, int, int]:
    """Seconds for a fresh phone of ``member_id`` to enroll and pull everything; ops received;
    round trips."""
    store = local_store(directory)  # PIN derivation: before the clock starts
    code = server.issue_code(member_id)
    started = time.perf_counter()
    identity = enroll(server.url, code)
    phone = Phone(identity, store, HttpTransport(server.url))
    try:
        summary = phone.sync_until_quiet()
        elapsed = time.perf_counter() - started
    finally:
        phone.close()
    return elapsed, summary.received, summary.round_trips


def fresh_pulls(
    server: LiveServer, mate: Phone, member_id: str, root: Path, notes: int, ops: int
) -> dict[str, Any]:
    """Both measurements on ``server`` (the second scope includes the first one's notes)."""
    requests = sorted(mate.store.all("request"), key=lambda r: str(r["id"]))
    if not requests:
        raise RuntimeError("the teammate's scope holds no request")
    out: dict[str, Any] = {}
    pushed = push_direct(server, mate, notes_on(mate, requests[:1], notes))
    seconds, received, trips = timed_fresh_phone(server, member_id, root / "fresh-notes")
    out.update(
        fresh_pull_notes=pushed,
        fresh_pull_notes_s=round(seconds, 3),
        fresh_pull_notes_received=received,
        fresh_pull_notes_round_trips=trips,
    )
    push_direct(server, mate, notes_on(mate, requests, ops))
    seconds, received, trips = timed_fresh_phone(server, member_id, root / "fresh-ops")
    out.update(
        fresh_pull_ops=received,
        fresh_pull_ops_s=round(seconds, 3),
        fresh_pull_ops_per_s=round(received / seconds) if seconds else None,
        fresh_pull_ops_round_trips=trips,
    )
    return out
