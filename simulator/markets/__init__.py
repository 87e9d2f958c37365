"""Quota markets: energy-use rights (用能权) and emission rights (排污权)."""
