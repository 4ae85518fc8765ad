"""Enrollment over HTTP against the real server process."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from sync import protocol
from sync.protocol import DeviceKeys
from tests.integration.server.conftest import Backend, Phone, ServerProcess
from tests.integration.server.world import build_world, code_for, expired_code


def test_health_and_openapi(server: ServerProcess) -> None:
    health = httpx.get(f"{server.url}/healthz", timeout=10).json()
    assert health["ok"] is True and health["protocol"] == protocol.PROTOCOL_VERSION
    paths = httpx.get(f"{server.url}/openapi.json", timeout=10).json()["paths"]
    assert {"/healthz", "/v1/enroll", "/v1/sync"} <= set(paths)


def test_cli_code_and_qr_enroll_a_phone_once(
    backend: Backend, server: ServerProcess, tmp_path: Path
) -> None:
    rt = backend.runtime()
    try:
        world = build_world(rt)
    finally:
        rt.close()
    qr = tmp_path / "code.png"
    out = backend.cli(
        "enroll",
        "--name",
        "孙丽娟",
        "--role",
        "volunteer",
        "--team",
        world.team_a,
        "--expires",
        "2h",
        "--qr",
        str(qr),
        "--url",
        server.url,
    ).stdout
    code = re.search(r"Enrollment code: (\S+)", out).group(1)  # type: ignore[union-attr]
    assert qr.read_bytes().startswith(b"\x89PNG")
    assert "█" in out or "▀" in out  # the terminal QR code
    phone = Phone(server.url)
    assert phone.enroll(code).status_code == 200
    assert (phone.role, phone.team_id) == ("volunteer", world.team_a)
    other = Phone(server.url)
    r = other.enroll(code)
    assert r.status_code == 409
    assert phone.problem(r).code == "enroll.used"


def test_unknown_expired_and_forged_enrollments(backend: Backend, server: ServerProcess) -> None:
    rt = backend.runtime()
    try:
        world = build_world(rt)
        expired = expired_code(rt, world.volunteer_b)
        good = code_for(rt, world.volunteer_a)
    finally:
        rt.close()
    signing = rt.keys.signing.public_bytes()
    phone = Phone(server.url, server_signing=signing)
    r = phone.enroll("AAAA-BBBB-CCCC")
    assert (r.status_code, phone.problem(r).code) == (404, "enroll.unknown_code")
    r = phone.enroll(expired.code)
    assert (r.status_code, phone.problem(r).code) == (410, "enroll.expired")
    forged = protocol.enroll_request(good, DeviceKeys.generate(), "冒充的手机")
    forged["signing_public"] = DeviceKeys.generate().public_bundle()["signing_public"]
    r = httpx.post(f"{server.url}/v1/enroll", json=forged, timeout=30)
    assert (r.status_code, phone.problem(r).code) == (401, "enroll.bad_proof")
    for junk in (b"{not json", b"[]", b'{"v": 2}'):
        r = httpx.post(f"{server.url}/v1/enroll", content=junk, timeout=30)
        assert r.status_code == 400 and phone.problem(r).code == "sync.malformed"
    assert phone.enroll(good).status_code == 200  # the forged attempt did not use up the code
