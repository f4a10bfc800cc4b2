"""The `intake` command line (`cli.commands`) and the status view it prints (`cli.status`)."""

from cli.commands import app, load_app_from, main

__all__ = ["app", "load_app_from", "main"]
