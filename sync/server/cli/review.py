"""``review list|show|apply|dismiss``: the ops phones sent that the server refused for good.

See :mod:`sync.server.review`. ``show`` opens the op and says why it was refused in plain words
(the error catalogs), from which phone and member, and when (the operation's local time).
``apply`` re-issues the op's changes as the server's ``system`` device on behalf of the operator
named by ``--by``; ``dismiss`` closes it without changing anything.
"""

from __future__ import annotations

import json
from datetime import tzinfo
from typing import Any

import click

from sync import hlc
from sync.i18n import t
from sync.protocol import now_ms
from sync.server import devices, localtime
from sync.server import review as queue
from sync.server.cli.base import Group, global_options, lang, runtime, say, text, zone
from sync.server.cli.table import echo_json, render
from sync.server.names import Directory
from sync.server.runtime import Runtime

ALL = "all"


def reason(code: str, params: dict[str, Any], lang_: str) -> str:
    """Why an op was refused, in plain words (its error catalog text)."""
    found = t(f"error.{code}", lang_, **params)
    return found if found != f"error.{code}" else code


class _Names:
    """Device labels and member names for the rows shown."""

    def __init__(self, rt: Runtime) -> None:
        self.directory = Directory(rt)
        with rt.db.read() as conn:
            self.labels = {r["device_id"]: r["label"] for r in devices.listing(conn, rt.vault)}

    def device(self, device_id: str) -> str:
        label = self.labels.get(device_id)
        return f"{label} ({device_id})" if label else device_id

    def member(self, member_id: str) -> str:
        name = self.directory.name("member", member_id)
        return f"{name} ({member_id})" if name and name != member_id else member_id


def _local(ms: int | None, where: tzinfo) -> str:
    return localtime.show(ms, where) if ms is not None else "-"


def register(group: click.Group, lang_: str) -> None:
    def h(key: str) -> str:
        return t(f"server.cli.help.{key}", lang_)

    @group.group("review", cls=Group, help=h("review"), short_help=h("review_short"))
    def review() -> None:
        pass

    @review.command("list", help=h("review_list"), short_help=h("review_list"))
    @click.option(
        "--state",
        default=queue.OPEN,
        show_default=True,
        type=click.Choice([*queue.STATES, ALL]),
        help=h("review_state"),
    )
    @click.option("--device", help=h("review_device"))
    @click.option("--json", "as_json", is_flag=True, help=h("json"))
    @global_options(lang_)
    @click.pass_context
    def review_list(ctx: click.Context, state: str, device: str | None, as_json: bool) -> None:
        rt = runtime(ctx)
        device_id = Directory(rt).device(device) if device else None
        with rt.db.read() as conn:
            items = queue.listing(conn, rt.vault, None if state == ALL else state, device=device_id)
        if as_json:
            echo_json([item.to_dict() for item in items])
            return
        names, where = _Names(rt), zone(ctx)
        columns = ("id", "state", "received", "device", "member", "change", "reason")
        header = [text(ctx, f"review.col.{c}") for c in columns]
        rows = [
            [
                str(item.id),
                text(ctx, f"review.state.{item.state}"),
                _local(item.received_at, where),
                names.device(item.device),
                names.member(item.member),
                f"{item.kind} {item.entity_id}",
                item.code,
            ]
            for item in items
        ]
        click.echo(render(header, rows))
        say(ctx, "review.total", count=len(items), zone=rt.settings.timezone)

    @review.command("show", help=f"{h('review_show')}\n\nID: {h('review_id')}")
    @click.argument("review_id", metavar="ID", type=int)
    @click.option("--json", "as_json", is_flag=True, help=h("json"))
    @global_options(lang_)
    @click.pass_context
    def review_show(ctx: click.Context, review_id: int, as_json: bool) -> None:
        rt = runtime(ctx)
        with rt.db.read() as conn:
            item = queue.get(conn, rt.vault, review_id)
        if as_json:
            echo_json(item.to_dict())
            return
        _describe(ctx, rt, item)

    @review.command("apply", help=f"{h('review_apply')}\n\nID: {h('review_id')}")
    @click.argument("review_id", metavar="ID", type=int)
    @click.option("--by", "by", required=True, help=h("review_by"))
    @click.option("--note", help=h("review_note"))
    @global_options(lang_)
    @click.pass_context
    def review_apply(ctx: click.Context, review_id: int, by: str, note: str | None) -> None:
        rt = runtime(ctx)
        item = queue.apply(rt, review_id, by=by, note=note, now=now_ms())
        say(ctx, "review.applied", id=item.id, op=item.applied_op, by=item.decided_by)

    @review.command("dismiss", help=f"{h('review_dismiss')}\n\nID: {h('review_id')}")
    @click.argument("review_id", metavar="ID", type=int)
    @click.option("--by", "by", required=True, help=h("review_by"))
    @click.option("--note", help=h("review_note"))
    @global_options(lang_)
    @click.pass_context
    def review_dismiss(ctx: click.Context, review_id: int, by: str, note: str | None) -> None:
        rt = runtime(ctx)
        item = queue.dismiss(rt, review_id, by=by, note=note, now=now_ms())
        say(ctx, "review.dismissed", id=item.id, by=item.decided_by)


def _describe(ctx: click.Context, rt: Runtime, item: queue.Item) -> None:
    """The row in full: state, reason in plain words, who and when, the change itself."""
    names, where, code = _Names(rt), zone(ctx), lang(ctx)
    op = item.op
    made = _local(hlc.wall_of(op.hlc), where) if op is not None else "-"
    say(ctx, "review.show.head", id=item.id, state=text(ctx, f"review.state.{item.state}"))
    say(ctx, "review.show.reason", reason=reason(item.code, item.params, code), code=item.code)
    say(ctx, "review.show.device", device=names.device(item.device))
    say(ctx, "review.show.member", member=names.member(item.member))
    say(
        ctx,
        "review.show.times",
        made=made,
        received=_local(item.received_at, where),
        zone=rt.settings.timezone,
    )
    say(ctx, "review.show.change", kind=item.kind, entity=item.entity_id, op=item.op_id)
    if op is not None:
        for name, value in sorted(op.set.items()):
            say(ctx, "review.show.set", field=name, value=_value(value))
        for name, children in sorted(op.add.items()):
            for child in children:
                say(ctx, "review.show.add", field=name, value=_value(child))
    if item.state != queue.OPEN:
        say(
            ctx,
            f"review.show.{item.state}",
            by=item.decided_by or "-",
            when=_local(item.decided_at, where),
            op=item.applied_op or "-",
        )
    if item.note:
        say(ctx, "review.show.note", note=item.note)


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
