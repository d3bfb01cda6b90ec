"""acme's release browser on the command line."""

__version__ = "2.0.1"
