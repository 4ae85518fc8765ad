"""Screen state and actions. View-models never touch the Flet page: they take a
:class:`~app.viewmodels.base.Navigator` and notify subscribers, so plain pytest can drive them."""
