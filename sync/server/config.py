"""Where the server keeps its state: the data dir, the database URL and the key file.

The data dir holds ``server-keys.json`` (mode 0600: the Ed25519 signing key, the HPKE sealing key
and the 256-bit key that encrypts op and record bodies at rest) and ``config.json`` (the database
URL, public URL and time zone chosen at ``init``; a file without a time zone means
:data:`DEFAULT_TIMEZONE`). With SQLite the database file ``linli.db`` lives there too.
Two server processes on one PostgreSQL share the same key file (copy the data dir).

Database URL precedence: ``--database`` flag > ``LINLI_DATABASE_URL`` > ``config.json`` > SQLite
in the data dir.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync.crypto.symmetric import KEY_BYTES, random_key
from sync.errors import LinliError
from sync.protocol import ServerKeys, b64d, b64e

DEFAULT_DATA_DIR = Path(".linli-server")
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8700"
#: the zone of the times typed on and printed by the command line (the operation's local time)
DEFAULT_TIMEZONE = "Asia/Shanghai"
KEY_FILE = "server-keys.json"
CONFIG_FILE = "config.json"
SQLITE_FILE = "linli.db"
ENV_DATA_DIR = "LINLI_DATA_DIR"
ENV_DATABASE = "LINLI_DATABASE_URL"


class ServerSetupError(LinliError):
    """The server's data dir or configuration is missing or unusable."""

    code = "server.setup"
    http_status = 500


@dataclass(frozen=True, slots=True)
class Secrets:
    """The server's private keys: protocol keys plus the at-rest data key."""

    keys: ServerKeys
    data_key: bytes

    @classmethod
    def generate(cls) -> Secrets:
        return cls(ServerKeys.generate(), random_key())

    def to_dict(self) -> dict[str, str]:
        return {**self.keys.to_dict(), "data": b64e(self.data_key)}

    @classmethod
    def from_dict(cls, raw: Any) -> Secrets:
        if not isinstance(raw, dict):
            raise ServerSetupError("server.bad_key_file", path=KEY_FILE)
        data_key = b64d(raw.get("data"), "data key")
        if len(data_key) != KEY_BYTES:
            raise ServerSetupError("server.bad_key_file", path=KEY_FILE)
        return cls(ServerKeys.from_dict(raw), data_key)


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    public_url: str = DEFAULT_PUBLIC_URL
    timezone: str = DEFAULT_TIMEZONE
    #: a practice (training) server (``init --practice``): phones and console show a banner
    practice: bool = False

    @property
    def key_path(self) -> Path:
        return self.data_dir / KEY_FILE


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / SQLITE_FILE).resolve()}"


def read_config(data_dir: Path) -> dict[str, Any]:
    path = data_dir / CONFIG_FILE
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ServerSetupError("server.bad_config", path=str(path)) from exc
    return raw if isinstance(raw, dict) else {}


def resolve(
    data_dir: str | Path | None = None,
    database: str | None = None,
    public_url: str | None = None,
    timezone: str | None = None,
) -> Settings:
    """The effective settings from flags, environment and the data dir's ``config.json``."""
    folder = Path(data_dir or os.environ.get(ENV_DATA_DIR) or DEFAULT_DATA_DIR)
    saved = read_config(folder)
    url = database or os.environ.get(ENV_DATABASE) or saved.get("database") or sqlite_url(folder)
    return Settings(
        data_dir=folder,
        database_url=str(url),
        public_url=str(public_url or saved.get("public_url") or DEFAULT_PUBLIC_URL),
        timezone=str(timezone or saved.get("timezone") or DEFAULT_TIMEZONE),
        practice=saved.get("practice") is True,
    )


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a new file readable only by its owner (0600), atomically."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def init_data_dir(settings: Settings, *, save_database: bool) -> Secrets:
    """Create the data dir and key file (kept if it exists) and save ``config.json``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o700)
    if settings.key_path.exists():
        secrets = load_secrets(settings)
    else:
        secrets = Secrets.generate()
        _write_private(settings.key_path, json.dumps(secrets.to_dict(), indent=1))
    config = read_config(settings.data_dir)
    config["public_url"] = settings.public_url
    config["timezone"] = settings.timezone
    if settings.practice:
        config["practice"] = True
    if save_database:
        config["database"] = settings.database_url
    (settings.data_dir / CONFIG_FILE).write_text(
        json.dumps(config, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    return secrets


def load_secrets(settings: Settings) -> Secrets:
    path = settings.key_path
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ServerSetupError("server.not_initialised", path=str(settings.data_dir)) from exc
    except (OSError, ValueError) as exc:
        raise ServerSetupError("server.bad_key_file", path=str(path)) from exc
    return Secrets.from_dict(raw)
