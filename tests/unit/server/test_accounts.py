"""Accounts, sessions, throttling, TOTP and the audit chain (in-process, real SQLite)."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import update

from sync.errors import LinliError, ValidationError
from sync.server import audit, db, demo
from sync.server.accounts import Scope, sessions, users
from sync.server.runtime import Runtime
from tests.unit.server.conftest import make_runtime

PASSWORD = "correct horse battery"
ADDRESS = "192.0.2.7"


def test_passwords_are_argon2_hashes_that_only_the_password_opens() -> None:
    hashed = users.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert users.password_matches(hashed, PASSWORD)
    assert not users.password_matches(hashed, PASSWORD + "x")
    assert not users.password_matches(None, PASSWORD)  # unknown account
    assert not users.password_matches("not a hash", PASSWORD)


@pytest.mark.parametrize("bad", ["short", "aaaaaaaaaaaaaaaa", " spaced password ", "coordinator1"])
def test_weak_passwords_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError) as err:
        users.check_password("coordinator1", bad)
    assert err.value.code == "account.weak_password"


def test_add_list_disable_reset_and_each_is_audited(rt: Runtime) -> None:
    account, generated = users.add(rt, "admin1", "admin", [], password=None, by="cli", now=1000)
    assert generated and len(generated) >= users.MIN_PASSWORD and account.must_change
    with pytest.raises(ValidationError, match=r"account\.exists"):
        users.add(rt, "admin1", "admin", [], password=PASSWORD, by="cli", now=1001)
    with pytest.raises(ValidationError, match=r"account\.needs_scope"):
        users.add(rt, "coord", "coordinator", [], password=PASSWORD, by="cli", now=1001)
    with pytest.raises(ValidationError, match=r"admin\.not_found"):
        users.add(rt, "coord", "coordinator", ["nowhere"], password=PASSWORD, by="cli", now=1)
    opened = sessions.login(rt, "admin1", generated, address=ADDRESS, now=2000)
    users.set_disabled(rt, "admin1", True, by="cli", now=3000)
    with pytest.raises(LinliError, match=r"console\.session_expired"):
        sessions.resolve(rt, opened.cookie, 3001)
    with pytest.raises(LinliError, match=r"account\.bad_login"):
        sessions.login(rt, "admin1", generated, address=ADDRESS, now=3002)
    users.set_disabled(rt, "admin1", False, by="cli", now=3003)
    _, again = users.reset(rt, "admin1", password=PASSWORD, by="cli", now=4000)
    assert again is None
    assert sessions.login(rt, "admin1", PASSWORD, address=ADDRESS, now=4001).session.complete
    with rt.db.read() as conn:
        actions = [e.action for e in reversed(audit.listing(conn))]
        assert [a.name for a in users.listing(conn)] == ["admin1"]
    assert actions == [
        "account.add",
        "login.ok",
        "account.disable",
        "login.failed",
        "account.enable",
        "account.reset",
        "login.ok",
    ]


def test_sessions_expire_after_twelve_idle_hours_and_end_at_logout(rt: Runtime) -> None:
    users.add(rt, "admin1", "admin", [], password=PASSWORD, by="cli", now=0)
    opened = sessions.login(rt, "admin1", PASSWORD, address=ADDRESS, now=1000)
    assert sessions.resolve(rt, None, 1000) is None
    later = 1000 + sessions.IDLE_MS - 1
    assert sessions.resolve(rt, opened.cookie, later) is not None  # and this refreshes it
    assert sessions.resolve(rt, opened.cookie, later + sessions.IDLE_MS - 1) is not None
    with pytest.raises(LinliError, match=r"console\.session_expired"):
        sessions.resolve(rt, opened.cookie, later + 2 * sessions.IDLE_MS)
    second = sessions.login(rt, "admin1", PASSWORD, address=ADDRESS, now=5000)
    sessions.end(rt, second.session, 5001, address=ADDRESS)
    with pytest.raises(LinliError, match=r"console\.session_expired"):
        sessions.resolve(rt, second.cookie, 5002)


def test_a_cookie_from_another_server_is_refused(rt: Runtime, tmp_path) -> None:
    other = make_runtime(tmp_path / "other")
    try:
        users.add(other, "admin1", "admin", [], password=PASSWORD, by="cli", now=0)
        theirs = sessions.login(other, "admin1", PASSWORD, address=ADDRESS, now=1).cookie
    finally:
        other.close()
    users.add(rt, "admin1", "admin", [], password=PASSWORD, by="cli", now=0)
    with pytest.raises(LinliError, match=r"console\.session_foreign"):
        sessions.resolve(rt, theirs, 2)
    token = theirs.rpartition(".")[0]
    with pytest.raises(LinliError, match=r"console\.session_foreign"):
        sessions.resolve(rt, token + ".", 2)


def test_csrf_tokens_belong_to_their_session(rt: Runtime) -> None:
    users.add(rt, "admin1", "admin", [], password=PASSWORD, by="cli", now=0)
    a = sessions.login(rt, "admin1", PASSWORD, address=ADDRESS, now=1).session
    b = sessions.login(rt, "admin1", PASSWORD, address=ADDRESS, now=2).session
    assert sessions.csrf_ok(a, a.csrf)
    assert not sessions.csrf_ok(a, b.csrf)
    assert not sessions.csrf_ok(a, None) and not sessions.csrf_ok(a, "")


def test_throttling_per_account_then_per_address(rt: Runtime) -> None:
    users.add(rt, "admin1", "admin", [], password=PASSWORD, by="cli", now=0)
    now = 10_000
    for i in range(sessions.ACCOUNT_LIMIT):
        with pytest.raises(LinliError, match=r"account\.bad_login"):
            sessions.login(rt, "admin1", "wrong password!", address=ADDRESS, now=now + i)
    with pytest.raises(LinliError) as err:  # even the right password waits now
        sessions.login(rt, "admin1", PASSWORD, address=ADDRESS, now=now + 10)
    assert err.value.code == "account.throttled" and err.value.params["minutes"] == 15
    assert "15" in err.value.describe("en")
    after = now + sessions.WINDOW_MS + 10
    assert sessions.login(rt, "admin1", PASSWORD, address=ADDRESS, now=after).session.complete
    # one address trying many names is stopped too
    for i in range(sessions.ADDRESS_LIMIT):
        with pytest.raises(LinliError, match=r"account\.bad_login"):
            sessions.login(
                rt, f"guess{i}", "wrong password!", address="198.51.100.9", now=after + i
            )
    with pytest.raises(LinliError, match=r"account\.throttled"):
        sessions.login(rt, "admin1", PASSWORD, address="198.51.100.9", now=after + 100)
    assert sessions.login(rt, "admin1", PASSWORD, address=ADDRESS, now=after + 101)
    with rt.db.read() as conn:
        failed = audit.listing(conn, action="login.failed", limit=1000)
    assert {e.target for e in failed} == {"admin1", "?"}  # typed unknown names are never kept


def test_totp_second_factor_accepts_each_code_once(rt: Runtime) -> None:
    users.add(rt, "admin1", "admin", [], password=PASSWORD, by="cli", now=0)
    secret = users.set_totp(rt, "admin1", enable=True, by="cli", now=1)
    assert secret and users.totp_uri(secret, "admin1").startswith("otpauth://totp/")
    now = 1_700_000_000_000
    opened = sessions.login(rt, "admin1", PASSWORD, address=ADDRESS, now=now)
    assert opened.session.stage == sessions.TOTP and not opened.session.complete
    pending = sessions.resolve(rt, opened.cookie, now)
    assert pending is not None
    with pytest.raises(LinliError, match=r"account\.bad_code"):
        sessions.second_factor(rt, pending, "000000", address=ADDRESS, now=now)
    code = pyotp.TOTP(secret).at(now // 1000)
    done = sessions.second_factor(rt, pending, code, address=ADDRESS, now=now)
    assert done.complete
    resolved = sessions.resolve(rt, opened.cookie, now + 1)
    assert resolved is not None and resolved.complete
    again = sessions.login(rt, "admin1", PASSWORD, address=ADDRESS, now=now + 2)
    pending2 = sessions.resolve(rt, again.cookie, now + 2)
    assert pending2 is not None
    with pytest.raises(LinliError, match=r"account\.bad_code"):  # the same code, replayed
        sessions.second_factor(rt, pending2, code, address=ADDRESS, now=now + 3)


def test_audit_chain_verifies_and_names_the_first_tampered_entry(rt: Runtime) -> None:
    with rt.db.write() as conn:
        for i in range(5):
            audit.record(conn, "admin1", "export", f"round-{i}", {"rows": i}, now=1000 + i)
    with rt.db.read() as conn:
        assert audit.verify(conn).ok and audit.verify(conn).checked == 5
    with rt.db.write() as conn:
        conn.execute(
            update(db.audit_log).where(db.audit_log.c.id == 3).values(details='{"rows":999}')
        )
    with rt.db.read() as conn:
        verdict = audit.verify(conn)
    assert (verdict.broken, verdict.reason, verdict.checked) == (3, "hash", 2)
    with rt.db.write() as conn:
        conn.execute(db.audit_log.delete().where(db.audit_log.c.id == 2))
    with rt.db.read() as conn:
        assert audit.verify(conn).broken == 2


def test_audit_details_refuse_free_text(rt: Runtime) -> None:
    with rt.db.write() as conn, pytest.raises(ValidationError, match=r"audit\.bad_details"):
        audit.record(conn, "a", "export", "x", {"note": "张三 13800000000 " * 20}, now=1)
    with rt.db.write() as conn, pytest.raises(ValidationError, match=r"audit\.bad_details"):
        audit.record(conn, "a", "export", "x", {"nested": {"a": 1}}, now=1)


def test_scope_allows_a_community_and_what_lies_beneath(rt: Runtime) -> None:
    summary = demo.seed(rt)
    users.add(rt, "coord", "coordinator", [summary.community_id], password=PASSWORD, by="c", now=1)
    with rt.db.read() as conn:
        account = users.require(conn, "coord")
        scope = Scope.load(conn, account)
        whole = Scope.load(conn, users.Account("a", "admin", (), False, False, 0, 0))
    street = scope.parents[summary.community_id]
    buildings = [p for p, parent in scope.parents.items() if parent == summary.community_id]
    assert scope.allows_place(summary.community_id) and all(map(scope.allows_place, buildings))
    assert not scope.allows_place(street) and not scope.allows_place(None)
    assert all(scope.allows_team(t) for t in summary.teams.values())
    assert whole.whole and whole.allows_place(street)
    narrow = Scope(frozenset([buildings[0]]), scope.parents, scope.teams, scope.members)
    assert narrow.allows_place(buildings[0]) and not narrow.allows_place(buildings[1])
    assert not narrow.allows_place(summary.community_id)
