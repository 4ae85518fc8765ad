"""One server process's handles: settings, database, keys (cached), vault and ledger.

A context manager: ``with Runtime.open(settings) as rt:`` closes the database when done.

Nothing here is state that matters between requests: keys are read from the data dir at start,
everything else lives in the database, so any number of processes can serve the same devices.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync.protocol import ServerKeys
from sync.server import projection
from sync.server.config import Secrets, Settings, load_secrets
from sync.server.db import Closing, Database
from sync.server.ledger import Ledger
from sync.server.vault import Vault


@dataclass(slots=True)
class Runtime(Closing):
    settings: Settings
    db: Database
    secrets: Secrets
    vault: Vault
    ledger: Ledger

    @classmethod
    def open(cls, settings: Settings, *, check_schema: bool = True) -> Runtime:
        secrets = load_secrets(settings)
        database = Database(settings.database_url)
        vault = Vault(secrets.data_key)
        if check_schema:
            try:
                database.check_schema()  # at head, or a coded refusal (schema.py)
                projection.rebuild_if_stale(database, vault)  # migrated without the data key
            except BaseException:
                database.dispose()
                raise
        return cls(settings, database, secrets, vault, Ledger(vault))

    @property
    def keys(self) -> ServerKeys:
        return self.secrets.keys

    def close(self) -> None:
        self.db.dispose()
