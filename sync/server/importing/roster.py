"""A team roster from a CSV or XLSX file: one member a row — 姓名 name, 电话 phone, 角色 role,
队伍 team — previewed with every problem, then committed.

The file is read by the households import's reading layer (:mod:`.files`: size and content
checks; :mod:`.sheets`: encodings, XLSX with python-calamine, zip-bomb and formula checks, merged
cells). Headers are matched with :func:`.columns.norm` against :data:`ALIASES`; other columns are
ignored and listed. Values:

- ``name`` required; ``phone`` as the households import reads phones (``+86``, spaces, dashes);
- ``role``: 志愿者/队员 (volunteer), 队长/组长/负责人 (team lead), 协调员/指挥部 (coordinator) or
  the English values; empty is a volunteer;
- ``team``: the name of an active team of the community (``teams`` lists them); a file without a
  team column puts everyone in the team the caller names.

A row is matched to an existing member of the community's teams on name plus phone (or name
alone when the row has no phone and exactly one member has that name): its role and team are
set if they differ (a move); otherwise a new member is created. Two rows for one person are a
problem. Nothing is ever removed. The commit writes exactly the preview's plan through
:func:`sync.server.admin.write`, so phones receive it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sync.domain.schema import MEMBER_KIND
from sync.errors import ValidationError
from sync.server import admin
from sync.server.admin import Author
from sync.server.importing import columns, labels, sheets
from sync.server.importing.files import Source
from sync.server.importing.labels import Bad
from sync.server.importing.model import Counts, Problem
from sync.server.names import Directory
from sync.server.runtime import Runtime

FIELDS: Final = ("name", "phone", "role", "team")
ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "name": ("姓名", "名字", "队员姓名", "成员姓名", "志愿者姓名", "name"),
    "phone": ("电话", "手机", "手机号", "手机号码", "联系电话", "联系方式", "电话号码", "phone"),
    "role": ("角色", "职务", "身份", "岗位", "role"),
    "team": ("队伍", "队伍名称", "所属队伍", "小组", "队", "服务队", "team"),
}
ROLE_ALIASES: Final[Mapping[str, str]] = {
    **{k: "volunteer" for k in ("志愿者", "队员", "组员", "成员", "volunteer")},
    **{
        k: "team_lead"
        for k in ("队长", "组长", "负责人", "小组长", "带队", "team_lead", "teamlead", "lead")
    },
    **{k: "coordinator" for k in ("协调员", "指挥部", "指挥中心", "coordinator")},
}
_BY_ALIAS: Final = {columns.norm(a): f for f, names in ALIASES.items() for a in names}


@dataclass(frozen=True, slots=True)
class RosterChange:
    """One member the commit creates (``member_id`` None) or changes."""

    line: int
    member_id: str | None
    name: str
    set: Mapping[str, Any]


@dataclass(slots=True)
class RosterPreview:
    community_id: str
    source: str
    kind: str
    encoding: str | None
    sheet: str | None
    rows: int
    mapping: dict[str, str]
    ignored: list[str]
    problems: list[Problem]
    members: Counts
    plan: list[RosterChange] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems


def _role(text: str) -> str:
    key = columns.norm(unicodedata.normalize("NFKC", text))
    if not key:
        return "volunteer"
    if key in ROLE_ALIASES:
        return ROLE_ALIASES[key]
    raise Bad("role")


def _header(rows: list[tuple[int, list[str]]]) -> int:
    for index, (_, cells) in enumerate(rows[: columns.HEADER_SEARCH]):
        if sum(1 for c in cells if columns.norm(c) in _BY_ALIAS) >= 2:
            return index
    raise ValidationError("roster.no_header")


def preview(
    rt: Runtime,
    source: Source,
    community_id: str,
    *,
    team_id: str | None = None,
    sheet: str | None = None,
) -> RosterPreview:
    """What importing the roster into the community's teams would do; writes nothing.
    ``team_id``: the team of rows without a team column (or an empty team cell)."""
    grid = sheets.read(source, sheet)
    at = _header(grid.rows)
    _, header = grid.rows[at]
    by_index: dict[int, str] = {}
    shown: dict[str, str] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header):
        target = _BY_ALIAS.get(columns.norm(cell)) if cell else None
        if target is None or target in by_index.values():
            if cell:
                ignored.append(cell)
            continue
        by_index[index] = target
        shown[cell] = target
    if "name" not in by_index.values():
        raise ValidationError("roster.missing_name", found=", ".join(header) or "-")
    data = grid.rows[at + 1 :]
    if not data:
        raise ValidationError("import.empty")
    names = Directory(rt)
    place = names.records("place").get(community_id)
    if place is None or place.get("level") != "community":
        raise ValidationError("import.not_community", place=community_id)
    teams = {
        tid: t for tid, t in names.records("team").items() if t.get("community_id") == community_id
    }
    if team_id is not None and team_id not in teams:
        raise ValidationError("roster.team_elsewhere", team=team_id)
    by_name: dict[str, list[str]] = {}
    for tid, t in teams.items():
        if t.get("disabled_at") is None:
            by_name.setdefault(_norm(t.get("name")), []).append(tid)
    existing = {mid: m for mid, m in names.records("member").items() if m.get("team_id") in teams}
    out = RosterPreview(
        community_id=community_id,
        source=source.name,
        kind=grid.kind,
        encoding=grid.encoding,
        sheet=grid.sheet,
        rows=len(data),
        mapping=shown,
        ignored=ignored,
        problems=[],
        members=Counts(),
    )
    column_of = {f: header[i] for i, f in by_index.items()}
    seen: dict[tuple[str, str], int] = {}
    taken: set[str] = set()
    for line, cells in data:
        raw = {f: (cells[i] if i < len(cells) else "") for i, f in by_index.items()}
        found: list[Problem] = []
        values: dict[str, Any] = {}
        for name, text in raw.items():
            if (line, _index(by_index, name)) in grid.formulas or text.startswith("="):
                found.append(Problem(line, column_of[name], text, "formula"))
                continue
            try:
                values[name] = _value(name, text, by_name, team_id)
            except Bad as bad:
                found.append(Problem(line, column_of[name], text, bad.reason, bad.params))
        if "team" not in raw and team_id is None:
            found.append(Problem(line, "-", "", "roster_team"))
        if found:
            out.problems.extend(found)
            continue
        name = str(values["name"])
        phone = values.get("phone")
        key = (_norm(name), str(phone or ""))
        if key in seen:
            out.problems.append(
                Problem(line, column_of["name"], name, "roster_repeat", {"line": seen[key]})
            )
            continue
        seen[key] = line
        wanted = {
            "role": values.get("role") or "volunteer",
            "team_id": values.get("team") or team_id,
            **({"phone": phone} if phone else {}),
        }
        match = _match(existing, taken, name, phone)
        if match is None:
            out.plan.append(RosterChange(line, None, name, {"name": name, **wanted}))
            out.members.new += 1
            continue
        taken.add(match)
        current = existing[match]
        changes = {k: v for k, v in wanted.items() if current.get(k) != v}
        if changes:
            out.plan.append(RosterChange(line, match, name, changes))
            out.members.changed += 1
        else:
            out.members.unchanged += 1
    return out


def _index(by_index: Mapping[int, str], name: str) -> int:
    return next(i for i, f in by_index.items() if f == name)


def _norm(text: Any) -> str:
    return "".join(str(text or "").split())


def _value(name: str, text: str, teams: Mapping[str, list[str]], default_team: str | None) -> Any:
    if name == "name":
        if not text:
            raise Bad("required")
        try:
            MEMBER_KIND.fields["name"]("name", text)
        except ValidationError as exc:
            raise Bad(exc.code.removeprefix("validation."), **exc.params) from exc
        return text
    if name == "phone":
        return labels.phone(text)
    if name == "role":
        return _role(text)
    # team
    if not text:
        if default_team is None:
            raise Bad("required")
        return default_team
    found = teams.get(_norm(text), [])
    if len(found) != 1:
        raise Bad("roster_team_unknown" if not found else "roster_team_ambiguous")
    return found[0]


def _match(
    existing: Mapping[str, Mapping[str, Any]], taken: set[str], name: str, phone: str | None
) -> str | None:
    same = [
        mid
        for mid, m in existing.items()
        if mid not in taken and _norm(m.get("name")) == _norm(name)
    ]
    if phone:
        exact = [mid for mid in same if existing[mid].get("phone") == phone]
        return exact[0] if len(exact) == 1 else None
    return same[0] if len(same) == 1 else None


def commit(rt: Runtime, roster: RosterPreview) -> int:
    """Write the preview's plan in one transaction (all or nothing; ``roster.not_ready`` while
    it has problems); the number of members created or changed. Commit a fresh preview: after a
    commit the same file previews as unchanged (its people now match)."""
    if not roster.ready:
        raise ValidationError("roster.not_ready", problems=len(roster.problems))

    def build(a: Author) -> int:
        for change in roster.plan:
            team = change.set.get("team_id")
            if team is not None:
                found = a.record("team", str(team))
                if found is None or found.get("disabled_at") is not None:
                    raise ValidationError("team.disabled", team=str(team))
            a.op("member", change.member_id, set=dict(change.set))
        return len(roster.plan)

    return admin.write(rt, build)[0] if roster.plan else 0
