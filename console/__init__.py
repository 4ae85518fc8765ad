"""The command centre: linli's web console for coordinators (see docs/console.md).

Mounted by ``python -m sync.server serve`` at ``/console`` through the entry point
``linli.server.mounts`` (:func:`console.app.mount`); ``sync`` never imports this package.
"""
