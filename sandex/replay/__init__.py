"""Replay of recorded markets as live liquidity (issue 15)."""
