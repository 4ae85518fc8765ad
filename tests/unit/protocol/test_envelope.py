"""The sealed + signed sync envelope: round trips and refusal of tampered, replayed or hostile
bodies, each with its specific SyncError code."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import protocol
from sync.crypto import sealing
from sync.errors import SyncError
from sync.protocol import DeviceKeys, ServerKeys, SyncRequest, SyncResponse

from .frames import REQUEST, RESPONSE, build, forged_request, request_header, split
from .sample_ops import shift_ops

SERVER = ServerKeys.generate()
DEVICE = DeviceKeys.generate()
OTHER = DeviceKeys.generate()
SRV_SIGN = SERVER.signing.public_bytes()
SRV_SEAL = SERVER.sealing.public_bytes()
DEV_SIGN = DEVICE.signing.public_bytes()


def sealed_request(ops_n: int = 5, **kw: object) -> tuple[SyncRequest, bytes]:
    req = SyncRequest(
        device_id="dev-1",
        batch_id="b-1",
        counter=7,
        ops=shift_ops(ops_n),
        cursor="41",
        pull_limit=300,
        priority=True,
        **kw,  # type: ignore[arg-type]
    )
    return req, protocol.seal_request(req, DEVICE, SRV_SIGN, SRV_SEAL)


def code_of(exc: pytest.ExceptionInfo[SyncError]) -> str:
    return exc.value.code


def test_request_round_trip_keeps_every_field() -> None:
    req, body = sealed_request(20, sent_at=1_700_000_000_000)
    header = protocol.peek_header(body)
    assert (header.device, header.batch, header.counter) == ("dev-1", "b-1", 7)
    got = protocol.open_request(body, SERVER, DEV_SIGN)
    assert got == req


def test_response_round_trip_with_receipt_and_rejections() -> None:
    ops = shift_ops(30, device="dev-2")
    receipt = protocol.make_receipt("b-1", "dev-1", ["o1", "o2"], 1_700_000_000_000, SERVER)
    resp = SyncResponse(
        batch_id="b-1",
        acks=["o1", "o2"],
        rejected=[protocol.Rejection("o3", "op.out_of_scope", {"household": "h9"})],
        changes=ops,
        cursor="77",
        more=True,
        receipt=receipt,
        server_time=1_700_000_000_000,
    )
    body = protocol.seal_response(resp, SERVER, DEVICE.sealing.public_bytes())
    assert protocol.open_response(body, DEVICE, SRV_SIGN, "b-1") == resp


def test_no_plaintext_resident_data_in_the_body() -> None:
    req, body = sealed_request(50)
    for op in req.ops:
        for value in op.set.values():
            if isinstance(value, str) and len(value) >= 3:
                assert value.encode() not in body


def test_flipped_ciphertext_byte_is_refused_by_the_signature() -> None:
    _, body = sealed_request()
    bad = bytearray(body)
    bad[-100] ^= 1
    with pytest.raises(SyncError) as err:
        protocol.open_request(bytes(bad), SERVER, DEV_SIGN)
    assert code_of(err) == "sync.bad_signature"


def test_flipped_ciphertext_byte_resigned_by_the_device_cannot_be_opened() -> None:
    _, body = sealed_request()
    parts = split(body)
    sealed = bytearray(parts.sealed)
    sealed[len(sealed) // 2] ^= 1
    forged = build(REQUEST, parts.header, bytes(sealed), DEVICE.signing)
    with pytest.raises(SyncError) as err:
        protocol.open_request(forged, SERVER, DEV_SIGN)
    assert code_of(err) == "sync.cannot_open"


def test_signature_by_another_key_is_refused() -> None:
    _, body = sealed_request()
    parts = split(body)
    forged = build(REQUEST, parts.header, parts.sealed, OTHER.signing)
    with pytest.raises(SyncError) as err:
        protocol.open_request(forged, SERVER, DEV_SIGN)
    assert code_of(err) == "sync.bad_signature"


def test_swapped_header_is_refused_even_when_resigned() -> None:
    _, body = sealed_request()
    parts = split(body)
    swapped = request_header("dev-1", "b-1", counter=8)
    forged = build(REQUEST, swapped, parts.sealed, DEVICE.signing)
    assert protocol.peek_header(forged).counter == 8
    with pytest.raises(SyncError) as err:
        protocol.open_request(forged, SERVER, DEV_SIGN)
    assert code_of(err) == "sync.cannot_open"


def test_batch_replayed_under_another_device_key_cannot_be_opened() -> None:
    _, body = sealed_request()
    parts = split(body)
    header = request_header("dev-evil", "b-1", counter=99)
    forged = build(REQUEST, header, parts.sealed, OTHER.signing)
    assert protocol.peek_header(forged).device == "dev-evil"
    with pytest.raises(SyncError) as err:
        protocol.open_request(forged, SERVER, OTHER.signing.public_bytes())
    assert code_of(err) == "sync.cannot_open"


def test_wrong_version_is_reported_by_peek_and_open() -> None:
    header = request_header("dev-1", "b-1", v=2)
    body = forged_request(DEVICE.signing, SRV_SEAL, b"{}", header=header)
    with pytest.raises(SyncError) as err:
        protocol.peek_header(body)
    assert code_of(err) == "sync.bad_version"
    with pytest.raises(SyncError) as err:
        protocol.open_request(body, SERVER, DEV_SIGN)
    assert code_of(err) == "sync.bad_version"


def test_oversized_body_is_refused_before_any_work() -> None:
    _, body = sealed_request()
    huge = body + b"\x00" * (protocol.MAX_BODY_BYTES - len(body) + 1)
    with pytest.raises(SyncError) as err:
        protocol.open_request(huge, SERVER, DEV_SIGN)
    assert code_of(err) == "sync.too_large"


def test_decompression_bomb_is_refused() -> None:
    payload = b'{"ops":[],"pad":"' + b"0" * (protocol.MAX_PAYLOAD_BYTES + 10) + b'"}'
    body = forged_request(DEVICE.signing, SRV_SEAL, payload)
    assert len(body) < 100_000
    with pytest.raises(SyncError) as err:
        protocol.open_request(body, SERVER, DEV_SIGN)
    assert code_of(err) == "sync.too_large"


@pytest.mark.parametrize(
    ("payload", "compress"),
    [
        (b"not zlib at all", False),
        (b"[1, 2]", True),
        (b'{"ops": "nope"}', True),
        (b'{"ops": [{"i": "o1"}]}', True),
        (b'{"ops": [], "pull_limit": "ten"}', True),
        (b'{"ops": [], "cursor": 5}', True),
        (b"\xff\xfe", True),
    ],
)
def test_malformed_payloads_are_refused(payload: bytes, compress: bool) -> None:
    body = forged_request(DEVICE.signing, SRV_SEAL, payload, compress=compress)
    with pytest.raises(SyncError) as err:
        protocol.open_request(body, SERVER, DEV_SIGN)
    assert code_of(err) == "sync.malformed"


def test_trailing_data_after_the_zlib_stream_is_refused() -> None:
    header = request_header("dev-1", "b-1")
    inner = zlib.compress(b'{"ops": []}') + b"extra"
    sealed = sealing.seal(SRV_SEAL, inner, protocol.REQUEST_INFO, header)
    body = build(REQUEST, header, sealed, DEVICE.signing)
    with pytest.raises(SyncError) as err:
        protocol.open_request(body, SERVER, DEV_SIGN)
    assert code_of(err) == "sync.malformed"


def test_too_many_ops_is_refused() -> None:
    ops = [op.to_dict() for op in shift_ops(protocol.MAX_OPS_PER_REQUEST + 1)]
    payload = protocol.canonical_json({"ops": ops, "cursor": None})
    body = forged_request(DEVICE.signing, SRV_SEAL, payload)
    with pytest.raises(SyncError) as err:
        protocol.open_request(body, SERVER, DEV_SIGN)
    assert code_of(err) == "sync.too_large"


def test_pull_limit_is_clamped() -> None:
    payload = protocol.canonical_json({"ops": [], "cursor": None, "pull_limit": 10**9})
    body = forged_request(DEVICE.signing, SRV_SEAL, payload)
    assert protocol.open_request(body, SERVER, DEV_SIGN).pull_limit == protocol.MAX_PULL_LIMIT


def test_a_response_frame_is_not_accepted_as_a_request() -> None:
    _, body = sealed_request()
    parts = split(body)
    as_response = build(RESPONSE, parts.header, parts.sealed, DEVICE.signing)
    with pytest.raises(SyncError) as err:
        protocol.open_request(as_response, SERVER, DEV_SIGN)
    assert code_of(err) == "sync.malformed"


def make_response(batch: str = "b-1", **kw: object) -> bytes:
    fields: dict[str, object] = {
        "batch_id": batch,
        "acks": ["o1"],
        "rejected": [],
        "changes": [],
        "cursor": "9",
        "more": False,
        "receipt": protocol.make_receipt(batch, "dev-1", ["o1"], 5, SERVER),
        "server_time": 5,
    }
    fields.update(kw)
    resp = SyncResponse(**fields)  # type: ignore[arg-type]
    return protocol.seal_response(resp, SERVER, DEVICE.sealing.public_bytes())


def sealed_payload(payload: dict[str, object]) -> bytes:
    """A response body whose sealed payload is exactly ``payload`` (signed by the server)."""
    header = protocol.ResponseHeader("b-1", 5).to_bytes()
    sealed = sealing.seal(
        DEVICE.sealing.public_bytes(),
        zlib.compress(protocol.canonical_json(payload)),
        protocol.RESPONSE_INFO,
        header,
    )
    return build(RESPONSE, header, sealed, SERVER.signing)


def test_the_wipe_flag_round_trips_and_older_answers_mean_no_wipe() -> None:
    for reason in protocol.WIPE_REASONS:
        body = make_response(wipe=reason)
        assert protocol.open_response(body, DEVICE, SRV_SIGN, "b-1").wipe == reason
    older = {"batch": "b-1", "acks": [], "rejected": [], "changes": [], "cursor": "9"}
    older |= {"more": False, "receipt": None, "server_time": 5}  # no "wipe" key at all
    assert protocol.open_response(sealed_payload(older), DEVICE, SRV_SIGN, "b-1").wipe is None
    for bad in (True, 1, "", ["retired"]):
        with pytest.raises(SyncError) as err:
            protocol.open_response(sealed_payload({**older, "wipe": bad}), DEVICE, SRV_SIGN, "b-1")
        assert code_of(err) == "sync.malformed"


def test_the_practice_flag_round_trips_and_older_answers_mean_live() -> None:
    older = {"batch": "b-1", "acks": [], "rejected": [], "changes": [], "cursor": "9"}
    older |= {"more": False, "receipt": None, "server_time": 5}  # no "practice" key at all
    assert protocol.open_response(sealed_payload(older), DEVICE, SRV_SIGN, "b-1").practice is False
    practice = {**older, "practice": True}
    assert protocol.open_response(sealed_payload(practice), DEVICE, SRV_SIGN, "b-1").practice
    resp = SyncResponse("b-1", [], [], [], None, False, None, 5, practice=True)
    body = protocol.seal_response(resp, SERVER, DEVICE.sealing.public_bytes())
    assert protocol.open_response(body, DEVICE, SRV_SIGN, "b-1").practice is True
    for bad in (1, "yes", None):
        with pytest.raises(SyncError) as err:
            protocol.open_response(
                sealed_payload({**older, "practice": bad}), DEVICE, SRV_SIGN, "b-1"
            )
        assert code_of(err) == "sync.malformed"


def test_response_for_another_batch_is_stale() -> None:
    with pytest.raises(SyncError) as err:
        protocol.open_response(make_response("b-old"), DEVICE, SRV_SIGN, "b-1")
    assert code_of(err) == "sync.stale_response"


def test_response_signed_by_an_impostor_is_refused() -> None:
    impostor = ServerKeys.generate()
    resp = SyncResponse("b-1", [], [], [], None, False, None, 5)
    body = protocol.seal_response(resp, impostor, DEVICE.sealing.public_bytes())
    with pytest.raises(SyncError) as err:
        protocol.open_response(body, DEVICE, SRV_SIGN, "b-1")
    assert code_of(err) == "sync.bad_signature"


def test_response_with_a_forged_receipt_is_refused() -> None:
    forged = protocol.Receipt("b-1", "dev-1", ["o1", "o2"], 5, protocol.b64e(b"\x00" * 64))
    with pytest.raises(SyncError) as err:
        protocol.open_response(make_response(receipt=forged), DEVICE, SRV_SIGN, "b-1")
    assert code_of(err) == "sync.bad_signature"


def test_response_sealed_to_another_device_cannot_be_opened() -> None:
    resp = SyncResponse("b-1", [], [], [], None, False, None, 5)
    body = protocol.seal_response(resp, SERVER, OTHER.sealing.public_bytes())
    with pytest.raises(SyncError) as err:
        protocol.open_response(body, DEVICE, SRV_SIGN, "b-1")
    assert code_of(err) == "sync.cannot_open"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600), st.integers(min_value=0, max_value=1500))
def test_any_corruption_raises_only_coded_sync_errors(junk: bytes, cut: int) -> None:
    _, body = sealed_request(2)
    for candidate in (junk, body[:cut] + junk, junk + body[cut:]):
        for read in (
            protocol.peek_header,
            lambda b: protocol.open_request(b, SERVER, DEV_SIGN),
            lambda b: protocol.open_response(b, DEVICE, SRV_SIGN, "b-1"),
        ):
            try:
                read(candidate)
            except SyncError as exc:
                assert exc.code.startswith("sync.")


def test_overhead_is_exactly_the_documented_framing() -> None:
    req, body = sealed_request(500)
    payload = protocol.canonical_json(
        {
            "ops": [op.to_dict() for op in req.ops],
            "cursor": req.cursor,
            "pull_limit": req.pull_limit,
            "priority": req.priority,
        }
    )
    compressed = zlib.compress(payload, 6)
    header = split(body).header
    assert len(body) - len(compressed) == 4 + 1 + 2 + len(header) + 4 + sealing.OVERHEAD + 64
    assert sealing.OVERHEAD == 1136
    assert len(compressed) < len(payload) / 2


@pytest.mark.parametrize(
    "payload",
    [b"[" * 200_000, b'{"v": true}', b'{"ops": [], "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"],
    ids=["deep", "bool-as-int", "deep-inside"],
)
def test_deeply_nested_or_odd_json_is_malformed_not_a_crash(payload: bytes) -> None:
    body = forged_request(DEVICE.signing, SRV_SEAL, payload)
    with pytest.raises(SyncError) as err:
        protocol.open_request(body, SERVER, DEV_SIGN)
    assert err.value.code == "sync.malformed"


def test_boolean_version_is_a_bad_version() -> None:
    header = protocol.canonical_json(
        {"v": True, "device": "dev-1", "batch": "b", "counter": 1, "sent_at": 1}
    )
    body = forged_request(DEVICE.signing, SRV_SEAL, b"{}", header=header)
    with pytest.raises(SyncError) as err:
        protocol.peek_header(body)
    assert err.value.code == "sync.bad_version"
