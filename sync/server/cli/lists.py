"""``places``, ``teams`` and ``members``: what names and ids the other commands accept.

Each prints a table (or ``--json``); names come from the decrypted records. Phone numbers are not
listed.
"""

from __future__ import annotations

from typing import Any

import click

from sync.i18n import t
from sync.server.cli.base import global_options, runtime, text
from sync.server.cli.table import echo_json, render
from sync.server.names import Directory


def _show(ctx: click.Context, rows: list[dict[str, Any]], columns: dict[str, str]) -> None:
    """A table of ``rows``' fields (``columns``: field -> header key), then the count."""
    header = [text(ctx, f"col.{key}") for key in columns.values()]
    cells = [[str(row[name] or "-") for name in columns] for row in rows]
    click.echo(render(header, cells))
    click.echo(text(ctx, "rows_total", count=len(rows)))


def register(group: click.Group, lang: str) -> None:
    def h(key: str) -> str:
        return t(f"server.cli.help.{key}", lang)

    @group.command("places", help=h("places"), short_help=h("places"))
    @click.option("--under", help=h("under"))
    @click.option("--json", "as_json", is_flag=True, help=h("json"))
    @global_options(lang)
    @click.pass_context
    def places(ctx: click.Context, under: str | None, as_json: bool) -> None:
        names = Directory(runtime(ctx))
        top = names.place(under) if under else None
        rows = [
            {
                "id": pid,
                "level": p.get("level"),
                "name": p.get("name"),
                "path": names.place_path(pid),
                "parent_id": p.get("parent_id"),
                "control": p.get("control"),
            }
            for pid, p in names.records("place").items()
            if top is None or top in names.ancestors(pid)
        ]
        rows.sort(key=lambda r: str(r["path"]))
        if as_json:
            echo_json(rows)
            return
        _show(ctx, rows, {"id": "id", "level": "level", "path": "path", "control": "control"})

    @group.command("teams", help=h("teams"), short_help=h("teams"))
    @click.option("--json", "as_json", is_flag=True, help=h("json"))
    @global_options(lang)
    @click.pass_context
    def teams(ctx: click.Context, as_json: bool) -> None:
        names = Directory(runtime(ctx))
        rows: list[dict[str, Any]] = [
            {
                "id": tid,
                "name": team.get("name"),
                "kind": team.get("kind"),
                "community_id": team.get("community_id"),
                "community": names.place_path(team.get("community_id")),
                "area": list(team.get("area") or ()),
                "area_paths": [names.place_path(p) for p in team.get("area") or ()],
            }
            for tid, team in names.records("team").items()
        ]
        if as_json:
            echo_json(rows)
            return
        for row in rows:
            row["area_text"] = ", ".join(row["area_paths"])
        columns = {"id": "id", "name": "name", "kind": "kind", "area_text": "area"}
        _show(ctx, rows, columns)

    @group.command("members", help=h("members"), short_help=h("members"))
    @click.option("--team", help=h("members_team"))
    @click.option("--json", "as_json", is_flag=True, help=h("json"))
    @global_options(lang)
    @click.pass_context
    def members(ctx: click.Context, team: str | None, as_json: bool) -> None:
        names = Directory(runtime(ctx))
        team_id = names.team(team) if team else None
        rows = [
            {
                "id": mid,
                "name": member.get("name"),
                "role": member.get("role"),
                "team_id": member.get("team_id"),
                "team": names.name("team", member.get("team_id")),
            }
            for mid, member in names.records("member").items()
            if team_id is None or member.get("team_id") == team_id
        ]
        if as_json:
            echo_json(rows)
            return
        _show(ctx, rows, {"id": "id", "name": "name", "role": "role", "team": "team"})
