"""The uploaded file: read within a size limit and recognised by its content, not its name.

A :class:`Source` is the file's name and bytes. :func:`from_path` and :func:`from_stream` refuse
a file over :data:`MAX_BYTES` after reading at most one byte more than the limit (a 50 MB upload
is never read whole). :func:`sniff` says what the bytes are: an XLSX (a zip), an old binary Excel
file (refused: save it as XLSX), a binary file (refused, whatever its name) or text (a CSV).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from sync.errors import ValidationError

#: the largest file accepted (a 20,000-household XLSX is about 1 MB, the same CSV about 2 MB)
MAX_BYTES: Final = 20 * 1024 * 1024
XLSX, CSV = "xlsx", "csv"
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: how much of a text file is looked at for binary content
_PROBE = 8192


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    data: bytes


def from_stream(name: str, stream: BinaryIO, limit: int = MAX_BYTES) -> Source:
    """Read an upload, refusing it (``import.too_big``) as soon as it passes ``limit``."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ValidationError("import.too_big", max_mb=limit // (1024 * 1024))
    return Source(name, data)


def from_path(path: Path, limit: int = MAX_BYTES) -> Source:
    try:
        if path.stat().st_size > limit:
            raise ValidationError("import.too_big", max_mb=limit // (1024 * 1024))
        with path.open("rb") as stream:
            return from_stream(path.name, stream, limit)
    except OSError as exc:
        raise ValidationError(
            "import.unreadable", name=path.name, reason=type(exc).__name__
        ) from exc


def sniff(source: Source) -> str:
    """:data:`XLSX` or :data:`CSV`; coded refusals for anything else."""
    data = source.data
    if not data.strip():
        raise ValidationError("import.empty")
    if data.startswith(_ZIP):
        return XLSX
    if data.startswith(_OLE2):
        raise ValidationError("import.old_excel")
    probe = data[:_PROBE]
    if b"\x00" in probe or sum(b < 9 or 13 < b < 32 for b in probe) > len(probe) // 100:
        raise ValidationError("import.binary")
    return CSV
