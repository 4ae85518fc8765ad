"""Notices and the contact directory end to end: a real ``serve`` process on SQLite and
PostgreSQL, the ``notice`` and ``contact`` commands in their own processes, enrolled phones
pulling over HTTP. A notice for building 1 never reaches building 2's team; an edit, a move to
the other building and a withdrawal reach the phones that had it; the directory reaches every
phone of the community."""

from __future__ import annotations

import re

from tests.integration.server.conftest import Backend, ServerProcess, enrolled, phone_record


def _id(pattern: str, out: str) -> str:
    found = re.search(pattern, out)
    assert found, out
    return found.group(1)


def test_a_building_notice_its_edit_move_and_withdrawal_reach_the_right_phones(
    backend: Backend, server: ServerProcess
) -> None:
    world, (a, b) = enrolled(backend, server.url, "volunteer_a", "volunteer_b")
    out = backend.cli(
        *("notice", "publish", "--kind", "policy", "--title", "1栋今晚消杀"),
        *("--body", "请关好门窗", "--community", "观海轩社区", "--building", "观海轩 1栋"),
        *("--expires", "2099-05-01 18:00"),
    ).stdout
    notice = _id(r"Notice published: (\S+)", out)
    a.pull_all()
    b.pull_all()
    got = phone_record(a, "notice", notice) or {}
    assert got.get("buildings") == [world.building_a]
    assert got.get("expires_at") == "2099-05-01T10:00:00Z"  # typed local, stored UTC
    assert phone_record(b, "notice", notice) is None  # another building's team: never
    backend.cli("notice", "edit", notice, "--body", "改为今晚九点")
    a.pull_all()
    assert (phone_record(a, "notice", notice) or {}).get("body") == "改为今晚九点"
    backend.cli("notice", "edit", notice, "--building", world.building_b)
    a.pull_all()
    b.pull_all()
    assert (phone_record(a, "notice", notice) or {}).get("buildings") == [world.building_b]
    moved = phone_record(b, "notice", notice) or {}
    assert moved.get("body") == "改为今晚九点" and moved.get("title") == "1栋今晚消杀"
    backend.cli("notice", "withdraw", notice)
    b.pull_all()
    assert (phone_record(b, "notice", notice) or {}).get("withdrawn_at")
    refused = backend.cli("notice", "edit", notice, "--title", "x", check=False)
    assert refused.returncode == 2 and "has been withdrawn" in refused.stderr
    listed = backend.cli("notice", "list").stdout
    assert notice in listed and "withdrawn" in listed
    wechat = backend.cli("--lang", "zh-CN", "notice", "show", notice).stdout
    assert wechat.startswith("【政策通知】1栋今晚消杀\n观海轩社区 观海轩 2栋 · ")


def test_the_directory_reaches_every_phone_of_the_community(
    backend: Backend, server: ServerProcess
) -> None:
    _world, (a, b) = enrolled(backend, server.url, "volunteer_a", "volunteer_b")
    out = backend.cli(
        *("contact", "add", "--community", "观海轩社区", "--kind", "duty_doctor"),
        *("--label", "社区健康服务中心", "--name", "林医生", "--phone", "+86 138-0000-3333"),
    ).stdout
    doctor = _id(r"Directory entry added: (\S+)", out)
    hotline = _id(
        r"Directory entry added: (\S+)",
        backend.cli(
            *("contact", "add", "--community", "观海轩社区", "--kind", "hotline"),
            *("--label", "急救", "--phone", "120"),
        ).stdout,
    )
    bad = backend.cli(
        *("contact", "add", "--community", "观海轩社区", "--label", "x", "--phone", "12"),
        check=False,
    )
    assert bad.returncode == 2 and "not a phone number" in bad.stderr
    for phone in (a, b):
        phone.pull_all()
        got = phone_record(phone, "contact", doctor) or {}
        assert (got.get("name"), got.get("phone"), got.get("kind")) == (
            "林医生",
            "13800003333",
            "duty_doctor",
        )
    backend.cli("contact", "remove", hotline)
    a.pull_all()
    assert (phone_record(a, "contact", hotline) or {}).get("removed_at")
    listed = backend.cli("contact", "list").stdout
    assert doctor in listed and hotline not in listed and "林医生" in listed
