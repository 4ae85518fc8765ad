"""Signed receipts and signed problems: verify only untouched ones, never across purposes."""

from __future__ import annotations

from sync import protocol
from sync.protocol import ServerKeys

SERVER = ServerKeys.generate()
PUB = SERVER.signing.public_bytes()


def test_receipt_verifies_as_object_and_as_stored_dict() -> None:
    receipt = protocol.make_receipt("b-1", "dev-1", ["o1", "o2"], 1_700_000_000_123, SERVER)
    assert protocol.verify_receipt(receipt, PUB)
    stored = receipt.to_dict()
    assert protocol.verify_receipt(stored, PUB)
    assert protocol.Receipt.from_dict(stored) == receipt


def test_altered_receipts_do_not_verify() -> None:
    stored = protocol.make_receipt("b-1", "dev-1", ["o1", "o2"], 10, SERVER).to_dict()
    for key, value in (
        ("ops", ["o1", "o2", "o3"]),
        ("ops", ["o2", "o1"]),
        ("device", "dev-2"),
        ("batch", "b-2"),
        ("server_time", 11),
        ("sig", "AAAA"),
        ("sig", None),
    ):
        assert not protocol.verify_receipt({**stored, key: value}, PUB), key
    assert not protocol.verify_receipt(stored, ServerKeys.generate().signing.public_bytes())
    assert not protocol.verify_receipt({"batch": "b-1"}, PUB)


def test_problem_signature_covers_the_exact_body() -> None:
    body = protocol.problem_body("sync.revoked", {}, device="dev-1", batch="b-1")
    sig = protocol.sign_problem(body, SERVER)
    assert protocol.verify_problem(body, sig, PUB)
    problem = protocol.parse_problem(body)
    assert problem == protocol.Problem("sync.revoked", {}, "dev-1", "b-1")
    other = protocol.problem_body("sync.revoked", {}, device="dev-2", batch="b-1")
    assert not protocol.verify_problem(other, sig, PUB)
    assert not protocol.verify_problem(body, None, PUB)
    assert not protocol.verify_problem(body, "", PUB)
    assert not protocol.verify_problem(body, "!!not base64!!", PUB)
    assert not protocol.verify_problem(body, sig, ServerKeys.generate().signing.public_bytes())


def test_signatures_do_not_cross_purposes() -> None:
    receipt = protocol.make_receipt("b-1", "dev-1", ["o1"], 10, SERVER)
    body = protocol.canonical_json({k: v for k, v in receipt.to_dict().items() if k != "sig"})
    assert not protocol.verify_problem(body, receipt.sig, PUB)
    problem = protocol.problem_body("sync.server_busy")
    sig = protocol.sign_problem(problem, SERVER)
    as_receipt = protocol.Receipt("b-1", "dev-1", ["o1"], 10, sig)
    assert not protocol.verify_receipt(as_receipt, PUB)


def test_parse_problem_tolerates_junk() -> None:
    assert protocol.parse_problem(b"<html>502</html>") is None
    assert protocol.parse_problem(b'{"error": "x"}') is None
    assert protocol.parse_problem(b"[]") is None
    got = protocol.parse_problem(b'{"error": {"code": "sync.server_busy", "params": 3}}')
    assert got == protocol.Problem("sync.server_busy", {})
