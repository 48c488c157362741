"""``make dev``: serve the API and ``public/`` on one port with the embedded defaults."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from lib.http.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    uvicorn.run(create_app(serve_public=True), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
