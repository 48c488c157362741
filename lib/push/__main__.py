"""``python -m lib.push keys``: make a VAPID key pair and print the variables to set."""

from __future__ import annotations

import argparse
import sys

from lib.push.keys import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.push", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    keys = commands.add_parser("keys", help="generate a VAPID key pair")
    keys.add_argument("--subject", default="mailto:ops@example.com", help="VAPID_SUBJECT to print")
    args = parser.parse_args(argv)
    pair = generate(args.subject)
    sys.stdout.write(
        "# Web Push (VAPID) keys: set these in .env or the Vercel project.\n"
        "# Keep the private key secret; browsers subscribe with the public one.\n"
        f"VAPID_PRIVATE_KEY={pair.private_key}\n"
        f"VAPID_PUBLIC_KEY={pair.public_key}\n"
        f"VAPID_SUBJECT={pair.subject}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
