"""The Flet user interface: thin views over view-models. The only flet importer in the app."""
