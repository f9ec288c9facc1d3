"""Helpers the tests share: venues in process and over loopback, real clients, the crash kit."""
