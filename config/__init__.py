"""Settings of the hub: every ``HUB_`` environment variable, read once at start-up."""

from config.settings import Settings, SettingsError, load_settings

__all__ = ["Settings", "SettingsError", "load_settings"]
