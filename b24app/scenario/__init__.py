"""Scenario files: people acting on a sandbox portal, step by step, with expected outcomes.

``b24app scenario run FILE...`` loads each file (:mod:`b24app.scenario.loader`), starts a fresh stack
(sandbox portal, Redis, the web app, an RQ worker — :mod:`b24app.scenario.stack`) and plays it
(:mod:`b24app.scenario.runner`). The format is documented in ``docs/scenarios.md``.
"""
