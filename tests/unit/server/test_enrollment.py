"""One-time codes: format, QR content, expiry, single use, proof, idempotent retry."""

from __future__ import annotations

import pytest

from sync import protocol
from sync.errors import LinliError, ValidationError
from sync.protocol import DeviceKeys
from sync.server import devices, enrollment
from sync.server.runtime import Runtime
from tests.integration.server.world import build_world, expired_code


def test_codes_are_long_unambiguous_and_unique() -> None:
    codes = {enrollment.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        raw = protocol.normalize_code(code)
        assert len(raw) == enrollment.CODE_LENGTH
        assert not set(raw) & set("01OIL")
        assert code.count("-") == 2


def test_qr_content_round_trips() -> None:
    text = enrollment.qr_content("http://10.0.0.5:8700/linli", "ABCD-EFGH-JKMN")
    assert enrollment.parse_qr_content(text) == ("http://10.0.0.5:8700/linli", "ABCD-EFGH-JKMN")
    with pytest.raises(ValidationError):
        enrollment.parse_qr_content("https://example.invalid/?code=1")


@pytest.mark.parametrize(
    ("text", "seconds"), [("90m", 5400), ("24h", 86400), ("7d", 604800), ("30", 30)]
)
def test_durations(text: str, seconds: int) -> None:
    assert enrollment.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "-5m", "0", "soon"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValidationError):
        enrollment.parse_duration(text)


def _code_of(exc: pytest.ExceptionInfo[LinliError]) -> str:
    return exc.value.code


def test_enroll_checks_code_proof_expiry_and_single_use(rt: Runtime) -> None:
    world = build_world(rt)
    issued = enrollment.issue(rt, world.volunteer_a)
    first = DeviceKeys.generate()
    tampered = protocol.enroll_request(issued.code, first, "张秀英的手机")
    tampered["sealed"] = protocol.enroll_request(issued.code, first, "别人的手机")["sealed"]
    with pytest.raises(LinliError) as bad:
        enrollment.enroll(rt, tampered)
    assert _code_of(bad) == "enroll.bad_proof"
    sealed = enrollment.enroll(rt, protocol.enroll_request(issued.code, first, "张秀英的手机"))
    answer = protocol.parse_enroll_response(issued.code, sealed)
    assert (answer.member_id, answer.role, answer.team_id) == (
        world.volunteer_a,
        "volunteer",
        world.team_a,
    )
    assert answer.name == "王桂兰"
    with rt.db.read() as conn:
        assert [d["label"] for d in devices.listing(conn, rt.vault)] == ["张秀英的手机"]
    # a retry from the same keys (lost answer) gets the same device back
    again = enrollment.enroll(rt, protocol.enroll_request(issued.code, first, "张秀英的手机"))
    assert protocol.parse_enroll_response(issued.code, again).device_id == answer.device_id
    with pytest.raises(LinliError) as used:
        enrollment.enroll(rt, protocol.enroll_request(issued.code, DeviceKeys.generate(), "x"))
    assert _code_of(used) == "enroll.used"
    with pytest.raises(LinliError) as unknown:
        enrollment.enroll(rt, protocol.enroll_request("ZZZZ-ZZZZ-ZZZZ", first, "x"))
    assert _code_of(unknown) == "enroll.unknown_code"


def test_expired_codes_are_refused(rt: Runtime) -> None:
    world = build_world(rt)
    issued = expired_code(rt, world.volunteer_b)
    with pytest.raises(LinliError) as expired:
        enrollment.enroll(rt, protocol.enroll_request(issued.code, DeviceKeys.generate(), "x"))
    assert _code_of(expired) == "enroll.expired"


def test_codes_need_an_existing_member(rt: Runtime) -> None:
    with pytest.raises(ValidationError) as info:
        enrollment.issue(rt, "mb-nobody")
    assert info.value.code == "admin.not_found"


def test_the_code_is_not_stored(rt: Runtime) -> None:
    world = build_world(rt)
    issued = enrollment.issue(rt, world.coordinator)
    raw = (rt.settings.data_dir / "linli.db").read_bytes()
    for form in (issued.code, protocol.normalize_code(issued.code)):
        assert form.encode() not in raw
