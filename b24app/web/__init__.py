"""The web edge: ``create_app()`` builds the Flask app; nothing happens at import time."""

from b24app.web.app import create_app

__all__ = ["create_app"]
