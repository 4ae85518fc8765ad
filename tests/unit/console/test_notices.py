"""The 通知 Notices page in process: publish to a community or some buildings, the WeChat text,
edit, withdraw (with its confirmation), refusals (CSRF, scope), audit entries and errors shown
in the form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from sync.server import admin, audit, notices
from sync.server.accounts import users
from sync.server.names import Directory
from sync.server.runtime import Runtime
from tests.unit.console.test_console import PASSWORD, client, csrf_of, login, world

__all__ = ["world"]


def _buildings(rt: Runtime, community: str) -> list[str]:
    places = Directory(rt).records("place")
    return sorted(
        pid
        for pid, p in places.items()
        if p.get("level") == "building" and p.get("parent_id") == community
    )


def _actions(rt: Runtime) -> list[tuple[str, str, str]]:
    with rt.db.read() as conn:
        return [(e.who, e.action, e.target) for e in audit.listing(conn)]


def _publish(c: TestClient, **fields: object) -> str:
    token = csrf_of(c.get("/console/notices/new").text)
    r = c.post("/console/notices", data={"csrf": token, **fields}, follow_redirects=False)
    assert r.status_code == 303, r.text
    found = re.search(r"/console/notices/([^?]+)\?done=published", r.headers["location"])
    assert found, r.headers["location"]
    return found.group(1)


def test_publish_edit_withdraw_through_the_page(world) -> None:
    rt, summary = world
    c = client(rt)
    login(c, "coord")
    page = c.get("/console/notices")
    assert page.status_code == 200 and 'id="notices-table"' in page.text
    assert page.text.count('class="status-active"') == 3  # the demo's three notices
    b1 = _buildings(rt, summary.community_id)[0]
    nid = _publish(
        c,
        kind="policy",
        title="1栋今晚消杀",
        body="请关好门窗。\r\n谢谢配合。",
        community=summary.community_id,
        buildings=b1,
        expires="2099-05-01T18:00",
    )
    n = notices.get(rt, nid)
    assert n is not None and n.buildings == (b1,) and n.kind == "policy"
    assert n.body == "请关好门窗。\n谢谢配合。"
    assert n.expires_at == "2099-05-01T10:00:00Z"  # typed in Asia/Shanghai, stored UTC
    shown = c.get(f"/console/notices/{nid}")
    assert shown.status_code == 200 and 'id="wechat-text"' in shown.text
    text = re.search(r'id="wechat-text"[^>]*>([^<]*)</textarea>', shown.text)
    assert text and text.group(1).startswith("【政策通知】1栋今晚消杀\n")
    assert "有效期至 2099-05-01 18:00" in text.group(1)
    assert 'value="2099-05-01T18:00"' in shown.text  # the expiry shown back in local time
    assert 'data-copy="wechat-text"' in shown.text and "/static/copy.js" in shown.text
    token = csrf_of(shown.text)
    r = c.post(
        f"/console/notices/{nid}/edit",
        data={"csrf": token, "kind": "policy", "title": "1栋、2栋今晚消杀", "body": "改：两栋",
              "buildings": _buildings(rt, summary.community_id), "expires": ""},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].endswith("done=edited")
    n = notices.get(rt, nid)
    assert n is not None and n.title == "1栋、2栋今晚消杀" and n.expires_at is None
    assert len(n.buildings) == 2 and n.edited_at
    assert c.get(f"/console/notices/{nid}/withdraw").status_code == 200
    r = c.post(f"/console/notices/{nid}/withdraw", data={}, follow_redirects=False)
    assert r.status_code == 403 and "console.csrf" in r.text
    r = c.post(f"/console/notices/{nid}/withdraw", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    n = notices.get(rt, nid)
    assert n is not None and n.state() == notices.WITHDRAWN
    withdrawn = c.get("/console/notices?state=withdrawn").text
    assert f'id="notice-{nid}"' in withdrawn
    assert 'id="notice-form"' not in c.get(f"/console/notices/{nid}").text  # no more edits
    actions = [a for a in _actions(rt) if a[1].startswith("notice.")]
    assert actions[::-1] == [
        ("coord", "notice.publish", nid),
        ("coord", "notice.edit", nid),
        ("coord", "notice.withdraw", nid),
    ]


def test_errors_are_shown_in_the_form_and_nothing_is_sent(world) -> None:
    rt, summary = world
    c = client(rt, base_url="http://127.0.0.1:8700")
    login(c, "coord")
    before = len(notices.listing(rt))
    token = csrf_of(c.get("/console/notices/new").text)
    for fields, words in (
        ({"title": "", "body": "x"}, "需要标题和正文"),
        ({"title": "t", "body": "b", "expires": "2001-01-01T08:00"}, "有效期已经过了"),
        ({"title": "t", "body": "b", "expires": "明天"}, "cli.bad_time"),
    ):
        r = c.post(
            "/console/notices",
            data={"csrf": token, "kind": "daily", "community": summary.community_id, **fields},
        )
        assert r.status_code == 400 and 'id="notice-error"' in r.text
        assert words in r.text or "时间" in r.text, r.text[:2000]
    assert len(notices.listing(rt)) == before


def test_another_communitys_notice_is_refused_and_audited(world) -> None:
    rt, _summary = world

    def build(a: admin.Author) -> str:
        return a.op("place", set={"name": "别的社区", "level": "community"}).entity_id

    other, _ = admin.write(rt, build)
    theirs = notices.publish(rt, kind="daily", title="别处", body="b", community_id=other)
    c = client(rt)
    login(c, "coord")
    assert f"notice-{theirs}" not in c.get("/console/notices?state=all").text
    r = c.get(f"/console/notices/{theirs}")
    assert r.status_code == 403 and 'id="error-code">console.forbidden<' in r.text
    token = csrf_of(c.get("/console/notices").text)
    r = c.post(
        "/console/notices",
        data={"csrf": token, "kind": "daily", "title": "t", "body": "b", "community": other},
    )
    assert r.status_code == 403
    r = c.post(f"/console/notices/{theirs}/withdraw", data={"csrf": token})
    assert r.status_code == 403
    n = notices.get(rt, theirs)
    assert n is not None and n.state() == notices.ACTIVE
    denied = [a for a in _actions(rt) if a[1] == audit.ACCESS_DENIED]
    assert ("coord", audit.ACCESS_DENIED, theirs) in denied
    assert ("coord", audit.ACCESS_DENIED, other) in denied
    # an admin of the whole operation sees both communities' notices
    users.add(rt, "boss", "admin", [], password=PASSWORD, by="cli", now=1)
    admin_client = client(rt)
    login(admin_client, "boss")
    assert f"notice-{theirs}" in admin_client.get("/console/notices").text


def test_the_page_is_in_english_too(world) -> None:
    rt, _ = world
    c = client(rt)
    login(c, "coord")
    c.cookies.set("linli_console_lang", "en", path="/console")
    page = c.get("/console/notices/new").text
    assert "Publish a notice" in page and "Rumour rebuttal" in page and "Buildings" in page
