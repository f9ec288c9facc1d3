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
    # an absolute expiry: FIX's GTD (59=6 with ExpireTime(126)); REST has only cancel_after
    EXPIRE_TIME_REQUIRES_GTT = (400, "expire_time requires time_in_force GTT")  # GUESS
    EXPIRE_TIME_AND_CANCEL_AFTER = (
        400, "cancel_after and expire_time cannot both be set")  # GUESS
    EXPIRE_TIME_PASSED = (400, "expire_time must be in the future")  # GUESS
    # GUESS: the text; the 90 days are Coinbase's GTD limit
    EXPIRE_TIME_TOO_FAR = (400, "expire_time must be at most 90 days ahead")
    PRICE_TOO_SMALL = (400, "price is too small. Minimum price is {}")  # GUESS, 8 dp like §12.1
    PRICE_TOO_LARGE = (400, "price is too large. Maximum price is {}")  # GUESS: sandex's bound
    PRICE_TOO_ACCURATE = (400, "price is too accurate. Smallest unit is {}")  # §3.3
    STOP_PRICE_TOO_LARGE = (400, "stop_price is too large. Maximum stop_price is {}")  # GUESS
    STOP_PRICE_TOO_ACCURATE = (400, "stop_price is too accurate. Smallest unit is {}")  # GUESS
    SIZE_TOO_SMALL = (400, "size is too small. Minimum size is {}")  # §3.3
    SIZE_TOO_LARGE = (400, "size is too large. Maximum size is {}")  # GUESS: sandex's bound
    SIZE_TOO_ACCURATE = (400, "size is too accurate. Smallest unit is {}")  # §3.3
    FUNDS_TOO_SMALL = (400, "funds is too small. Minimum size is {}")  # §3.3
    FUNDS_TOO_ACCURATE = (400, "funds is too accurate. Smallest unit is {}")  # §3.3
    FUNDS_TOO_LARGE = (400, "funds is too large. Maximum funds is {}")  # GUESS: sandex's bound
    NOTIONAL_TOO_SMALL = (400, "notional is too small. Minimum is {}")  # §3.3
    TOO_MANY_OPEN_ORDERS = (400, "Too many open orders")  # GUESS §4.1
    INSUFFICIENT_FUNDS = (400, "Insufficient funds")  # §3.3

    # -- cancel (core) --------------------------------------------------------------------------
    ORDER_NOT_FOUND = (404, "order not found")  # §3.3 (lower-case o; ccxt broad match)
    ORDER_ALREADY_DONE = (400, "Order already done")  # §3.3
    ORDER_NOT_MODIFIABLE = (400, "Order cannot be modified")  # GUESS: market, triggered stop,
    # sized by funds, queued by a halt, crossing while matching is halted, or a stop price
    # for a plain limit order (FIX 35=G)

    # -- administration (core) ------------------------------------------------------------------
    PROFILE_NOT_FOUND = (404, "Profile not found")  # GUESS
    PROFILE_EXISTS = (400, "Profile already exists")  # GUESS
    PRODUCT_EXISTS = (400, "Product already exists")  # GUESS
    INVALID_PRODUCT = (400, "Invalid product")  # GUESS: bad increments or currencies
    CURRENCY_NOT_FOUND = (400, "Currency not found")  # GUESS
    INVALID_AMOUNT = (400, "Invalid amount")  # GUESS: non-positive deposit/withdraw/transfer
    SUPPLY_TOO_LARGE = (400, "amount is too large. The venue holds at most {} {}")  # GUESS:
    # sandex's bound on a currency's supply (limits.supply_max): a deposit, conversion or
    # transfer that would pass it
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

    # -- conversions, profiles, reports (account surface) --------------------------------------
    INVALID_CONVERSION_PAIR = (400, "Invalid conversion pair")  # GUESS
    AMOUNT_NOT_POSITIVE = (400, "amount must be a positive number")  # GUESS
    INVALID_PROFILE_NAME = (400, "Invalid profile name")  # GUESS: reserved default/margin §6.2
    PROFILE_NAME_TAKEN = (400, "Profile name already exists")  # GUESS
    PROFILE_LIMIT = (400, "Maximum number of profiles reached")  # GUESS (max 100, §6.1)
    PROFILE_INACTIVE = (400, "Profile is not active")  # GUESS
    DEFAULT_PROFILE_DELETE = (400, "Cannot delete default profile")  # GUESS §6.4
    PROFILE_OPEN_ORDERS = (400, "Profile has open orders")  # GUESS §6.4
    INVALID_TO_PROFILE = (400, "Invalid to profile")  # GUESS §6.4
    INVALID_REPORT_TYPE = (400, "Invalid report type")  # GUESS §7.2
    TOO_MANY_REPORTS = (400, "Too many reports being generated")  # GUESS §7.2 (3 at a time)

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

    # -- deposits, withdrawals and the address book (REST; docs/compatibility.md "Funds") ------
    INVALID_CURRENCY = (400, "Invalid currency")  # GUESS
    INVALID_PAYMENT_METHOD = (400, "Invalid payment_method_id")  # GUESS
    PAYMENT_METHOD_NO_DEPOSIT = (400, "Payment method cannot be used for deposits")  # GUESS
    PAYMENT_METHOD_NO_WITHDRAW = (400, "Payment method cannot be used for withdrawals")  # GUESS
    FIAT_ADDRESS = (400, "Cannot generate address for fiat currency")  # GUESS
    INVALID_NETWORK = (400, "Invalid network")  # GUESS
    DESTINATION_TAG_REQUIRED = (400, "destination_tag is required")  # GUESS
    BELOW_MIN_WITHDRAWAL = (400, "amount is below the minimum withdrawal amount")  # GUESS
    WITHDRAW_LIMIT_EXCEEDED = (400, "Withdrawal limit exceeded")  # GUESS
    INVALID_COUNTERPARTY = (400, "Invalid counterparty_id")  # GUESS

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

    # -- a cluster (docs/cluster.md): Coinbase has no such state; sandex's own texts -----------
    NOT_LEADER = (503, "sandex cluster: this node is a read-only follower; send writes to the "
                       "leader ({})")
    LEADER_CHANGED = (503, "sandex cluster: the leader changed while this request was in "
                           "flight, its outcome is unknown; retry it (with the same client_oid)")

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

    # -- FIX gateways (docs/fix.md): Logout(5) and reject Text(58). Coinbase documents none of
    # its FIX 5.0 refusal texts: every one is a GUESS, REST's wording where REST has the case.
    FIX_FIRST_NOT_LOGON = (400, "First message must be Logon (35=A)")  # GUESS
    FIX_TARGET_COMP_ID = (400, "TargetCompID(56) must be Coinbase")  # GUESS
    FIX_LOGON_SEQNUM = (
        401, "invalid signature: MsgSeqNum(34) must be 1 on Logon, without leading zeros")
    FIX_SENDING_TIME = (
        401, "invalid signature: SendingTime(52) must be YYYYMMDD-HH:MM:SS.sss "
        "(exactly 3 fractional digits)")  # GUESS wording of Coinbase's signature error
    FIX_ENCRYPT_METHOD = (400, "EncryptMethod(98) must be 0")  # GUESS
    FIX_APPL_VER = (400, "DefaultApplVerID(1137) must be 9 (FIX50SP2)")  # GUESS
    FIX_USERNAME = (401, "Username(553) must be the API key sent in SenderCompID(49)")  # GUESS
    FIX_MISSING_TAG = (400, "Required tag missing: {}")  # GUESS
    FIX_BAD_VALUE = (400, "Invalid value for {}")  # GUESS
    FIX_PERMISSION = (403, "Forbidden: the API key needs the {} permission")  # GUESS
    FIX_DUPLICATE_SESSION = (
        400, "Duplicate session: this API key is already logged on to this gateway")  # GUESS
    FIX_LOGON_RATE = (429, "Logon rate limit exceeded: at most 2 Logons per second per key")
    FIX_RATE_LIMIT = (429, "Rate limit exceeded")  # GUESS (an app message over 100/s)
    FIX_FLOOD = (429, "Rate limit exceeded: more than {} messages in one second")  # GUESS
    FIX_SEQ_TOO_LOW = (400, "MsgSeqNum too low, expecting {} but received {}")  # FIX standard
    FIX_SEQ_TOO_HIGH = (400, "MsgSeqNum too high, expecting {} but received {}")  # GUESS
    FIX_GARBLED = (400, "Garbled message: {}")  # GUESS
    FIX_HEARTBEAT_TIMEOUT = (400, "Heartbeat timeout")  # GUESS
    FIX_SHUTDOWN = (503, "server terminated")  # Coinbase's deploy Logout (2018)
    FIX_CLORDID = (400, "ClOrdID({}) must be a lowercase UUIDv4")  # GUESS
    FIX_CLORDID_OPEN = (400, "ClOrdID matches an open order")  # GUESS (enforced 2025-01-28)
    FIX_LEADING_ZEROS = (400, "Extra leading zeros are not accepted in {}")  # GUESS wording
    FIX_SIZE_AND_CASH = (400, "Only one of OrderQty(38) or CashOrderQty(152) may be specified")
    FIX_UNSUPPORTED_TYPE = (400, "Unsupported Message Type")  # GUESS
    FIX_INVALID_MSG_TYPE = (400, "Invalid MsgType")  # FIX standard text for 373=11
    FIX_BATCH_SIZE = (400, "A batch holds 1 to {} orders")  # GUESS (limit: Coinbase's 15)
    FIX_BATCH_SYMBOLS = (400, "All orders of a batch must have the same Symbol")  # GUESS
    FIX_MASS_CANCEL_TYPE = (400, "Unsupported MassCancelRequestType")  # GUESS
    FIX_MD_ENTRY_TYPE = (400, "Unsupported MDEntryType(269)={}")  # GUESS (281=8)
    FIX_MD_DEPTH = (400, "Unsupported MarketDepth(264)={}: level 2 is the full book (0)")  # GUESS
    FIX_REPLACE_OTHER_CONNECTION = (  # GUESS: Coinbase says G "must" come on that connection
        400, "OrderCancelReplaceRequest must be sent on the connection that placed the order")

    @property
    def status(self) -> int:
        return self.value[0]

    @property
    def template(self) -> str:
        return self.value[1]

    def format(self, *args: object) -> str:
        """The exact ``message`` text with the template's arguments filled in."""
        return self.template.format(*args) if args else self.template
