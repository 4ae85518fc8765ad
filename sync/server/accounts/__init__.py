"""The command centre's accounts, sessions and scopes (the console and the CLI share them).

- :mod:`.users` — accounts (role, scope of places, argon2 password, optional TOTP);
- :mod:`.sessions` — server-side sessions, CSRF tokens, login throttling, the login steps;
- :mod:`.scope` — :class:`Scope`, which every page and export asks about each row it shows.

Every change is written to the audit log (:mod:`sync.server.audit`).
"""

from sync.server.accounts.scope import Scope
from sync.server.accounts.sessions import LoginRefused, Opened, Session
from sync.server.accounts.users import ADMIN, COORDINATOR, ROLES, Account

__all__ = [
    "ADMIN",
    "COORDINATOR",
    "ROLES",
    "Account",
    "LoginRefused",
    "Opened",
    "Scope",
    "Session",
]
