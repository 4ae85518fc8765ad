"""Resident data never reaches the server's disk or logs in plaintext."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from sync.server.runtime import Runtime
from sync.server.service import SyncService
from tests.integration.server.world import build_world
from tests.unit.server.inproc import LocalPhone

SECRETS = ("张秀英", "李建国", "13800000001", "观海轩 1栋 1单元 1201", "独居老人需要降压药")


def _disk(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.iterdir()) if p.is_file())


def test_names_phones_addresses_and_notes_are_encrypted_at_rest(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    world = build_world(rt)
    service = SyncService(rt)
    a = LocalPhone.enrolled(rt, service, world.volunteer_a)
    a.pull_all()
    with caplog.at_level(logging.INFO, logger="linli.server"):
        request = a.op(
            "request",
            None,
            set={
                "household_id": world.household_a,
                "category": "medicine",
                "urgency": "urgent",
                "created_at": "2022-04-01T08:00:00Z",
                "status": "new",
                "description": "独居老人需要降压药",
                "contact": "13800000001",
            },
        )
        assert a.sync([request]).acks == [request.op_id]
    disk = _disk(rt.settings.data_dir)
    assert len(disk) > 10_000
    for secret in SECRETS:
        assert secret.encode() not in disk, secret
        assert secret not in caplog.text, secret
    assert "sync" in caplog.text  # the events were logged, just without resident data
