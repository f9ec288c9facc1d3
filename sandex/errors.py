"""The one table of every error sandex can answer: exact Coinbase text and HTTP status.

Each member is ``(status, template)``. Adapters look up the status; the core's ``reject``
formats a member's text once, when it refuses. Texts are Coinbase's character for character
(cited by section of the wire notes, see docs/compatibility.md, from Coinbase's Exchange
reference); the ones marked GUESS have no known source and are pinned by tests so they cannot
drift.

Order-entry members are listed in the order the core checks them (§3.3, §4.1, §12.1).
This module imports nothing: every layer may use it.
"""

from __future__ import annotations

from enum import Enum


class Error(Enum):
    """An error answer: ``status`` is the HTTP code, ``template`` the exact ``message`` text."""

    # -- order entry, in check order (core) ---------------------------------------------------
    DUPLICATE_ORDER_ID = (400, "Duplicate order id")  # GUESS; ids are made by the sequencer
    PRODUCT_NOT_FOUND = (400, "Product not found")  # §3.3 [CCXT exact]
    TRADING_DISABLED = (400, "Product is under maintenance")  # GUESS; ccxt: 'under maintenance'
    CANCEL_ONLY_MODE = (400, "Cancel only mode")  # §3.3
    LIMIT_ONLY_MODE = (400, "Limit only mode")  # §3.3
    POST_ONLY_MODE = (400, "Post only mode")  # §3.3 (product mode and crossing post_only)
    POST_ONLY_TIME_IN_FORCE = (400, "post_only is invalid with time_in_force IOC or FOK")  # GUESS
    POST_ONLY_STOP = (400, "post_only is invalid with stop orders")  # GUESS (TPSL: none)
    CANCEL_AFTER_REQUIRES_GTT = (400, "cancel_after requires time_in_force GTT")  # GUESS
    GTT_REQUIRES_CANCEL_AFTER = (400, "time_in_force GTT requires cancel_after")  # GUESS
    PRICE_TOO_SMALL = (400, "price is too small. Minimum price is {}")  # GUESS, 8 dp like §12.1
    PRICE_TOO_ACCURATE = (400, "price is too accurate. Smallest unit is {}")  # §3.3
    STOP_PRICE_TOO_ACCURATE = (400, "stop_price is too accurate. Smallest unit is {}")  # GUESS
    SIZE_TOO_SMALL = (400, "size is too small. Minimum size is {}")  # §3.3
    SIZE_TOO_ACCURATE = (400, "size is too accurate. Smallest unit is {}")  # §3.3
    FUNDS_TOO_SMALL = (400, "funds is too small. Minimum size is {}")  # §3.3
    FUNDS_TOO_ACCURATE = (400, "funds is too accurate. Smallest unit is {}")  # §3.3
    NOTIONAL_TOO_SMALL = (400, "notional is too small. Minimum is {}")  # §3.3
    TOO_MANY_OPEN_ORDERS = (400, "Too many open orders")  # GUESS §4.1
    INSUFFICIENT_FUNDS = (400, "Insufficient funds")  # §3.3

    # -- cancel (core) --------------------------------------------------------------------------
    ORDER_NOT_FOUND = (404, "order not found")  # §3.3 (lower-case o; ccxt broad match)
    ORDER_ALREADY_DONE = (400, "Order already done")  # §3.3

    # -- administration (core) ------------------------------------------------------------------
    PROFILE_NOT_FOUND = (404, "Profile not found")  # GUESS
    PROFILE_EXISTS = (400, "Profile already exists")  # GUESS
    PRODUCT_EXISTS = (400, "Product already exists")  # GUESS
    INVALID_PRODUCT = (400, "Invalid product")  # GUESS: bad increments or currencies
    CURRENCY_NOT_FOUND = (400, "Currency not found")  # GUESS
    INVALID_AMOUNT = (400, "Invalid amount")  # GUESS: non-positive deposit/withdraw/transfer
    INVALID_FEE_RATE = (400, "Invalid fee rate")  # GUESS
    SAME_PROFILE_TRANSFER = (400, "from and to profiles must differ")  # GUESS
    CLOCK_BACKWARDS = (400, "Clock cannot move backwards")  # GUESS (sandex time control)
    SNAPSHOT_NOT_FOUND = (404, "Snapshot {} not found")  # sandex's named snapshots
    SNAPSHOT_DIVERGED = (400, "Snapshot {} does not hash to the state it was restored from")
    SNAPSHOT_LIMIT = (400, "At most {} snapshots are kept: delete one first")
    REPLAY_RUNNING = (400, "A replay is loaded: unload it first")  # sandex's replay
    REPLAY_NOT_LOADED = (400, "No replay is loaded")
    # sandex's admin endpoint (not Coinbase's): loopback only, bearer token from the data dir
    ADMIN_LOOPBACK_ONLY = (403, "The admin endpoint only answers on localhost")
    ADMIN_BAD_TOKEN = (401, "Invalid admin token")
    ADMIN_UNKNOWN_COMMAND = (404, "Unknown admin command {}")
    ADMIN_REFUSED = (400, "{}")  # bad arguments or a refused command: the one-line reason
    METRICS_LOOPBACK_ONLY = (403, "The metrics endpoint only answers on localhost")  # sandex's
    # sandex's gate (docs/testing.md, "Races"): a held order request that is not applied
    GATE_FULL = (503, "sandex gate: {} requests are held already; release some first")
    GATE_DROPPED = (503, "sandex gate: the venue was restored while this request was held")

    # -- lookups and request shape (REST) -------------------------------------------------------
    NOT_FOUND = (404, "NotFound")  # §3.3
    PRODUCT_NOT_FOUND_CANCEL_ALL = (404, "ProductNotFound")  # §4.7
    INVALID_ORDER_ID = (400, "Invalid order id")  # §3.3
    INVALID_JSON = (400, "Invalid JSON body")  # GUESS
    MISSING_FIELD = (400, "{} is required")  # GUESS
    INVALID_FIELD = (400, "Invalid {}")  # GUESS
    INVALID_PRICE = (400, "Invalid price {}")  # §3.3 (market order with a price)
    INVALID_ORDER_TYPE = (400, "Invalid order_type {}")  # §3.3
    SIZE_OR_FUNDS = (400, "One of size or funds is required. Only one may be specified")  # §4.1
    INVALID_CLIENT_OID = (400, "Invalid client_oid")  # §3.3
    FILLS_QUERY = (400, "query must contained either product_id or order_id")  # §6.1 (sic)
    BEFORE_CURSOR = (400, "before cursor value is not valid")  # §7
    AFTER_CURSOR = (400, "after cursor value is not valid")  # §7
    LIMIT_RANGE = (400, "Invalid parameter range - limit")  # §7
    UNSUPPORTED_GRANULARITY = (400, "Unsupported granularity")  # §6.6
    TOO_MANY_CANDLES = (
        400,
        "granularity too small for the requested time range. "
        "Count of aggregations requested exceeds 300",
    )  # §6.6

    # -- authentication (REST), in check order §2.5 ---------------------------------------------
    UNAUTHORIZED = (401, "Unauthorized.")  # §2.5 (no credentials on a private route)
    HEADER_REQUIRED = (400, "CB-ACCESS-{} header is required")  # §2.5 GUESS
    INVALID_API_KEY = (401, "Invalid API Key")  # §2.5
    INVALID_TIMESTAMP = (400, "invalid timestamp")  # §2.5
    TIMESTAMP_EXPIRED = (401, "request timestamp expired")  # §2.5
    INVALID_SIGNATURE = (401, "invalid signature")  # §2.5
    INVALID_PASSPHRASE = (401, "Invalid Passphrase")  # §2.5
    FORBIDDEN = (403, "Forbidden")  # §2.1

    # -- rate limits §8.3 -----------------------------------------------------------------------
    PUBLIC_RATE_LIMIT = (429, "Public rate limit exceeded")
    PRIVATE_RATE_LIMIT = (429, "Private rate limit exceeded")

    # -- the HTTP layer (sandex.api.guard): Coinbase documents no limit or text for these -----
    BAD_REQUEST = (400, "Bad request")  # GUESS: a request the HTTP parser cannot read
    BODY_TOO_LARGE = (413, "Request body too large")  # GUESS (docs/cli.md "Limits and timeouts")
    HEADERS_TOO_LARGE = (431, "Request headers too large")  # GUESS
    TOO_MANY_CONNECTIONS = (429, "Too many connections")  # GUESS: per client address

    # -- server side: a bug, or what a fault rule answers (docs/testing.md "Faults") -----------
    INTERNAL_ERROR = (500, "Internal server error")  # GUESS
    BAD_GATEWAY = (502, "Bad Gateway")  # GUESS: a load balancer's (its page is HTML)
    SERVICE_UNAVAILABLE = (503, "Service Unavailable")  # GUESS
    GATEWAY_TIMEOUT = (504, "Gateway Timeout")  # GUESS

    # -- WebSocket feed (§9.6): {"type":"error","message":<message>,"reason":<reason>} ---------
    # ``status`` is what the failure would be over HTTP; the feed sends only the texts.
    # messages
    FEED_SUBSCRIBE_FAILED = (400, "Failed to subscribe")  # §9.6
    FEED_UNSUBSCRIBE_FAILED = (400, "Failed to unsubscribe")  # §9.6
    FEED_AUTHENTICATION_FAILED = (401, "Authentication Failed")  # client-compat §2.6 (ccxt)
    FEED_SUBSCRIBE_REQUIRED = (400, "subscribe or unsubscribe required")  # GUESS (Adv. Trade)
    FEED_SLOW_CONSUME = (400, "ErrSlowConsume")  # §9.6 GUESS that the name is the message
    FEED_SLOW_READ = (429, "ErrSlowRead")  # §9.6 GUESS likewise
    FEED_MESSAGE_TOO_BIG = (400, "Message too big")  # §9.6
    # reasons
    FEED_NO_CHANNELS = (400, "No channels provided")  # §9.6
    FEED_INVALID_PRODUCT = (400, "{} is not a valid product")  # §9.6 (2023; "" -> leading space)
    FEED_AUTH_REQUIRED = (
        401,
        "level2, level3, and full channels now require authentication. "
        "https://docs.cloud.coinbase.com/exchange/docs/websocket-auth",
    )  # §9.3 (also answered for ``user``: GUESS)
    FEED_INVALID_CHANNEL = (400, "{} is not a valid channel")  # GUESS
    FEED_PRODUCT_REQUIRED = (
        400, "You need to specify at least one product ID for channel {}")  # §9.6 (2018 issue)
    FEED_MALFORMED = (400, "invalid (un)subscribe msg")  # §9.3 (sandbox text)
    FEED_BALANCE_AUTH_REQUIRED = (401, "balance channel requires authentication")  # GUESS
    FEED_INVALID_ACCOUNTS = (400, "invalid account_ids")  # GUESS (balance channel)
    FEED_SUBSCRIPTION_LIMIT = (  # GUESS: Coinbase documents the limit, not its text
        400, "subscription limit of {} exceeded for {} on channel {}")
    FEED_DEADLINE = (400, "No subscribe message within {} seconds")  # GUESS (§9.1 deadline)
    FEED_SLOW_CONSUME_REASON = (400, "The client has too many backed up messages")  # §9.6 docs
    FEED_SLOW_READ_REASON = (429, "The client is sending too many messages")  # §9.6 docs
    FEED_TOO_BIG_REASON = (400, "The message size is too large")  # §9.6 docs

    @property
    def status(self) -> int:
        return self.value[0]

    @property
    def template(self) -> str:
        return self.value[1]

    def format(self, *args: object) -> str:
        """The exact ``message`` text with the template's arguments filled in."""
        return self.template.format(*args) if args else self.template
