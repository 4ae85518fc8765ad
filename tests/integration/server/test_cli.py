"""The coordinator's CLI against a real database, and what devices then pull over HTTP."""

from __future__ import annotations

import json
import re
from collections import Counter

from tests.integration.server.conftest import Backend, Phone, ServerProcess, enrolled, phone_record


def test_demo_then_enroll_a_member_and_pull(backend: Backend, server: ServerProcess) -> None:
    out = backend.cli("demo").stdout
    assert "household 120" in out
    volunteers = re.findall(r"(mb-\S+)\s+\S+\s+volunteer\s+(tm-\S+)", out)
    assert len(volunteers) == 9
    member, team = volunteers[0]
    enrolled = backend.cli("enroll", "--member", member, "--no-terminal-qr").stdout
    code = re.search(r"Enrollment code: (\S+)", enrolled).group(1)  # type: ignore[union-attr]
    phone = Phone(server.url)
    assert phone.enroll(code).status_code == 200
    assert phone.team_id == team
    phone.pull_all()
    kinds = {o.kind for o in phone.received.values()}
    assert {
        "place",
        "household",
        "resident",
        "team",
        "member",
        "assignment",
        "notice",
        "contact",
    } <= kinds
    households = {o.entity_id for o in phone.received.values() if o.kind == "household"}
    assert len(households) in (60, 120)  # one building, or the community-wide team
    assert backend.cli("demo", check=False).returncode == 2  # seeding twice is refused


def test_names_stand_for_ids_in_the_real_process(backend: Backend) -> None:
    backend.cli("demo")
    members = json.loads(backend.cli("members", "--json").stdout)
    counts = Counter(m["name"] for m in members)
    unique = next(m for m in members if counts[m["name"]] == 1 and m["role"] == "volunteer")
    out = backend.cli("enroll", "--member", unique["name"], "--no-terminal-qr").stdout
    assert f"Member: {unique['id']}" in out and "(Asia/Shanghai)" in out
    teams = json.loads(backend.cli("teams", "--json").stdout)
    out = backend.cli(
        "assign",
        *("--type", "welfare_check", "--target-kind", "place", "--target", "观海轩社区/2栋/3单元"),
        *("--team", teams[0]["name"], "--due", "2022-04-01 08:00"),
    ).stdout
    assert re.search(r"Assignment created: as-\S+", out)
    twice = [m["name"] for m in members if counts[m["name"]] > 1]
    if twice:  # the demo's invented names may repeat: such a name is refused, listing both
        done = backend.cli("enroll", "--member", twice[0], "--no-terminal-qr", check=False)
        assert done.returncode == 2 and "More than one member" in done.stderr
    unknown = backend.cli("enroll", "--member", "无此人", "--no-terminal-qr", check=False)
    assert unknown.returncode == 2 and "无此人" in unknown.stderr


def test_team_assign_and_notice_commands_reach_devices(
    backend: Backend, server: ServerProcess
) -> None:
    world, (lead,) = enrolled(backend, server.url, "lead_a")
    team = backend.cli(
        "team",
        "create",
        "--name",
        "观海轩核酸采样队",
        "--kind",
        "three_person",
        "--community",
        world.community,
        "--area",
        world.unit_b,
    ).stdout
    assert re.search(r"Team created: tm-\S+", team)
    out = backend.cli(
        "assign",
        "--type",
        "nucleic_acid_sampling",
        "--target",
        world.household_a,
        "--team",
        world.team_a,
        "--assignee",
        world.volunteer_a,
        "--priority",
        "high",
        "--title",
        "上门采样",
    ).stdout
    assignment = re.search(r"Assignment created: (\S+)", out).group(1)  # type: ignore[union-attr]
    out = backend.cli(
        "notice",
        "publish",
        "--kind",
        "rumour_rebuttal",
        "--title",
        "辟谣：网传“明天解封”不实",
        "--body",
        "以指挥部通告为准。",
        "--community",
        world.community,
    ).stdout
    notice = re.search(r"Notice published: (\S+)", out).group(1)  # type: ignore[union-attr]
    bad = backend.cli(
        "assign",
        "--type",
        "welfare_check",
        "--target",
        "hh-nowhere",
        "--team",
        world.team_a,
        check=False,
    )
    assert bad.returncode == 2 and "hh-nowhere" in bad.stderr
    lead.pull_all()
    assert (phone_record(lead, "assignment", assignment) or {}).get("priority") == "high"
    assert (phone_record(lead, "notice", notice) or {}).get("kind") == "rumour_rebuttal"
    assert not any(o.kind == "team" and o.entity_id != world.team_a for o in lead.received.values())
