"""sandex: a self-hosted trading venue that speaks the Coinbase Exchange API."""

__version__ = "0.1.0"
