"""Every named limit of the core, with why it is what it is."""

from __future__ import annotations

# Coinbase: at most 500 open orders per product per profile (§4.1, §8.1). Untriggered stop
# orders count too: they hold funds and would be a way around the limit otherwise.
open_orders_per_product_max = 500

# A price level's FIFO keeps canceled orders' slots until they reach the front; once a queue
# has this many more dead slots than twice its live orders it is rebuilt. Bounds memory at
# about 2x the live orders, and rebuilding is amortised O(1) per cancel.
level_dead_slots_max = 64

# Best-price heaps keep stale prices lazily; a heap longer than 2x its live levels plus this
# slack is rebuilt from the live levels.
heap_slack = 64

# Fee rates are fractions below 1 (1e-6 units): a fee can never exceed the trade's value,
# so a seller's proceeds stay positive.
fee_rate_max = 999_999

# Limit buys reserve ``price * size * (1 + rate)``; funds market buys reserve the specified
# funds and may spend ``funds = specified / (1 + taker_rate)`` truncated to 8 decimals, as the
# observed Coinbase response shows (§4.1: 10 / 1.0025 -> "9.9750623400000000").
funds_truncation = 10**8  # amount units: 1e-8

# Coinbase: "up to 3 accounts reports and 3 fills reports per product generating at a time"
# (changelog 2021-SEP-21); one more is refused until one is ready.
reports_generating_max = 3

# The venue's bound on what an order may name (sandex's choice: Coinbase documents none).
# Prices, stop prices and sizes (1e-8 units) at most 10**18 (10,000,000,000 of the
# currency), funds (1e-16 units) at most 10**36 (10**20 of the quote currency): an order's
# fills then total at most 10**18 * 10**18 = 10**36 < 2**120 of quote (or its funds), so its
# ``filled_size``, ``executed_value`` and ``fill_fees`` fit the compiled core's 128-bit C
# fields (``records.pxd``) with room for every sum. Refused with a 400 at entry (and by
# modify), checked when a snapshot is restored, skipped by a market replay; a journal
# holding a larger order stops its replay ("replay diverged ... was refused").
unit_max = 10**18  # the largest price, stop price or size

# Each currency's supply on the venue (deposits, conversions in and settled transfers, less
# withdrawals: ``State.supply``) at most 10**37 in 1e-16 units (10**21 of the currency; the
# same choice). Every balance and hold is part of its currency's supply, so none passes
# 10**37 < 2**124 either: accounts' balances and holds and an order's hold are C 128-bit
# fields in the compiled core, and a trade's sums of two stay below 2**127. Refused with a
# 400 when a deposit, conversion or transfer would pass it, checked at snapshot restore.
supply_max = 10**37
funds_max = 10**36  # the largest funds

# Coinbase's FIX docs: a GTD order's ExpireTime is at most 90 days after it is placed. The
# core holds any GTT order with an absolute ``expire_time`` to it (FIX's GTD is the only way
# to send one; REST's ``cancel_after`` is at most a day).
expire_time_ahead_max = 90 * 86_400 * 1_000_000  # microseconds
