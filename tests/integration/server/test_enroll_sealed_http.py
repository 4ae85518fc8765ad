"""Enrollment on the wire, against the real server process: a listener on plain HTTP sees that an
enrollment happened and nothing about who enrolled (label, member, name, role, team)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

import httpx
import pytest

from sync import protocol
from sync.client import enroll
from sync.client.ports import TransportResponse
from sync.client.transport import HttpTransport
from sync.protocol import DeviceKeys
from sync.server import devices
from tests.integration.server.conftest import Backend, Phone, ServerProcess
from tests.integration.server.world import World, build_world, code_for
from tests.unit.protocol.leaks import encoded_forms


@dataclass
class Tap:
    """The real HTTP transport, with every byte that crosses it kept (a passive listener)."""

    inner: HttpTransport
    seen: list[bytes] = field(default_factory=list)

    def post(self, path: str, body: bytes, content_type: str) -> TransportResponse:
        answer = self.inner.post(path, body, content_type)
        head = "".join(f"{k}: {v}\n" for k, v in answer.headers.items()).encode()
        self.seen += [path.encode() + body, head + answer.body]
        return answer

    def get(self, path: str) -> TransportResponse:
        return self.inner.get(path)


def _codes(backend: Backend) -> tuple[World, dict[str, str]]:
    rt = backend.runtime()
    try:
        world = build_world(rt)
        members = {"王桂兰": world.volunteer_a, "刘志强": world.lead_a, "赵国华": world.coordinator}
        return world, {name: code_for(rt, member) for name, member in members.items()}
    finally:
        rt.close()


def test_a_listener_learns_nothing_but_that_an_enrollment_happened(
    backend: Backend, server: ServerProcess
) -> None:
    world, codes = _codes(backend)
    captured: dict[str, tuple[bytes, bytes]] = {}
    for name, code in codes.items():
        label = f"{name}的手机"
        with HttpTransport(server.url) as http:
            tap = Tap(http)
            identity = enroll(tap, code, label)
        request, answer = tap.seen
        captured[name] = (request, answer)
        secrets = [label, name, identity.member_id, identity.device_id, identity.role]
        if identity.team_id is not None:
            secrets.append(identity.team_id)
        for secret in secrets:
            for form in encoded_forms(secret):
                assert form not in request and form not in answer, (name, secret)
    # the enrollment itself worked: details, role and team arrived sealed and the label is stored
    rt = backend.runtime()
    try:
        with rt.db.read() as conn:
            listed = {d["member_id"]: d for d in devices.listing(conn, rt.vault)}
    finally:
        rt.close()
    assert listed[world.lead_a]["label"] == "刘志强的手机"
    assert (listed[world.lead_a]["role"], listed[world.lead_a]["team_id"]) == (
        "team_lead",
        world.team_a,
    )
    assert listed[world.coordinator]["team_id"] is None
    # every role and team (or none) gives the same request and answer sizes
    assert len({len(req) for req, _ in captured.values()}) == 1
    assert len({len(ans.split(b"\n")[-1]) for _, ans in captured.values()}) == 1
    # and the identity the phone keeps is right
    with HttpTransport(server.url) as http:
        rt = backend.runtime()
        try:
            code = code_for(rt, world.volunteer_b)
        finally:
            rt.close()
        identity = enroll(http, code, "陈玉梅的手机")
    assert (identity.name, identity.role, identity.team_id) == ("陈玉梅", "volunteer", world.team_b)


def _clear_v1_body(code: str, keys: DeviceKeys, label: str) -> dict[str, object]:
    """What a phone built before enrollment version 2 sends: the label in clear."""
    secret = protocol.enroll_secret(code)
    body: dict[str, object] = {"v": 1, "code_id": secret.code_id, **keys.public_bundle()}
    body["label"] = label
    mac = hmac.new(secret.request_key, protocol.canonical_json(body), hashlib.sha256).digest()
    body["proof"] = protocol.b64e(mac)
    return body


@pytest.mark.parametrize("version", [1, 3])
def test_other_versions_are_refused_by_version_and_spend_no_code(
    backend: Backend, server: ServerProcess, version: int
) -> None:
    _, codes = _codes(backend)
    code = codes["王桂兰"]
    phone = Phone(server.url)
    body = {**_clear_v1_body(code, phone.keys, "王桂兰的手机"), "v": version}
    r = httpx.post(f"{server.url}{protocol.ENROLL_PATH}", json=body, timeout=30)
    assert r.status_code == 400, r.text
    problem = protocol.parse_problem(r.content)
    assert problem is not None
    assert (problem.code, problem.params.get("want")) == ("sync.bad_version", 2)
    assert "王桂兰" not in r.text
    assert phone.enroll(code).status_code == 200  # after updating the app, the same code works
    assert phone.role == "volunteer"


def test_a_sealed_label_that_does_not_open_spends_no_code(
    backend: Backend, server: ServerProcess
) -> None:
    _, codes = _codes(backend)
    code = codes["王桂兰"]
    phone = Phone(server.url)
    body = protocol.enroll_request(code, phone.keys, "王桂兰的手机")
    other = protocol.enroll_request("AAAA-BBBB-CCCC", phone.keys, "王桂兰的手机")
    body["sealed"] = other["sealed"]  # sealed under another code: the proof no longer holds
    r = httpx.post(f"{server.url}{protocol.ENROLL_PATH}", json=body, timeout=30)
    problem = protocol.parse_problem(r.content)
    assert r.status_code == 401 and problem is not None and problem.code == "enroll.bad_proof"
    assert phone.enroll(code).status_code == 200
