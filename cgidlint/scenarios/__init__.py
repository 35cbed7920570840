"""Scenarios: reproduce AH01257 with real httpd and prove the fix (needs the [scenarios] extra)."""
