"""``import-households`` (:mod:`sync.server.importing`), ``team create`` and ``assign``: the
district's data (notices and contacts: :mod:`.notices`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sync.domain.enums import ASSIGNMENT_TYPES, PRIORITIES, TARGET_KINDS, TEAM_KINDS
from sync.i18n import t
from sync.server import admin, importing, localtime, teams
from sync.server.cli.base import Group, global_options, runtime, say, text, zone
from sync.server.cli.preview import decisions, show_preview
from sync.server.names import Directory


def register(group: click.Group, lang: str) -> None:
    def h(key: str) -> str:
        return t(f"server.cli.help.{key}", lang)

    @group.command("import-households", help=h("import_long"), short_help=h("import"))
    @click.argument("file", type=click.Path(path_type=Path), metavar="FILE")
    @click.option("--community", required=True, help=h("community"))
    @click.option("--map", "maps", multiple=True, metavar="列名=FIELD", help=h("map"))
    @click.option("--sheet", help=h("sheet"))
    @click.option("--decide", multiple=True, metavar="LINE=ID|new", help=h("decide"))
    @click.option("--dry-run", is_flag=True, help=h("dry_run"))
    @click.option("--skip-bad-rows", is_flag=True, help=h("skip_bad_rows"))
    @global_options(lang)
    @click.pass_context
    def import_households(
        ctx: click.Context,
        file: Path,
        community: str,
        maps: tuple[str, ...],
        sheet: str | None,
        decide: tuple[str, ...],
        dry_run: bool,
        skip_bad_rows: bool,
    ) -> None:
        rt = runtime(ctx)
        community_id = Directory(rt).place(community)
        mapping = importing.parse_overrides(maps)
        source = importing.from_path(file)
        preview = importing.preview(
            rt, source, community_id, mapping=mapping, sheet=sheet, decisions=decisions(decide)
        )
        show_preview(ctx, preview)
        if dry_run:
            say(ctx, "import.dry_run")
            return
        if not preview.plan:
            say(ctx, "import.nothing")
            return
        live = sys.stdout.isatty()

        def progress(p: importing.Progress) -> None:
            line = text(ctx, "import.progress", done=p.done, total=p.total)
            click.echo(("\r" + line) if live else line, nl=not live or p.done == p.total)

        result = importing.commit(rt, preview, skip_bad_rows=skip_bad_rows, progress=progress)
        say(ctx, "import.done", ops=result.ops, chunks=result.chunks, skipped=result.skipped_lines)

    @group.group("team", cls=Group, help=h("team_group"), short_help=h("team_group"))
    def team() -> None:
        pass

    @team.command("create", help=h("team_create"), short_help=h("team_create"))
    @click.option("--name", required=True, help=h("team_name"))
    @click.option("--kind", required=True, type=click.Choice(TEAM_KINDS), help=h("team_kind"))
    @click.option("--community", required=True, help=h("community"))
    @click.option("--area", multiple=True, help=h("area"))
    @global_options(lang)
    @click.pass_context
    def team_create(
        ctx: click.Context, name: str, kind: str, community: str, area: tuple[str, ...]
    ) -> None:
        rt = runtime(ctx)
        names = Directory(rt)
        team_id = teams.create_team(
            rt,
            name=name,
            kind=kind,
            community_id=names.place(community),
            area=[names.place(place) for place in area],
        )
        say(ctx, "team_created", team=team_id)

    @group.command("assign", help=h("assign"), short_help=h("assign"))
    @click.option(
        "--type", "type_", required=True, type=click.Choice(ASSIGNMENT_TYPES), help=h("assign_type")
    )
    @click.option(
        "--target-kind", default="household", type=click.Choice(TARGET_KINDS), help=h("target_kind")
    )
    @click.option("--target", required=True, help=h("target"))
    @click.option("--team", required=True, help=h("team"))
    @click.option("--assignee", help=h("assignee"))
    @click.option("--priority", default="normal", type=click.Choice(PRIORITIES), help=h("priority"))
    @click.option("--due", help=h("due"))
    @click.option("--title", help=h("title"))
    @click.option("--instructions", help=h("instructions"))
    @global_options(lang)
    @click.pass_context
    def assign(
        ctx: click.Context,
        type_: str,
        target_kind: str,
        target: str,
        team: str,
        assignee: str | None,
        priority: str,
        due: str | None,
        title: str | None,
        instructions: str | None,
    ) -> None:
        rt = runtime(ctx)
        names = Directory(rt)
        values = {
            "type": type_,
            "target_kind": target_kind,
            "target_id": names.target(target_kind, target),
            "team_id": names.team(team),
            "assignee_id": names.member(assignee) if assignee else None,
            "priority": priority,
            "due": localtime.parse(due, zone(ctx)) if due else None,
            "title": title,
            "instructions": instructions,
        }
        say(ctx, "assigned", assignment=admin.assign(rt, values))
