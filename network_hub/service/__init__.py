"""The composition root: ``network-hub run`` assembles the dispatcher, the maintenance jobs, the
outbox listener, the bot and the web dashboard here (moved out of ``jobs/`` in engine v2, so no
package below imports the one that assembles it)."""

from network_hub.service.runner import Component, Service, run_service

__all__ = ["Component", "Service", "run_service"]
