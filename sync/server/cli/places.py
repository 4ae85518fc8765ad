"""``place add|rename|move``: districts, streets and communities (and buildings or units) from
nothing, renamed and moved; ``control set|show``: the control status of a place or household with
its first day and planned release (local dates), and its history.

Listing them, with ids, is ``places`` (:mod:`.lists`). The changes are :mod:`sync.server.grid`'s,
shared with the console's Grid page.
"""

from __future__ import annotations

import getpass

import click

from sync.domain import label
from sync.domain.control import control_days, control_text, days_text
from sync.domain.enums import CONTROL, PLACE_LEVELS
from sync.errors import ValidationError
from sync.i18n import t
from sync.server import grid, localtime
from sync.server.cli.base import Group, global_options, runtime, say, zone
from sync.server.cli.base import lang as lang_of
from sync.server.importing.places import add_place
from sync.server.names import SEP, Directory


def register(group: click.Group, lang: str) -> None:
    def h(key: str) -> str:
        return t(f"server.cli.help.{key}", lang)

    @group.group("place", cls=Group, help=h("place_group"), short_help=h("place_group"))
    def place() -> None:
        pass

    @place.command("add", help=h("place_add"), short_help=h("place_add"))
    @click.option("--level", required=True, type=click.Choice(PLACE_LEVELS), help=h("place_level"))
    @click.option("--name", required=True, help=h("place_name"))
    @click.option("--parent", help=h("place_parent"))
    @global_options(lang)
    @click.pass_context
    def add(ctx: click.Context, level: str, name: str, parent: str | None) -> None:
        rt = runtime(ctx)
        parent_id = Directory(rt).place(parent) if parent else None
        place_id = add_place(rt, level=level, name=name, parent_id=parent_id)
        say(ctx, "place_added", id=place_id, path=Directory(rt).place_path(place_id))

    register_grid(group, place, lang)


def target(names: Directory, text: str) -> tuple[str, str]:
    """A place (by path or id) or, failing that, a household (unit path/room or id)."""
    try:
        return "place", names.place(text)
    except ValidationError as first:
        if first.code != "names.unknown":
            raise
        try:
            return "household", names.household(text)
        except ValidationError:
            raise first from None


def target_name(names: Directory, kind: str, entity_id: str) -> str:
    if kind == "place":
        return names.place_path(entity_id)
    home = names.records("household").get(entity_id) or {}
    return f"{names.place_path(home.get('place_id'))}{SEP}{home.get('room') or entity_id}"


def operator() -> str:
    """Who a command-line change is logged as: ``cli:<login>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def register_grid(group: click.Group, place: click.Group, lang: str) -> None:
    def h(key: str) -> str:
        return t(f"server.cli.help.{key}", lang)

    @place.command("rename", help=h("place_rename"), short_help=h("place_rename"))
    @click.argument("path")
    @click.argument("name")
    @global_options(lang)
    @click.pass_context
    def rename(ctx: click.Context, path: str, name: str) -> None:
        rt = runtime(ctx)
        place_id = Directory(rt).place(path)
        grid.rename_place(rt, place_id, name)
        say(ctx, "place_renamed", path=Directory(rt).place_path(place_id))

    @place.command("move", help=h("place_move"), short_help=h("place_move"))
    @click.argument("path")
    @click.option("--to", "parent", required=True, help=h("place_new_parent"))
    @global_options(lang)
    @click.pass_context
    def move(ctx: click.Context, path: str, parent: str) -> None:
        rt = runtime(ctx)
        names = Directory(rt)
        place_id, parent_id = names.place(path), names.place(parent)
        moved = grid.move_place(rt, place_id, parent_id)
        shown = Directory(rt).place_path(place_id)
        say(ctx, "place_moved" if moved else "place_not_moved", path=shown)

    @group.group("control", cls=Group, help=h("control_group"), short_help=h("control_group"))
    def control() -> None:
        pass

    @control.command("set", help=h("control_set"), short_help=h("control_set"))
    @click.argument("path")
    @click.argument("status", type=click.Choice(CONTROL))
    @click.option("--since", help=h("control_since"))
    @click.option("--until", help=h("control_until"))
    @global_options(lang)
    @click.pass_context
    def control_set(
        ctx: click.Context, path: str, status: str, since: str | None, until: str | None
    ) -> None:
        rt = runtime(ctx)
        where = zone(ctx)
        kind, entity_id = target(Directory(rt), path)
        grid.set_control(
            rt,
            kind,
            entity_id,
            status,
            since=localtime.parse(since, where) if since else localtime.today_start(where),
            until=localtime.parse(until, where) if until else None,
            by=operator(),
        )
        names = Directory(rt)
        record = names.records(kind).get(entity_id)
        code = lang_of(ctx)
        days = days_text(control_days(record, localtime.today(where), where), code)
        say(
            ctx,
            "control_set",
            target=target_name(names, kind, entity_id),
            status=label("control", status, code),
            days=f" · {days}" if days else "",
        )

    @control.command("show", help=h("control_show"), short_help=h("control_show"))
    @click.argument("path")
    @global_options(lang)
    @click.pass_context
    def control_show(ctx: click.Context, path: str) -> None:
        rt = runtime(ctx)
        where = zone(ctx)
        names = Directory(rt)
        kind, entity_id = target(names, path)
        record = names.records(kind).get(entity_id)
        code = lang_of(ctx)
        click.echo(
            f"{target_name(names, kind, entity_id)}: "
            f"{control_text(record, localtime.today(where), where, code) or label('control', 'normal', code)}"
        )
        entries = grid.history(record)
        if not entries:
            say(ctx, "control_history_none")
        for e in entries:
            before = label("control", str(e["from"]), code) if e.get("from") else "-"
            dates = " – ".join(
                localtime.show_date(e.get(k), where) for k in ("since", "until") if e.get(k)
            )
            say(
                ctx,
                "control_history_row",
                at=localtime.show(e.get("at"), where),
                by=e.get("by") or "-",
                change=f"{before} → {label('control', str(e.get('to')), code)}",
                dates=dates,
            )
