"""linli phone app: the local store, view-models and the Flet user interface."""
