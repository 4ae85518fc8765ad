"""The 通讯录 Contacts page in process: the directory by community, add (typed or from a team
member), edit, remove with its confirmation, audited views and changes, scope refusals."""

from __future__ import annotations

import re

from sync.server import admin, audit, contacts
from sync.server.runtime import Runtime
from tests.unit.console.test_console import client, csrf_of, login, world

__all__ = ["world"]


def _actions(rt: Runtime) -> list[tuple[str, str, str]]:
    with rt.db.read() as conn:
        return [(e.who, e.action, e.target) for e in audit.listing(conn)]


def test_add_edit_remove_and_every_view_is_audited(world) -> None:
    rt, summary = world
    c = client(rt)
    login(c, "coord")
    page = c.get("/console/contacts")
    assert page.status_code == 200 and f'id="contacts-{summary.community_id}"' in page.text
    assert "tel:120" in page.text and "值班医生" in page.text  # the demo's directory
    assert ("coord", audit.VIEW_PERSONAL, "contacts") in _actions(rt)
    token = csrf_of(page.text)
    r = c.post(
        "/console/contacts",
        data={"csrf": token, "community": summary.community_id, "kind": "office",
              "label": "物业服务中心", "name": "", "phone": "0755-2688 0000", "team_id": "",
              "note": "8:00-20:00"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    added = re.search(r"#contact-(\S+)$", r.headers["location"])
    assert added
    contact_id = added.group(1)
    found = contacts.get(rt, contact_id)
    assert found is not None and found.phone == "075526880000" and found.note == "8:00-20:00"
    # from a member: name, phone and team copied
    lead = next(m for m in summary.members if m[2] == "team_lead")
    r = c.post("/console/contacts", data={"csrf": token, "member": lead[0]}, follow_redirects=False)
    assert r.status_code == 303
    made = [x for x in contacts.listing(rt) if x.name == lead[1] and x.team_id == lead[3]]
    assert len(made) == 2 and {x.kind for x in made} == {"team_lead"}  # the demo's and this
    # edit, with an error first
    form = c.get(f"/console/contacts/{contact_id}")
    assert form.status_code == 200 and 'value="物业服务中心"' in form.text
    bad = c.post(
        f"/console/contacts/{contact_id}/edit",
        data={"csrf": token, "kind": "office", "label": "物业服务中心", "phone": "12"},
    )
    assert bad.status_code == 400 and 'id="contact-error"' in bad.text and "120" in bad.text
    r = c.post(
        f"/console/contacts/{contact_id}/edit",
        data={"csrf": token, "kind": "office", "label": "物业服务中心", "name": "孙经理",
              "phone": "0755-26880000", "team_id": "", "note": ""},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303 and "done=edited" in r.headers["location"]
    found = contacts.get(rt, contact_id)
    assert found is not None and found.name == "孙经理" and found.note == ""
    assert c.get(f"/console/contacts/{contact_id}/remove").status_code == 200
    r = c.post(
        f"/console/contacts/{contact_id}/remove", data={"csrf": token}, follow_redirects=False
    )
    assert r.status_code == 303
    assert contact_id not in c.get("/console/contacts").text
    assert c.get(f"/console/contacts/{contact_id}").status_code == 404
    mine = [a[1] for a in _actions(rt) if a[2] == contact_id]
    assert {"contact.add", "contact.edit", "contact.remove", audit.VIEW_PERSONAL} <= set(mine)


def test_another_communitys_entry_is_refused_and_audited(world) -> None:
    rt, _summary = world

    def build(a: admin.Author) -> str:
        return a.op("place", set={"name": "别的社区", "level": "community"}).entity_id

    other, _ = admin.write(rt, build)
    theirs = contacts.add(rt, community_id=other, kind="hotline", label="热线", phone="12345")
    c = client(rt)
    login(c, "coord")
    page = c.get("/console/contacts").text
    assert theirs not in page and "别的社区" not in page
    r = c.get(f"/console/contacts/{theirs}")
    assert r.status_code == 403 and "console.forbidden" in r.text
    token = csrf_of(page)
    for path, data in (
        (f"/console/contacts/{theirs}/remove", {}),
        (f"/console/contacts/{theirs}/edit", {"label": "x", "phone": "120", "kind": "other"}),
        ("/console/contacts", {"community": other, "label": "x", "phone": "120"}),
    ):
        r = c.post(path, data={"csrf": token, **data})
        assert r.status_code == 403, path
    found = contacts.get(rt, theirs)
    assert found is not None and found.removed_at is None and found.label == "热线"
    denied = {a[2] for a in _actions(rt) if a[1] == audit.ACCESS_DENIED}
    assert {theirs, other} <= denied
