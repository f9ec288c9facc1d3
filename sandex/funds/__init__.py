"""The simulated outside world that funds come from and go to (see docs/scenario.md,
"Funds"): payment methods, Coinbase wallets, crypto networks, withdrawal fees and settlement
delays, as the scenario configures them, and the deterministic deposit addresses and
transaction hashes. Configuration, not state: read from the scenario at every start; every
decision it feeds is carried by the journaled command it goes into."""

from sandex.funds.config import (
    DEFAULT_PAYMENT_METHOD_ID,
    FundsConfig,
    PaymentMethod,
    Wallet,
    funds_config,
    funds_of,
)
from sandex.funds.world import DepositAddress, deposit_address, find_address, tx_hash

__all__ = ["DEFAULT_PAYMENT_METHOD_ID", "DepositAddress", "FundsConfig", "PaymentMethod",
           "Wallet", "deposit_address", "find_address", "funds_config", "funds_of", "tx_hash"]
