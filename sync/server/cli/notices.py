"""``notice publish|edit|withdraw|list|show`` and ``contact add|edit|remove|list``: the same
service functions the console's 通知 and 通讯录 pages call (:mod:`sync.server.notices`,
:mod:`sync.server.contacts`). Times are typed and shown in the operation's time zone; buildings
are named within the notice's community (``1栋``) or by id."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from sync.domain import label
from sync.domain.enums import CONTACT_KINDS, NOTICE_KINDS
from sync.errors import ValidationError
from sync.i18n import t
from sync.server import contacts, localtime, notices
from sync.server.cli.base import Group, global_options, lang, runtime, say, text, zone
from sync.server.cli.table import echo_json, render
from sync.server.names import SEP, Directory


def building_id(names: Directory, community_id: str, typed: str) -> str:
    """A building of the community by id or by its name within the community."""
    if typed in names.records("place"):
        return typed
    return names.place(f"{names.place_path(community_id)}{SEP}{typed}")


def read_body(body: str | None, body_file: Path | None) -> str | None:
    if body_file is None:
        return body
    if str(body_file) == "-":
        return sys.stdin.read()
    try:
        return body_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError("notice.body_unreadable", name=body_file.name) from exc


def register(group: click.Group, lang_: str) -> None:
    def h(key: str) -> str:
        return t(f"server.cli.help.{key}", lang_)

    @group.group("notice", cls=Group, help=h("notice_group"), short_help=h("notice_group"))
    def notice() -> None:
        pass

    @notice.command("publish", help=h("notice_publish"), short_help=h("notice_publish"))
    @click.option("--kind", default="daily", type=click.Choice(NOTICE_KINDS), help=h("notice_kind"))
    @click.option("--title", required=True, help=h("title"))
    @click.option("--body", help=h("body"))
    @click.option("--body-file", type=click.Path(path_type=Path), help=h("body_file"))
    @click.option("--community", required=True, help=h("community"))
    @click.option("--building", "buildings", multiple=True, help=h("notice_building"))
    @click.option("--expires", help=h("notice_expires"))
    @global_options(lang_)
    @click.pass_context
    def publish(
        ctx: click.Context,
        kind: str,
        title: str,
        body: str | None,
        body_file: Path | None,
        community: str,
        buildings: tuple[str, ...],
        expires: str | None,
    ) -> None:
        text_ = read_body(body, body_file)
        if not text_:
            raise ValidationError("notice.no_body")
        rt = runtime(ctx)
        names = Directory(rt)
        community_id = names.place(community)
        notice_id = notices.publish(
            rt,
            kind=kind,
            title=title,
            body=text_,
            community_id=community_id,
            buildings=[building_id(names, community_id, b) for b in buildings],
            expires_at=localtime.parse(expires, zone(ctx)) if expires else None,
        )
        say(ctx, "noticed", notice=notice_id)

    @notice.command("edit", help=h("notice_edit"), short_help=h("notice_edit"))
    @click.argument("notice_id", metavar="ID")
    @click.option("--kind", type=click.Choice(NOTICE_KINDS), help=h("notice_kind"))
    @click.option("--title", help=h("title"))
    @click.option("--body", help=h("body"))
    @click.option("--body-file", type=click.Path(path_type=Path), help=h("body_file"))
    @click.option("--building", "buildings", multiple=True, help=h("notice_building"))
    @click.option("--whole-community", is_flag=True, help=h("notice_whole"))
    @click.option("--expires", help=h("notice_expires"))
    @click.option("--no-expiry", is_flag=True, help=h("notice_no_expiry"))
    @global_options(lang_)
    @click.pass_context
    def edit(
        ctx: click.Context,
        notice_id: str,
        kind: str | None,
        title: str | None,
        body: str | None,
        body_file: Path | None,
        buildings: tuple[str, ...],
        whole_community: bool,
        expires: str | None,
        no_expiry: bool,
    ) -> None:
        rt = runtime(ctx)
        names = Directory(rt)
        current = notices.get(rt, notice_id, names)
        if current is None:
            raise ValidationError("admin.not_found", kind="notice", id=notice_id)
        changes: dict[str, Any] = {"kind": kind, "title": title, "body": read_body(body, body_file)}
        changes = {k: v for k, v in changes.items() if v}
        if whole_community:
            changes["buildings"] = []
        elif buildings:
            changes["buildings"] = [building_id(names, current.community_id, b) for b in buildings]
        if no_expiry:
            changes["expires_at"] = None
        elif expires:
            changes["expires_at"] = localtime.parse(expires, zone(ctx))
        changed = notices.edit(rt, notice_id, changes)
        say(ctx, "notice_edited" if changed else "notice_unchanged", notice=notice_id)

    @notice.command("withdraw", help=h("notice_withdraw"), short_help=h("notice_withdraw"))
    @click.argument("notice_id", metavar="ID")
    @global_options(lang_)
    @click.pass_context
    def withdraw(ctx: click.Context, notice_id: str) -> None:
        notices.withdraw(runtime(ctx), notice_id)
        say(ctx, "notice_withdrawn", notice=notice_id)

    @notice.command("list", help=h("notice_list"), short_help=h("notice_list"))
    @click.option("--community", help=h("community"))
    @click.option("--json", "as_json", is_flag=True, help=h("json"))
    @global_options(lang_)
    @click.pass_context
    def listing(ctx: click.Context, community: str | None, as_json: bool) -> None:
        rt = runtime(ctx)
        names = Directory(rt)
        where = zone(ctx)
        only = names.place(community) if community else None
        found = notices.listing(rt, lambda n: only in (None, n.community_id), names)
        rows = [
            {
                "id": n.id,
                "state": n.state(),
                "kind": n.kind,
                "title": n.title,
                "for": notices.target_names(n, names),
                "published": localtime.show(n.published_at, where),
                "edited": localtime.show(n.edited_at, where),
                "expires": localtime.show(n.expires_at, where),
                "buildings": list(n.buildings),
                "community_id": n.community_id,
            }
            for n in found
        ]
        if as_json:
            echo_json(rows)
            return
        code = lang(ctx)
        cols = ("id", "state", "kind", "published", "expires", "for", "title")
        cells = [
            [
                str(r["id"]),
                text(ctx, f"notice_state.{r['state']}"),
                label("notice.kind", str(r["kind"]), code),
                *(str(r[c] or "-") for c in cols[3:]),
            ]
            for r in rows
        ]
        click.echo(render([text(ctx, f"col.{c}") for c in cols], cells))
        click.echo(text(ctx, "rows_total", count=len(rows)))

    @notice.command("show", help=h("notice_show"), short_help=h("notice_show"))
    @click.argument("notice_id", metavar="ID")
    @global_options(lang_)
    @click.pass_context
    def show(ctx: click.Context, notice_id: str) -> None:
        rt = runtime(ctx)
        names = Directory(rt)
        found = notices.get(rt, notice_id, names)
        if found is None:
            raise ValidationError("admin.not_found", kind="notice", id=notice_id)
        click.echo(notices.wechat_text(found, names, zone(ctx), lang(ctx)))

    register_contacts(group, lang_)


def register_contacts(group: click.Group, lang_: str) -> None:
    def h(key: str) -> str:
        return t(f"server.cli.help.{key}", lang_)

    kinds = click.Choice(CONTACT_KINDS)

    @group.group("contact", cls=Group, help=h("contact_group"), short_help=h("contact_group"))
    def contact() -> None:
        pass

    @contact.command("add", help=h("contact_add"), short_help=h("contact_add"))
    @click.option("--community", help=h("contact_community"))
    @click.option("--member", help=h("contact_member"))
    @click.option("--kind", type=kinds, help=h("contact_kind"))
    @click.option("--label", "label_", help=h("contact_label"))
    @click.option("--name", help=h("contact_name"))
    @click.option("--phone", help=h("contact_phone"))
    @click.option("--team", help=h("team"))
    @click.option("--note", help=h("contact_note"))
    @global_options(lang_)
    @click.pass_context
    def add(
        ctx: click.Context,
        community: str | None,
        member: str | None,
        kind: str | None,
        label_: str | None,
        name: str | None,
        phone: str | None,
        team: str | None,
        note: str | None,
    ) -> None:
        rt = runtime(ctx)
        names = Directory(rt)
        values: dict[str, Any] = {}
        if member:
            values = contacts.from_member(rt, names.member(member), names)
        typed = {"kind": kind, "label": label_, "name": name, "phone": phone, "note": note}
        values.update({k: v for k, v in typed.items() if v})
        if team:
            values["team_id"] = names.team(team)
        if community:
            values["community_id"] = names.place(community)
        if not values.get("community_id"):
            raise ValidationError("contact.no_community")
        if not values.get("phone"):
            raise ValidationError("contact.bad_phone")
        contact_id = contacts.add(
            rt,
            community_id=values["community_id"],
            kind=values.get("kind") or "other",
            label=values.get("label") or "",
            phone=values["phone"],
            name=values.get("name"),
            team_id=values.get("team_id"),
            note=values.get("note"),
        )
        say(ctx, "contact_added", contact=contact_id)

    @contact.command("edit", help=h("contact_edit"), short_help=h("contact_edit"))
    @click.argument("contact_id", metavar="ID")
    @click.option("--kind", type=kinds, help=h("contact_kind"))
    @click.option("--label", "label_", help=h("contact_label"))
    @click.option("--name", help=h("contact_name_edit"))
    @click.option("--phone", help=h("contact_phone"))
    @click.option("--team", help=h("contact_team_edit"))
    @click.option("--note", help=h("contact_note_edit"))
    @global_options(lang_)
    @click.pass_context
    def edit(
        ctx: click.Context,
        contact_id: str,
        kind: str | None,
        label_: str | None,
        name: str | None,
        phone: str | None,
        team: str | None,
        note: str | None,
    ) -> None:
        rt = runtime(ctx)
        changes: dict[str, Any] = {
            k: v
            for k, v in {"kind": kind, "label": label_, "name": name, "phone": phone}.items()
            if v is not None
        }
        if note is not None:
            changes["note"] = note
        if team is not None:
            changes["team_id"] = Directory(rt).team(team) if team else None
        changed = contacts.edit(rt, contact_id, changes)
        say(ctx, "contact_edited" if changed else "contact_unchanged", contact=contact_id)

    @contact.command("remove", help=h("contact_remove"), short_help=h("contact_remove"))
    @click.argument("contact_id", metavar="ID")
    @global_options(lang_)
    @click.pass_context
    def remove(ctx: click.Context, contact_id: str) -> None:
        contacts.remove(runtime(ctx), contact_id)
        say(ctx, "contact_removed", contact=contact_id)

    @contact.command("list", help=h("contact_list"), short_help=h("contact_list"))
    @click.option("--community", help=h("community"))
    @click.option("--removed", is_flag=True, help=h("contact_removed_too"))
    @click.option("--json", "as_json", is_flag=True, help=h("json"))
    @global_options(lang_)
    @click.pass_context
    def listing(ctx: click.Context, community: str | None, removed: bool, as_json: bool) -> None:
        rt = runtime(ctx)
        names = Directory(rt)
        only = names.place(community) if community else None
        found = contacts.listing(
            rt, lambda c: only in (None, c.community_id), removed=removed, names=names
        )
        rows = [
            {
                "id": c.id,
                "kind": c.kind,
                "label": c.label,
                "name": c.name,
                "phone": c.phone,
                "team": names.name("team", c.team_id),
                "note": c.note,
                "community": names.name("place", c.community_id),
                "removed": c.removed_at is not None,
            }
            for c in found
        ]
        if as_json:
            echo_json(rows)
            return
        code = lang(ctx)
        cols = ("id", "kind", "label", "name", "phone", "team", "community")
        cells = [
            [str(r["id"]), label("contact.kind", str(r["kind"]), code)]
            + [str(r[c] or "-") for c in cols[2:]]
            for r in rows
        ]
        click.echo(render([text(ctx, f"col.{c}") for c in cols], cells))
        click.echo(text(ctx, "rows_total", count=len(rows)))
