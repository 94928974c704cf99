"""Delivery: sending messages through the Bot API, pacing and error handling (SPEC §4)."""
