"""The reference provider agent: answers hop requests from the provider's own call records.

A provider runs it beside its network (`robotrace provider-agent ...`, or
`python -m robotrace.agent ...`). It is a program of its own, not part of the server: it
talks to Robotrace only over HTTP, and of the server's code it uses only two helpers from
robotrace.core (phone numbers, webhook signatures). It learns of requests by webhook
(Standard Webhooks, signature checked, 5-minute window) or by polling, finds the call in its
records (CSV, SQLite or a PostgreSQL table) tolerating clock skew and number formats, and
answers over the API.

`records.py` holds the records and the matching (no I/O of its own, so the simulator and the
tests reuse it), `client.py` the running agent, `cli.py` the command line.
"""
