"""Tambon PR Hub: the server of a village/tambon public-relations volunteer network."""

__version__ = "0.2.0"
