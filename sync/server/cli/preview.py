"""The import preview as the terminal shows it, and ``--decide`` options read."""

from __future__ import annotations

import click

from sync.errors import ValidationError
from sync.server import importing
from sync.server.cli.base import lang, say, text


def decisions(items: tuple[str, ...]) -> dict[int, str]:
    out: dict[int, str] = {}
    for item in items:
        line, sep, choice = item.partition("=")
        if not sep or not line.strip().isdigit() or not choice.strip():
            raise ValidationError("import.bad_decide", item=item)
        out[int(line)] = choice.strip()
    return out


def show_preview(ctx: click.Context, p: importing.Preview) -> None:
    if p.kind == "xlsx":
        say(ctx, "import.file_xlsx", name=p.source, sheet=p.sheet, line=p.header_line, rows=p.rows)
    else:
        say(
            ctx,
            "import.file_csv",
            name=p.source,
            encoding=p.encoding,
            line=p.header_line,
            rows=p.rows,
        )
    say(ctx, "import.mapping", pairs=", ".join(f"{h}→{f}" for h, f in p.mapping.items()))
    if p.ignored:
        say(ctx, "import.ignored", columns=", ".join(p.ignored))
    for name, counts in (("households", p.households), ("residents", p.residents)):
        say(
            ctx,
            f"import.{name}",
            new=counts.new,
            changed=counts.changed,
            unchanged=counts.unchanged,
        )
    say(ctx, "import.places", count=p.places, filled=p.filled)
    if p.problems:
        say(ctx, "import.problems", count=len(p.problems))
        code = lang(ctx)
        for problem in p.problems:
            say(
                ctx,
                "import.problem",
                line=problem.line,
                column=problem.column,
                value=problem.value,
                reason=problem.describe(code),
            )
    if p.ambiguities:
        say(ctx, "import.ambiguities", count=len(p.ambiguities))
        for a in p.ambiguities:
            candidates = "; ".join(
                f"{c.resident_id} {c.name} ({c.phone or '-'})" for c in a.candidates
            )
            decided = p.decisions.get(a.line)
            tail = f" → {decided}" if decided else ""
            click.echo(
                text(
                    ctx,
                    "import.ambiguity",
                    line=a.line,
                    household=a.household,
                    name=a.name,
                    phone=a.phone or "-",
                    candidates=candidates,
                )
                + tail
            )
        if p.undecided:
            say(ctx, "import.decide_hint")
