"""orchestrate: a monorepo build orchestrator for conda packages."""

__version__ = "0.1.0"
