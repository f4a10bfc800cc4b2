"""The `intake` command line: commands declared in `cli.commands` (accounts in `cli.users`), the
set-up every command shares in `cli.loading`, the status view in `cli.status`."""

from cli.commands import app, main
from cli.loading import load_app_from

__all__ = ["app", "load_app_from", "main"]
