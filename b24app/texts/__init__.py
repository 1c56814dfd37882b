"""The one catalogue of staff-facing texts — Russian first, English available.

One module per audience or area: ``common`` (short labels: links, decisions, the digest's sections, the
approval tab's summary), ``approval`` (the engine's notices, refusals, task and timeline texts),
``telegram`` (the bot's replies, the request cards, the link page), ``escalation`` (the sweep's notices),
``placements`` (the approval tab), ``ops`` (alerts to operators), ``timeline`` (the log-trust reports),
``decisions`` (the decision names). One lookup convention: a text is a ``Label(ru, en)`` (or a function
returning one, or a ``Message`` with ``text_ru``/``text_en``) and ``label.get(lang)`` selects the language
("ru" unless "en"). No staff text is written anywhere else: ``tests/unit/test_texts_catalogue.py`` scans
``b24app/`` and ``handlers/`` for Cyrillic string literals outside this package.
"""
