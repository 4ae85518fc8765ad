"""``team edit|disable|enable|codes``, ``member add|move|disable|enable`` and ``import-roster``:
teams and their people (:mod:`sync.server.teams`, :mod:`sync.server.importing.roster`), the same
service functions the command centre's 队伍 Teams page calls. ``team create`` is in :mod:`.work`.
"""

from __future__ import annotations

from pathlib import Path

import click

from sync.domain.enums import ROLES, TEAM_KINDS
from sync.i18n import t
from sync.server import enrollment, importing, localtime, teams
from sync.server.cli.base import Group, global_options, lang, runtime, say, text, zone
from sync.server.cli.table import echo_json, render
from sync.server.importing import roster
from sync.server.names import Directory


def _team_group(group: click.Group) -> click.Group:
    found = group.commands.get("team")
    assert isinstance(found, click.Group), "register work before teams"
    return found


def register(group: click.Group, lang_code: str) -> None:
    def h(key: str) -> str:
        return t(f"server.cli.help.{key}", lang_code)

    team = _team_group(group)

    @team.command("edit", help=h("team_edit"), short_help=h("team_edit"))
    @click.argument("team_name", metavar="TEAM")
    @click.option("--name", help=h("team_name"))
    @click.option("--kind", type=click.Choice(TEAM_KINDS), help=h("team_kind"))
    @click.option("--area", multiple=True, help=h("area"))
    @click.option("--clear-area", is_flag=True, help=h("clear_area"))
    @global_options(lang_code)
    @click.pass_context
    def team_edit(
        ctx: click.Context,
        team_name: str,
        name: str | None,
        kind: str | None,
        area: tuple[str, ...],
        clear_area: bool,
    ) -> None:
        rt = runtime(ctx)
        names = Directory(rt)
        team_id = names.team(team_name)
        places = [names.place(p) for p in area] if area or clear_area else None
        done = teams.edit_team(rt, team_id, name=name, kind=kind, area=places)
        say(ctx, "team_edited" if done else "unchanged", team=team_id)

    for verb, disabled in (("disable", True), ("enable", False)):

        def make(verb: str = verb, disabled: bool = disabled) -> None:
            @team.command(verb, help=h(f"team_{verb}"), short_help=h(f"team_{verb}"))
            @click.argument("team_name", metavar="TEAM")
            @global_options(lang_code)
            @click.pass_context
            def switch(ctx: click.Context, team_name: str) -> None:
                rt = runtime(ctx)
                team_id = Directory(rt).team(team_name)
                done = teams.set_disabled(rt, "team", team_id, disabled)
                say(ctx, f"team_{verb}d" if done else "unchanged", team=team_id)

        make()

    @team.command("codes", help=h("team_codes"), short_help=h("team_codes"))
    @click.argument("team_name", metavar="TEAM")
    @click.option("--expires", default="24h", help=h("expires"))
    @click.option("--everyone", is_flag=True, help=h("codes_everyone"))
    @click.option("--url", help=h("url"))
    @click.option("--json", "as_json", is_flag=True, help=h("json"))
    @global_options(lang_code)
    @click.pass_context
    def team_codes(
        ctx: click.Context,
        team_name: str,
        expires: str,
        everyone: bool,
        url: str | None,
        as_json: bool,
    ) -> None:
        rt = runtime(ctx)
        team_id = Directory(rt).team(team_name)
        issued = teams.issue_team_codes(
            rt, team_id, ttl_s=enrollment.parse_duration(expires), everyone=everyone, server_url=url
        )
        rows = [
            {
                "member_id": c.member_id,
                "name": c.name,
                "role": c.role,
                "code": c.code,
                "expires": localtime.show(c.expires_at, zone(ctx)),
                "link": c.link,
            }
            for c in issued
        ]
        if as_json:
            echo_json(rows)
            return
        header = [text(ctx, f"col.{k}") for k in ("name", "role", "code", "expires", "link")]
        cells = [[r["name"], r["role"], r["code"], r["expires"], r["link"]] for r in rows]
        click.echo(render(header, cells))
        say(ctx, "codes_issued", count=len(rows), zone=rt.settings.timezone)

    @group.group("member", cls=Group, help=h("member_group"), short_help=h("member_group"))
    def member() -> None:
        pass

    @member.command("add", help=h("member_add"), short_help=h("member_add"))
    @click.option("--name", required=True, help=h("name"))
    @click.option("--team", required=True, help=h("team"))
    @click.option("--role", default="volunteer", type=click.Choice(ROLES), help=h("role"))
    @click.option("--phone", help=h("phone"))
    @global_options(lang_code)
    @click.pass_context
    def member_add(ctx: click.Context, name: str, team: str, role: str, phone: str | None) -> None:
        rt = runtime(ctx)
        team_id = Directory(rt).team(team)
        member_id = teams.add_member(rt, name=name, role=role, team_id=team_id, phone=phone)
        say(ctx, "member_added", member=member_id)

    @member.command("move", help=h("member_move"), short_help=h("member_move"))
    @click.argument("who", metavar="MEMBER")
    @click.option("--team", required=True, help=h("team"))
    @global_options(lang_code)
    @click.pass_context
    def member_move(ctx: click.Context, who: str, team: str) -> None:
        rt = runtime(ctx)
        names = Directory(rt)
        member_id, team_id = names.member(who), names.team(team)
        done = teams.move_member(rt, member_id, team_id)
        say(ctx, "member_moved" if done else "unchanged", member=member_id, team=team_id)

    for verb, disabled in (("disable", True), ("enable", False)):

        def make_member(verb: str = verb, disabled: bool = disabled) -> None:
            @member.command(verb, help=h(f"member_{verb}"), short_help=h(f"member_{verb}"))
            @click.argument("who", metavar="MEMBER")
            @global_options(lang_code)
            @click.pass_context
            def switch(ctx: click.Context, who: str) -> None:
                rt = runtime(ctx)
                member_id = Directory(rt).member(who)
                done = teams.set_disabled(rt, "member", member_id, disabled)
                say(ctx, f"member_{verb}d" if done else "unchanged", member=member_id)

        make_member()

    @group.command("import-roster", help=h("roster_long"), short_help=h("roster"))
    @click.argument("file", type=click.Path(path_type=Path), metavar="FILE")
    @click.option("--community", required=True, help=h("community"))
    @click.option("--team", help=h("roster_team"))
    @click.option("--sheet", help=h("sheet"))
    @click.option("--dry-run", is_flag=True, help=h("dry_run"))
    @global_options(lang_code)
    @click.pass_context
    def import_roster(
        ctx: click.Context,
        file: Path,
        community: str,
        team: str | None,
        sheet: str | None,
        dry_run: bool,
    ) -> None:
        rt = runtime(ctx)
        names = Directory(rt)
        community_id = names.place(community)
        team_id = names.team(team) if team else None
        source = importing.from_path(file)
        p = roster.preview(rt, source, community_id, team_id=team_id, sheet=sheet)
        say(ctx, "import.mapping", pairs=", ".join(f"{k}→{v}" for k, v in p.mapping.items()))
        if p.ignored:
            say(ctx, "import.ignored", columns=", ".join(p.ignored))
        m = p.members
        say(ctx, "roster.members", new=m.new, changed=m.changed, unchanged=m.unchanged)
        if p.problems:
            say(ctx, "import.problems", count=len(p.problems))
            for problem in p.problems:
                say(
                    ctx,
                    "import.problem",
                    line=problem.line,
                    column=problem.column,
                    value=problem.value,
                    reason=problem.describe(lang(ctx)),
                )
            ctx.exit(1)
        if dry_run:
            say(ctx, "import.dry_run")
            return
        say(ctx, "roster.done", count=roster.commit(rt, p))
