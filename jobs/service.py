"""Moved to ``network_hub.service`` (engine v2); kept so ``from jobs.service import Service`` in
older scripts and benches keeps working."""

from network_hub.service.runner import Component, Service, run_service

__all__ = ["Component", "Service", "run_service"]
