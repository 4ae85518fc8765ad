"""Enrollment: the code never travels, the proof binds the device keys, the MAC binds the
server keys, so a man in the middle can neither enroll itself nor swap the server's keys; the label
and the member details are sealed under the code, so a listener learns neither."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from sync import protocol
from sync.errors import SyncError, ValidationError
from sync.protocol import DeviceKeys, ServerKeys
from tests.unit.protocol.leaks import encoded_forms

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
    assert protocol.open_enroll_label(SECRET, body) == "张秀英的手机"
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
        ({"v": 1}, "sync.bad_version"),
        ({"v": 3}, "sync.bad_version"),
        ({"sealed": None}, "sync.malformed"),
        ({"code_id": ""}, "sync.malformed"),
        ({"signing_public": "@@"}, "sync.malformed"),
        ({"signing_public": protocol.b64e(b"\x01" * 5)}, "sync.bad_key"),
        ({"sealing_public": protocol.b64e(b"\xff" * 1216)}, "sync.bad_key"),
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


def test_request_and_answer_show_no_label_name_role_or_team() -> None:
    request = protocol.canonical_json(protocol.enroll_request(CODE, DEVICE, "张秀英的手机"))
    reply = protocol.canonical_json(answer())
    for secret in ("张秀英的手机", "李建国", "volunteer", "team-1", "mem-1", "dev-1"):
        for form in encoded_forms(secret):
            assert form not in request and form not in reply, secret


def test_sealed_lengths_do_not_depend_on_role_name_or_label() -> None:
    def reply(name: str, role: str) -> int:
        body = protocol.enroll_response(
            CODE,
            device_id="dv-1",
            member_id="m-1",
            name=name,
            role=role,
            team_id=None if role == "coordinator" else "team-1",
            server=SERVER,
            server_time=1_700_000_000_000,
        )
        return len(protocol.canonical_json(body))

    assert len({reply("王芳", "volunteer"), reply("欧阳建国", "coordinator")}) == 1
    assert len({reply("王芳", "lead"), reply("李", "volunteer")}) == 1
    sizes = {
        len(protocol.canonical_json(protocol.enroll_request(CODE, DEVICE, label)))
        for label in ("", "x", "张秀英的手机", "孙丽娟的备用手机（旧）")
    }
    assert len(sizes) == 1


def test_sealed_label_is_bound_to_the_code_and_the_device_keys() -> None:
    body = protocol.enroll_request(CODE, DEVICE, "张秀英的手机")
    with pytest.raises(SyncError) as err:
        protocol.open_enroll_label("K7QD-9XPM-2FHB", body)
    assert err.value.code == "sync.cannot_open"
    moved = {**body, "sealing_public": DeviceKeys.generate().public_bundle()["sealing_public"]}
    with pytest.raises(SyncError) as err:
        protocol.open_enroll_label(CODE, moved)
    assert err.value.code == "sync.cannot_open"


def test_clear_version_1_request_is_refused_by_version() -> None:
    """A phone built before version 2 sends its label in clear; the server names the version."""
    v1: dict[str, object] = {
        "v": 1,
        "code_id": SECRET.code_id,
        **DEVICE.public_bundle(),
        "label": "张秀英的手机",
    }
    v1["proof"] = protocol.b64e(
        hmac.new(SECRET.request_key, protocol.canonical_json(v1), hashlib.sha256).digest()
    )
    assert protocol.verify_enroll_request(CODE, v1)  # a genuine old-phone body...
    with pytest.raises(SyncError) as err:
        protocol.parse_enroll_request(v1)  # ...refused before any code is looked up
    assert (err.value.code, err.value.params["want"]) == ("sync.bad_version", 2)


def test_answer_whose_sealed_part_was_altered_or_cleared_is_refused() -> None:
    body = answer()
    sealed = bytearray(protocol.b64d(body["sealed"]))
    sealed[-1] ^= 1
    for changed in ({**body, "sealed": protocol.b64e(bytes(sealed))}, {**body, "name": "李建国"}):
        with pytest.raises(SyncError) as err:
            protocol.parse_enroll_response(CODE, changed)
        assert err.value.code == "enroll.bad_mac"
