"""The metering gateway (SPEC §3, §4.4): every app and agent calls models through it.

In: OpenAI- and Anthropic-compatible HTTP requests with a ciyuan API key. Out: the upstream's
response, unchanged but for headers, after the call was authenticated, attributed, held
against budgets, measured, rated, settled in the ledger, written down exactly once and
receipted.

Modules: ``limits`` (every bound), ``errors`` (the two error envelopes), ``upstream``
(providers, retries, fallbacks; an injectable httpx transport), ``requests`` (parsing and
validation of the bodies we meter), ``metering`` (the pipeline of one call, assembled in one
function), ``streaming`` (SSE relay that counts what it delivers), ``metrics``, ``app``
(routes), ``server`` (``ciyuan serve``).
"""
