"""Viva: a real-time AI interview server."""

__version__ = "0.1.0"
