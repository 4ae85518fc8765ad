"""linli sync: the records, rules and machinery shared by the phone app and the central server.

``sync`` never imports ``app``: the phone app builds on this package, never the other way round.
"""
