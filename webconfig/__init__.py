"""The phone page for emotune: a small Flask app behind a PIN, served by waitress."""

from webconfig.app import create_app

__all__ = ["create_app"]
