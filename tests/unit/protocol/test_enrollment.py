"""Enrollment: the code never travels, the proof binds the device keys, the MAC binds the
server keys, so a man in the middle can neither enroll itself nor swap the server's keys."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from sync import protocol
from sync.errors import SyncError, ValidationError
from sync.protocol import DeviceKeys, ServerKeys

CODE = "K7QD-9XPM-2FHA"
SERVER = ServerKeys.generate()
DEVICE = DeviceKeys.generate()
SECRET = protocol.enroll_secret(CODE)


def answer(code: object = SECRET, server: ServerKeys = SERVER) -> dict[str, object]:
    return protocol.enroll_response(
        code,  # type: ignore[arg-type]
        device_id="dev-1",
        member_id="mem-1",
        name="李建国",
        role="volunteer",
        team_id="team-1",
        server=server,
        server_time=1_700_000_000_000,
    )


def test_code_normalisation_and_id() -> None:
    assert protocol.normalize_code(" k7qd 9xpm-2fha ") == "K7QD9XPM2FHA"
    assert protocol.enroll_code_id("k7qd9xpm2fha") == SECRET.code_id
    assert protocol.enroll_code_id("K7QD-9XPM-2FHB") != SECRET.code_id
    with pytest.raises(ValidationError):
        protocol.enroll_secret(" - ")


def test_code_derivations_are_the_one_block_hkdf_expand_codes_were_issued_with() -> None:
    """Codes issued before HKDF moved into ``sync.crypto`` keep their ids and keys."""
    prk = hashlib.scrypt(b"K7QD9XPM2FHA", salt=b"linli enroll v1", n=2**12, r=8, p=1, dklen=32)

    def one_block(info: bytes) -> bytes:
        return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()

    assert SECRET.code_id == protocol.wire.b64e(one_block(b"linli enroll id")[:16])
    assert SECRET.request_key == one_block(b"linli enroll request")
    assert SECRET.response_key == one_block(b"linli enroll response")


def test_request_carries_no_code_and_proves_it() -> None:
    body = protocol.enroll_request(CODE, DEVICE, "张秀英的手机")
    text = protocol.canonical_json(body).decode()
    assert "K7QD" not in text and "9XPM" not in text
    parsed = protocol.parse_enroll_request(body)
    assert parsed.code_id == SECRET.code_id
    assert parsed.signing_public == DEVICE.signing.public_bytes()
    assert parsed.sealing_public == DEVICE.sealing.public_bytes()
    assert parsed.label == "张秀英的手机"
    assert protocol.verify_enroll_request(SECRET, body)
    assert not protocol.verify_enroll_request("K7QD-9XPM-2FHB", body)


def test_request_with_swapped_device_keys_fails_the_proof() -> None:
    body = protocol.enroll_request(CODE, DEVICE, "phone")
    intruder = DeviceKeys.generate().public_bundle()
    for key in ("signing_public", "sealing_public"):
        assert not protocol.verify_enroll_request(CODE, {**body, key: intruder[key]})
    assert not protocol.verify_enroll_request(CODE, {**body, "proof": None})
    assert not protocol.verify_enroll_request(CODE, "junk")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"v": 2}, "sync.bad_version"),
        ({"code_id": ""}, "sync.malformed"),
        ({"signing_public": "@@"}, "sync.malformed"),
        ({"signing_public": protocol.b64e(b"\x01" * 5)}, "sync.bad_key"),
        ({"sealing_public": protocol.b64e(b"\xff" * 1216)}, "sync.bad_key"),
        ({"label": "x" * 101}, "sync.malformed"),
    ],
)
def test_malformed_enroll_requests(change: dict[str, object], code: str) -> None:
    body = {**protocol.enroll_request(CODE, DEVICE, "phone"), **change}
    with pytest.raises(SyncError) as err:
        protocol.parse_enroll_request(body)
    assert err.value.code == code


def test_answer_verifies_and_pins_the_server_keys() -> None:
    body = answer()
    assert protocol.verify_enroll_response(CODE, body)
    got = protocol.parse_enroll_response(CODE, body)
    assert got.server_signing_public == SERVER.signing.public_bytes()
    assert got.server_sealing_public == SERVER.sealing.public_bytes()
    assert (got.device_id, got.member_id, got.name, got.role, got.team_id) == (
        "dev-1",
        "mem-1",
        "李建国",
        "volunteer",
        "team-1",
    )


def test_answer_with_swapped_server_key_is_refused() -> None:
    body = answer()
    mitm = ServerKeys.generate().public_bundle()
    for key, field in (
        ("signing_public", "server_signing_public"),
        ("sealing_public", "server_sealing_public"),
    ):
        swapped = {**body, field: mitm[key]}
        assert not protocol.verify_enroll_response(CODE, swapped)
        with pytest.raises(SyncError) as err:
            protocol.parse_enroll_response(CODE, swapped)
        assert err.value.code == "enroll.bad_mac"


def test_answer_made_with_another_code_is_refused() -> None:
    with pytest.raises(SyncError) as err:
        protocol.parse_enroll_response(CODE, answer("K7QD-9XPM-2FHB"))
    assert err.value.code == "enroll.bad_mac"
    with pytest.raises(SyncError):
        protocol.parse_enroll_response(CODE, {"mac": 5})
