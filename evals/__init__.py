"""Isnad's evaluation suite: fixed question sets, external benchmark adapters, metrics,
baselines and reports. Drives `qa` from the side; nothing below imports it."""
