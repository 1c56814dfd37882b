"""The bank round trip's pure core (issue #18): 1CClientBankExchange files in and out.

* :mod:`b24app.bank.parse` — a small, strict reader of statements (and of our own payment orders);
* :mod:`b24app.bank.write` — payment orders for approved requests, validated before writing;
* :mod:`b24app.bank.checks` — ИНН, КПП, БИК and account control keys;
* :mod:`b24app.bank.match` — statement lines matched to open requests, or listed for the accountant.

Nothing here does I/O, reads the clock or imports the web, queue or REST layers; ``docs/bank.md``
describes the format as implemented and what is UNVERIFIED.
"""
