"""Files uploaded to the console, kept between the preview and the commit.

An upload (households or a roster) is read within the import service's size limit *before*
the form is parsed (:func:`limited_form`: the declared length first, then the stream, refused
with ``import.too_big`` as soon as it passes the limit), then kept under the server's data
directory (``console-uploads/``) sealed with the data key, with its state: who uploaded it, the
community, the column mapping and decisions chosen so far, and a households commit's progress.
Any server worker can read it, so the preview, the commit and the progress page may each be
answered by another worker. Uploads older than :data:`MAX_AGE_MS` are removed.

A households commit runs in a background thread of the worker that received the request
(:func:`start_commit`), writing its progress to the upload's state after each chunk. If the
worker stops, the state stays ``committing`` without progress: after :data:`STALE_MS` the page
offers to run it again, and the import service completes it (its commit is idempotent).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from console.web import PageRefusal
from sync.errors import LinliError
from sync.protocol import now_ms
from sync.server import audit, importing, logs
from sync.server.importing import Source
from sync.server.runtime import Runtime

FOLDER: Final = "console-uploads"
MAX_AGE_MS: Final = 24 * 3600 * 1000
#: a commit whose progress has not moved for this long is offered to run again
STALE_MS: Final = 30_000
#: room for the form's other fields and the multipart framing
FORM_OVERHEAD: Final = 64 * 1024
HOUSEHOLDS, ROSTER = "households", "roster"
PREVIEWED, COMMITTING, DONE, FAILED = "previewed", "committing", "done", "failed"


@dataclass(slots=True)
class Upload:
    id: str
    kind: str
    owner: str
    community_id: str
    name: str
    created_at: int
    team_id: str | None = None
    sheet: str | None = None
    #: header as in the file -> field (the column-mapping step's choices)
    mapping: dict[str, str] = field(default_factory=dict)
    #: line -> resident id or "new" (the ambiguous residents' decisions)
    decisions: dict[int, str] = field(default_factory=dict)
    state: str = PREVIEWED
    done: int = 0
    total: int = 0
    updated_at: int = 0
    result: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    @property
    def stale(self) -> bool:
        return self.state == COMMITTING and now_ms() - self.updated_at > STALE_MS


def _folder(rt: Runtime) -> Path:
    path = rt.settings.data_dir / FOLDER
    path.mkdir(mode=0o700, exist_ok=True)
    return path


async def limited_form(request: Request, limit: int = importing.MAX_BYTES) -> FormData:
    """The request's form, refused (``import.too_big``, 413) before parsing if the body is
    larger than ``limit`` plus the form's framing — never read whole."""
    cap = limit + FORM_OVERHEAD
    declared = request.headers.get("content-length", "")
    too_big = PageRefusal("import.too_big", status=413, max_mb=limit // (1024 * 1024))
    if declared.isdigit() and int(declared) > cap:
        raise too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise too_big
    request._body = bytes(body)  # starlette reads the form from here
    return await request.form()


def source_of(form: FormData, name: str = "file") -> Source:
    """The uploaded file as the import service's :class:`Source` (size checked again)."""
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise PageRefusal("console.no_file", status=400)
    return importing.from_stream(upload.filename[:200], upload.file)


def create(
    rt: Runtime,
    kind: str,
    owner: str,
    community_id: str,
    source: Source,
    team_id: str | None = None,
) -> Upload:
    _sweep(rt)
    up = Upload(
        id=secrets.token_urlsafe(12),
        kind=kind,
        owner=owner,
        community_id=community_id,
        name=source.name,
        created_at=now_ms(),
        team_id=team_id,
        updated_at=now_ms(),
    )
    blob = rt.vault.seal(base64.b64encode(source.data).decode(), f"upload-file:{up.id}")
    (_folder(rt) / f"{up.id}.file").write_bytes(blob)
    save(rt, up)
    return up


def save(rt: Runtime, up: Upload) -> None:
    path = _folder(rt) / f"{up.id}.state"
    tmp = path.with_suffix(".tmp" + secrets.token_hex(4))
    tmp.write_bytes(rt.vault.seal(asdict(up), f"upload:{up.id}"))
    tmp.replace(path)


def load(rt: Runtime, upload_id: str, owner: str, kind: str) -> Upload:
    """The visitor's own upload (``console.no_upload``, 404, for anything else)."""
    path = _folder(rt) / f"{upload_id}.state"
    if not upload_id.replace("-", "").replace("_", "").isalnum() or not path.is_file():
        raise PageRefusal("console.no_upload", status=404)
    raw = rt.vault.open(path.read_bytes(), f"upload:{upload_id}")
    raw["decisions"] = {int(k): str(v) for k, v in (raw.get("decisions") or {}).items()}
    up = Upload(**raw)
    if up.owner != owner or up.kind != kind:
        raise PageRefusal("console.no_upload", status=404)
    return up


def source(rt: Runtime, up: Upload) -> Source:
    blob = (_folder(rt) / f"{up.id}.file").read_bytes()
    return Source(up.name, base64.b64decode(rt.vault.open(blob, f"upload-file:{up.id}")))


def _sweep(rt: Runtime) -> None:
    """Remove uploads older than :data:`MAX_AGE_MS` (by file time: no need to open them)."""
    limit = (now_ms() - MAX_AGE_MS) / 1000
    for path in _folder(rt).iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            continue


# -- the households commit in the background ------------------------------------------------
_running: dict[str, threading.Thread] = {}
_lock = threading.Lock()


def running(upload_id: str) -> bool:
    with _lock:
        thread = _running.get(upload_id)
        return thread is not None and thread.is_alive()


def start_commit(rt: Runtime, up: Upload) -> bool:
    """Start (or, after an interruption, restart) the commit of a households upload; ``False``
    if it is already running in this worker."""
    with _lock:
        thread = _running.get(up.id)
        if thread is not None and thread.is_alive():
            return False
        up.state, up.updated_at, up.error = COMMITTING, now_ms(), None
        save(rt, up)
        thread = threading.Thread(
            target=_commit, args=(rt, up), name=f"import-{up.id[:6]}", daemon=True
        )
        _running[up.id] = thread
        thread.start()
        return True


def _commit(rt: Runtime, up: Upload) -> None:
    try:
        preview = importing.preview(
            rt,
            source(rt, up),
            up.community_id,
            mapping=up.mapping,
            sheet=up.sheet,
            decisions=up.decisions,
        )

        def progress(p: importing.Progress) -> None:
            up.done, up.total, up.updated_at = p.done, p.total, now_ms()
            save(rt, up)

        up.total = len(preview.plan)
        save(rt, up)
        result = importing.commit(rt, preview, progress=progress)
        up.state, up.done, up.updated_at = DONE, up.total, now_ms()
        up.result = {"ops": result.ops, "chunks": result.chunks, "rows": preview.rows}
        with rt.db.write() as conn:
            audit.record(
                conn,
                up.owner,
                audit.IMPORT,
                up.community_id,
                {"ops": result.ops, "rows": preview.rows, "households": preview.households.new},
                now=now_ms(),
            )
    except LinliError as exc:
        up.state, up.error, up.updated_at = FAILED, exc.code, now_ms()
    except Exception as exc:  # keep the worker; the page says it failed and offers a retry
        logs.event("console.import_failed", error=type(exc).__name__)
        up.state, up.error, up.updated_at = FAILED, "console.fault", now_ms()
    save(rt, up)


def as_json(up: Upload) -> str:
    return json.dumps(asdict(up), ensure_ascii=False)


def describe(code: str | None, lang: str, **params: Any) -> str:
    return LinliError(code or "console.fault", **params).describe(lang) if code else ""
