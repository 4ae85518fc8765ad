"""What the server refused of this phone's changes, in words: the catalog text of each error
code with record kinds, statuses, roles, field and member names filled in — and, for a change
kept in part (a visit kept, its status move refused), the ``partial.*`` text that says so."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from sync import i18n
from sync.domain import ENUMS, KINDS, field_label, kind_label, label

STATUS_PARAMS = ("frm", "to", "status")


def readable_params(
    params: Mapping[str, Any], lang: str, names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Error parameters as a person reads them: kind, status, role and field names in words,
    and a member id (``by``) as the member's name when ``names`` knows it."""
    out = dict(params)
    kind = params.get("kind")
    if isinstance(kind, str) and kind in KINDS:
        out["kind"] = kind_label(kind, lang)
        if KINDS[kind].machine is not None:
            for name in STATUS_PARAMS:
                if isinstance(params.get(name), str):
                    out[name] = label(f"{kind}.status", params[name], lang)
    if isinstance(params.get("role"), str) and params["role"] in ENUMS["member.role"]:
        out["role"] = label("member.role", params["role"], lang)
    if isinstance(params.get("field"), str) and params["field"]:
        out["field"] = field_label(params["field"], lang)
    by = params.get("by")
    if isinstance(by, str) and names:
        out["by"] = names.get(by, by)
    return out


def refusal_text(
    code: str,
    params: Mapping[str, Any] | None,
    lang: str,
    *,
    partial: bool = False,
    names: Mapping[str, str] | None = None,
) -> str:
    """Why the server refused a change (or, ``partial``, kept only part of it) and what to do;
    ``None`` for an unknown code of a full refusal."""
    catalog = i18n.catalogs()[i18n.normalise(lang)]
    if partial:
        key = f"partial.{code}" if f"partial.{code}" in catalog else "partial.other"
    else:
        key = f"error.{code}"
        if key not in catalog:
            return i18n.t("ui.syncpage.rejected_unknown", lang, code=code)
    template = i18n.t(key, lang)  # unfilled: placeholders still in it
    wanted = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    values = {name: "?" for name in wanted} | readable_params(params or {}, lang, names)
    return i18n.fill(template, values)
