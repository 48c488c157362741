"""``make dev``: serve the API and ``public/`` on one port with the embedded defaults.

With no ``ADMIN_TOKEN`` set, a random one is made for this run and printed, so that a fresh
machine can try the operator routes (inject a failure, resolve it) straight away.
"""

from __future__ import annotations

import argparse
import logging
import secrets

import uvicorn

from lib.config import load_settings
from lib.http.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    settings = load_settings()
    if settings.admin_token is None:
        token = f"om_dev_{secrets.token_urlsafe(24)}"
        settings = load_settings(admin_token=token)
        print(f"\n  Admin token for this run: {token}\n  export ADMIN_TOKEN={token}\n")
    print(f"  OpenManager on http://{args.host}:{args.port}  (API docs: /api/docs)\n")
    uvicorn.run(create_app(settings, serve_public=True), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
