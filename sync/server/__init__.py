"""The central linli server: enrollment, sync (push + scoped pull), and the coordinator's CLI.

- :mod:`.config` — data dir, database URL, the server's key file (signing, sealing, at-rest key);
- :mod:`.db` — the SQL schema (SQLAlchemy Core) and the serialized write transaction;
- :mod:`.vault` — at-rest encryption of op and record bodies (resident data never in plaintext);
- :mod:`.scope` / :mod:`.authz` — pure rules: which scope keys an op gets, who may write what;
- :mod:`.ledger` — ONE path for every accepted op: merge, gap-free sequence, scope index;
- :mod:`.pull` — the scoped, cursor-based pull;
- :mod:`.service` — a sync request end to end; :mod:`.enrollment` — one-time codes and devices;
- :mod:`.api` — the HTTP routes; :mod:`.cli` — ``python -m sync.server``;
- :mod:`.admin`, :mod:`.importing`, :mod:`.demo` — server-authored data.

See ``docs/server.md``.
"""
