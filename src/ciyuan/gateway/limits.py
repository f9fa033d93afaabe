"""Every bound of the gateway, with its reason."""

from __future__ import annotations

#: Largest request body accepted (413 above): long-context prompts with images as URLs fit;
#: base64 images beyond this should go through a file API.
MAX_BODY_BYTES = 8 * 1024 * 1024
#: Largest non-stream upstream response buffered for measurement and receipts.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
#: Upstream attempts before the first byte (429 / 5xx / connect errors), per upstream.
MAX_UPSTREAM_ATTEMPTS = 3
#: Backoff before retry n (seconds): base × 2^n, capped; small because clients wait.
RETRY_BACKOFF_BASE_S = 0.05
RETRY_BACKOFF_CAP_S = 1.0
#: Upstream timeouts: connect, and between bytes (long generations stream for minutes).
UPSTREAM_CONNECT_TIMEOUT_S = 5.0
UPSTREAM_READ_TIMEOUT_S = 300.0
#: Concurrent upstream connections per upstream (its aiohttp pool, ciyuan.gateway.transport).
UPSTREAM_MAX_CONNECTIONS = 512
#: How long a budget reservation lives if the gateway dies mid-call (the ledger expires it).
RESERVATION_TIMEOUT_S = 15 * 60
#: Output tokens assumed for the reservation when neither the request nor the catalog says.
DEFAULT_MAX_OUTPUT_TOKENS = 4096
#: Largest idempotent response kept for replay of a retried request.
MAX_REPLAY_BYTES = 1024 * 1024
#: Rate-limit window (seconds) for requests and tokens per minute.
RATE_WINDOW_S = 60.0
