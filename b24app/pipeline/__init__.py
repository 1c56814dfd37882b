"""The item pipeline (lock -> read -> decide -> perform): :func:`b24app.pipeline.process.process`.

``definitions`` (workflows, roles, calendar, the portal's names), ``read`` (one ``batch`` for the item's
current state), ``trust`` and ``logsign`` (only what the app wrote counts), ``perform`` (the engine's
actions in one ``batch``), ``process`` (the lock and the one path every trigger takes).
"""
