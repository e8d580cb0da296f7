"""Robotrace: an open platform for robocall traceback, campaigns and enforcement."""

__version__ = "0.1.0"
