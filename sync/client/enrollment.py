"""Enrollment: a new device makes its keys, spends a one-time code and pins the server's keys.

:func:`enroll` needs only a :class:`~sync.client.ports.Transport`: nothing local is read or
written, so the caller (the phone's :class:`~app.services.device.Device`, a benchmark, a test)
saves the returned :class:`~sync.client.Identity` where it keeps such things.
"""

from __future__ import annotations

import json

from sync import protocol
from sync.client.identity import Identity
from sync.client.ports import Transport
from sync.errors import SyncError


def enroll(transport: Transport, code: str, label: str, fingerprint: str | None = None) -> Identity:
    """Enroll this device with a one-time ``code``; returns the identity for the caller to save.

    The label travels sealed under a key derived from the code, and the member's details come
    back sealed the same way (enrollment version 2). The server's answer must carry a MAC made
    with the code (``enroll.bad_mac`` otherwise); its keys are pinned from then on. A server that
    still speaks version 1 refuses the request (``sync.bad_version``) and spends no code.
    ``server_url`` is left empty for the caller to fill in. ``fingerprint`` (from an enrollment
    link's ``fp``) must match the server keys in the answer, else ``enroll.wrong_server`` and
    nothing is kept. An empty ``label`` makes the server label the phone with the member's name.
    """
    from sync.client.engine import _unverified_problem

    keys = protocol.DeviceKeys.generate()
    secret = protocol.enroll_secret(code)
    body = protocol.canonical_json(protocol.enroll_request(secret, keys, label))
    answer = transport.post(protocol.ENROLL_PATH, body, protocol.JSON_CONTENT_TYPE)
    if answer.status != 200:
        raise _unverified_problem(answer)
    try:
        raw = json.loads(answer.body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SyncError("sync.malformed", reason="enroll answer") from exc
    resp = protocol.parse_enroll_response(secret, raw)
    protocol.check_fingerprint(resp, fingerprint)
    return Identity(
        device_id=resp.device_id,
        member_id=resp.member_id,
        name=resp.name,
        role=resp.role,
        team_id=resp.team_id,
        keys=keys,
        server_signing_public=resp.server_signing_public,
        server_sealing_public=resp.server_sealing_public,
        enrolled_at=resp.server_time,
    )
