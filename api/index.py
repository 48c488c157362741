"""Vercel's entrypoint: every ``/api/*`` request is rewritten here (see vercel.json)."""

from lib.http.app import create_app

app = create_app()
