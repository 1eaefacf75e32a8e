"""Moved to ``network_hub.outlet_checks`` (engine v2: the web dashboard imported ``jobs.health``,
a cycle through the engine's runtime); the service's daily job still calls it from here."""

from network_hub.outlet_checks import BROKEN_VERDICTS, check_all_outlets, check_outlet

__all__ = ["BROKEN_VERDICTS", "check_all_outlets", "check_outlet"]
