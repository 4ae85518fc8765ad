"""``place add``: districts, streets and communities (and buildings or units) from nothing.

Listing them, with ids, is ``places`` (:mod:`.lists`).
"""

from __future__ import annotations

import click

from sync.domain.enums import PLACE_LEVELS
from sync.i18n import t
from sync.server.cli.base import Group, global_options, runtime, say
from sync.server.importing.places import add_place
from sync.server.names import Directory


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
