"""Administration: profiles, keys, funds, products and fees, online or on a stopped data dir."""
