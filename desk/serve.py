"""Serving the desk with uvicorn: on its own (`intake web`), or beside the scheduler in one
process (`intake run` with `desk.enabled`)."""

from __future__ import annotations

import logging
import secrets
import threading

import uvicorn

from desk.app import create_app
from service.runtime import App

log = logging.getLogger(__name__)


def server(application: App, host: str | None = None, port: int | None = None) -> uvicorn.Server:
    desk = application.settings.desk
    key = desk.secret()
    if key is None:
        log.warning(
            "desk.secret_key not set: a random one for this process (logins end at restart)"
        )
        key = secrets.token_urlsafe(48)
    web = create_app(application, key, https_only=desk.https_only)
    config = uvicorn.Config(
        web, host=host or desk.host, port=port or desk.port, log_level="warning", access_log=False
    )
    return uvicorn.Server(config)


def serve(application: App, host: str | None = None, port: int | None = None) -> None:
    server(application, host, port).run()


def serve_in_background(application: App) -> threading.Thread:
    """The desk in a thread of the service's process (uvicorn leaves signals to the main one)."""
    thread = threading.Thread(target=serve, args=(application,), name="desk", daemon=True)
    thread.start()
    return thread
