"""Households and residents from the files a residential committee keeps (CSV or XLSX).

The one import service: the CLI (``import-households``) uses it, the web console calls it the
same way. Two steps:

- :func:`preview` reads the file and says what importing it would do, writing nothing: the
  detected encoding and column mapping, the ignored columns, every problem row (line, column,
  value, reason), new/changed/unchanged households and residents, and residents whose match
  needs a decision;
- :func:`commit` applies exactly the preview's plan, in chunks, through the ledger, reporting
  progress; run again after an interruption it completes.

Modules, each named for what it owns: :mod:`.files` (the upload, its size, what it is),
:mod:`.sheets` (CSV encodings, XLSX safety and cells), :mod:`.columns` (headers -> fields),
:mod:`.labels` (cell values -> domain values), :mod:`.rows` (checked row values),
:mod:`.plan` (matching and changes), :mod:`.remembered` (last imported values),
:mod:`.apply` (the commit), :mod:`.places` (places a coordinator adds), :mod:`.model` (the
preview's data).
"""

from __future__ import annotations

from collections.abc import Mapping

from sync.server.importing.apply import CommitResult, Progress, commit
from sync.server.importing.columns import FIELDS, parse_overrides
from sync.server.importing.files import MAX_BYTES, Source, from_path, from_stream
from sync.server.importing.model import Ambiguity, Candidate, Counts, Preview, Problem
from sync.server.importing.plan import NEW, build
from sync.server.runtime import Runtime

__all__ = [
    "FIELDS",
    "MAX_BYTES",
    "NEW",
    "Ambiguity",
    "Candidate",
    "CommitResult",
    "Counts",
    "Preview",
    "Problem",
    "Progress",
    "Source",
    "commit",
    "from_path",
    "from_stream",
    "parse_overrides",
    "preview",
]


def preview(
    rt: Runtime,
    source: Source,
    community_id: str,
    *,
    mapping: Mapping[str, str] | None = None,
    sheet: str | None = None,
    decisions: Mapping[int, str] | None = None,
) -> Preview:
    """What importing ``source`` into the community would do; writes nothing.

    ``mapping``: header -> field overrides (``{"户主": "name"}``; :func:`parse_overrides` reads
    ``列名=field`` texts); ``sheet``: the XLSX sheet (default the first); ``decisions``: for
    ambiguous residents, line -> resident id or :data:`NEW`. Coded ``import.*`` errors for a
    file that cannot be read at all; everything wrong inside it is listed in the preview."""
    overrides = parse_overrides([f"{h}={f}" for h, f in (mapping or {}).items()])
    return build(rt, source, community_id, overrides=overrides, sheet=sheet, decisions=decisions)
