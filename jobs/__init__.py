"""The jobs: dispatch, sweeps, reconciliation, reminders, health checks, heartbeat, and the
``network-hub run`` service that ticks them with APScheduler (which holds no durable state)."""
