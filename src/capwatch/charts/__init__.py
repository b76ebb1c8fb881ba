"""Charts (matplotlib, Agg): the cycle chart and the history of cycles, PNG or SVG."""
