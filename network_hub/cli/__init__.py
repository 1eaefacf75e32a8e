"""The ``network-hub`` command, one module per command group."""
