"""All cryptography lives here: the only package that imports ``cryptography``.

- :mod:`sync.crypto.symmetric` — AEAD (AES-256-GCM), PIN key derivation (scrypt), key wrapping.
- :mod:`sync.crypto.sealing` — RFC 9180 HPKE (ML-KEM-768 + X25519) sealing to a public key.
- :mod:`sync.crypto.signing` — Ed25519 signatures and key encodings.
"""
