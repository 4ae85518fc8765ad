"""``round create|list|show|extend|cancel|copy``: bulk work in one action
(:mod:`sync.server.rounds`, the same service the command centre calls). Places, teams, members
and households may be given by id or unique name; times are local (``timezone``).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import click

from sync.domain.enums import ASSIGNMENT_TYPES, CARE_FLAGS, PRIORITIES
from sync.domain.labels import label
from sync.domain.vocab import DOOR_OUTCOMES
from sync.i18n import t
from sync.server import localtime, projection, rounds
from sync.server.cli.base import Group, global_options, lang, runtime, say, text, zone
from sync.server.cli.table import echo_json, render
from sync.server.names import Directory
from sync.server.runtime import Runtime


def read_households(names: Directory, file: Path) -> tuple[str, ...]:
    """The households of an uploaded list: the first column of each line (an id, or a unique
    household name or address); blank lines and a header ``household``/``户`` are skipped."""
    out = []
    with file.open(encoding="utf-8-sig", newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            cell = (row[0] if row else "").strip()
            if not cell or (number == 1 and cell.lower() in ("household", "household_id", "户")):
                continue
            out.append(names.household(cell))
    return tuple(out)


def _targets(
    names: Directory, places: tuple[str, ...], flags: tuple[str, ...], file: Path | None
) -> rounds.Targets:
    return rounds.Targets(
        places=tuple(names.place(p) for p in places),
        care_flags=flags,
        households=read_households(names, file) if file else (),
    )


def _progress_json(p: projection.Progress) -> dict[str, Any]:
    return {
        "total": p.total,
        "outcomes": dict(p.outcomes),
        "cancelled": p.cancelled,
        "people_sampled": p.people_sampled,
    }


def round_json(rt: Runtime, r: rounds.Round, p: projection.Progress) -> dict[str, Any]:
    where = localtime.zone(rt.settings.timezone)
    return {
        "round_id": r.round_id,
        "type": r.type,
        "state": r.state,
        "community_id": r.community_id,
        "title": r.spec.title,
        "due": localtime.show(r.spec.due, where) or None,
        "schedule": list(r.spec.schedule),
        "created": localtime.show(r.created_at, where),
        "source": r.source,
        "slot": r.slot,
        "spread": r.spec.spread.mode,
        "progress": _progress_json(p),
    }


def register(group: click.Group, lang_code: str) -> None:
    def h(key: str) -> str:
        return t(f"server.cli.help.{key}", lang_code)

    @group.group("round", cls=Group, help=h("round"), short_help=h("round"))
    def round_group() -> None:
        pass

    def target_options(f: Any) -> Any:
        f = click.option("--place", "places", multiple=True, help=h("round_place"))(f)
        f = click.option(
            "--flag", "flags", multiple=True, type=click.Choice(CARE_FLAGS), help=h("round_flag")
        )(f)
        return click.option(
            "--households", "file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
            help=h("round_households"),
        )(f)  # fmt: skip

    @round_group.command("create", help=h("round_create"), short_help=h("round_create"))
    @click.option(
        "--type", "type_", required=True, type=click.Choice(ASSIGNMENT_TYPES), help=h("assign_type")
    )
    @target_options
    @click.option("--pool", help=h("round_pool"))
    @click.option("--member", "members", multiple=True, help=h("round_member"))
    @click.option("--by", type=click.Choice(rounds.GROUPINGS), default="unit", help=h("round_by"))
    @click.option("--by-team", is_flag=True, help=h("round_by_team"))
    @click.option("--due", help=h("due"))
    @click.option("--title", help=h("title"))
    @click.option("--instructions", help=h("instructions"))
    @click.option("--priority", default="normal", type=click.Choice(PRIORITIES), help=h("priority"))
    @click.option("--at", "slots", multiple=True, metavar="HH:MM", help=h("round_at"))
    @click.option("--window", type=int, default=120, help=h("round_window"))
    @click.option("--json", "as_json", is_flag=True, help=h("json"))
    @global_options(lang_code)
    @click.pass_context
    def create(
        ctx: click.Context,
        type_: str,
        places: tuple[str, ...],
        flags: tuple[str, ...],
        file: Path | None,
        pool: str | None,
        members: tuple[str, ...],
        by: str,
        by_team: bool,
        due: str | None,
        title: str | None,
        instructions: str | None,
        priority: str,
        slots: tuple[str, ...],
        window: int,
        as_json: bool,
    ) -> None:
        rt = runtime(ctx)
        names = Directory(rt)
        chosen = [bool(pool), bool(members), by_team]
        if sum(chosen) != 1:
            raise click.UsageError(text(ctx, "round_one_spread"))
        if members:
            spread = rounds.Spread(
                "members", members=tuple(names.member(m) for m in members), by=by
            )
        elif by_team:
            spread = rounds.Spread("teams")
        else:
            spread = rounds.Spread("pool", team_id=names.team(str(pool)))
        spec = rounds.Spec(
            type=type_,
            targets=_targets(names, places, flags, file),
            spread=spread,
            title=title,
            due=localtime.parse(due, zone(ctx)) if due else None,
            priority=priority,
            instructions=instructions,
            schedule=slots,
            window=window,
        )
        made = rounds.create(rt, spec)
        if as_json:
            echo_json({"round_id": made.round_id, "created": made.created})
        elif slots:
            say(ctx, "round_recurring", round=made.round_id, slots=", ".join(slots))
        else:
            say(ctx, "round_created", round=made.round_id, count=made.created)

    @round_group.command("list", help=h("round_list"), short_help=h("round_list"))
    @click.option("--json", "as_json", is_flag=True, help=h("json"))
    @global_options(lang_code)
    @click.pass_context
    def list_(ctx: click.Context, as_json: bool) -> None:
        rt = runtime(ctx)
        found = rounds.listing(rt)
        if as_json:
            echo_json([round_json(rt, r, p) for r, p in found])
            return
        if not found:
            say(ctx, "round_none")
            return
        code = lang(ctx)
        where = zone(ctx)
        headers = [text(ctx, f"round_col.{c}") for c in ("id", "type", "state", "due", "done")]
        rows = [
            [
                r.round_id,
                label("assignment.type", r.type, code),
                text(ctx, f"round_state.{r.state}"),
                localtime.show(r.spec.due, where) or ", ".join(r.spec.schedule),
                f"{p.done}/{p.total - p.cancelled}",
            ]
            for r, p in found
        ]
        click.echo(render(headers, rows))

    @round_group.command("show", help=h("round_show"), short_help=h("round_show"))
    @click.argument("round_id", metavar="ROUND")
    @click.option("--json", "as_json", is_flag=True, help=h("json"))
    @global_options(lang_code)
    @click.pass_context
    def show(ctx: click.Context, round_id: str, as_json: bool) -> None:
        rt = runtime(ctx)
        found = rounds.get(rt, round_id)
        p = rounds.progress(rt, round_id)
        runs = rounds.generations(rt, round_id)
        if as_json:
            echo_json({**round_json(rt, found, p), "generations": [list(r) for r in runs]})
            return
        code = lang(ctx)
        say(
            ctx,
            "round_summary",
            round=found.round_id,
            type=label("assignment.type", found.type, code),
            state=text(ctx, f"round_state.{found.state}"),
            due=localtime.show(found.spec.due, zone(ctx)) or "-",
        )
        for bucket in DOOR_OUTCOMES:
            say(ctx, f"round_outcome.{bucket}", count=p.outcomes.get(bucket, 0))
        say(ctx, "round_totals", total=p.total, cancelled=p.cancelled, sampled=p.people_sampled)
        for slot, generated in runs:
            say(ctx, "round_generation", slot=slot, round=generated)

    @round_group.command("extend", help=h("round_extend"), short_help=h("round_extend"))
    @click.argument("round_id", metavar="ROUND")
    @target_options
    @global_options(lang_code)
    @click.pass_context
    def extend(
        ctx: click.Context,
        round_id: str,
        places: tuple[str, ...],
        flags: tuple[str, ...],
        file: Path | None,
    ) -> None:
        rt = runtime(ctx)
        made = rounds.extend(rt, round_id, _targets(Directory(rt), places, flags, file))
        say(ctx, "round_extended", round=round_id, count=made.created, skipped=made.skipped)

    @round_group.command("cancel", help=h("round_cancel"), short_help=h("round_cancel"))
    @click.argument("round_id", metavar="ROUND")
    @global_options(lang_code)
    @click.pass_context
    def cancel(ctx: click.Context, round_id: str) -> None:
        cancelled, kept = rounds.cancel(runtime(ctx), round_id)
        say(ctx, "round_cancelled", round=round_id, cancelled=cancelled, kept=kept)

    @round_group.command("copy", help=h("round_copy"), short_help=h("round_copy"))
    @click.argument("round_id", metavar="ROUND")
    @click.option("--due", help=h("due"))
    @click.option("--title", help=h("title"))
    @global_options(lang_code)
    @click.pass_context
    def copy(ctx: click.Context, round_id: str, due: str | None, title: str | None) -> None:
        rt = runtime(ctx)
        when = localtime.parse(due, zone(ctx)) if due else None
        made = rounds.copy(rt, round_id, due=when, title=title)
        say(ctx, "round_copied", round=round_id, copy=made.round_id, count=made.created)
