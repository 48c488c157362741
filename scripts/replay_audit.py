"""Write audit entries kept in the logs to the database: the way back after losing the KV.

Run: .venv/bin/python scripts/replay_audit.py [LOG_FILE ...]   (standard input without files)

An audit entry written while the database was down waits in the KV outbox, and its JSON is
logged (``openmanager.audit``, "audit entry queued: {...}") in case the KV loses it. Feed
this script the logs of that time (``vercel logs`` output, or any plain-text export); it
writes every entry it finds to the configured database (the app's settings: ``SUPABASE_*``
or ``SQLITE_PATH``). Entries are keyed by id, so replaying what the outbox already delivered
changes nothing. Lines it cannot read are named on stderr; the exit status is 1 if any were.
"""

from __future__ import annotations

import fileinput
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.config import Settings  # noqa: E402
from lib.http.audit import queued_entries  # noqa: E402
from lib.store.factory import open_repository  # noqa: E402


def main(argv: list[str]) -> int:
    with fileinput.input(argv, encoding="utf-8") as lines:
        entries, unreadable = queued_entries(lines)
    for number in unreadable:
        print(f"line {number}: an audit entry that is not valid JSON, skipped", file=sys.stderr)
    if entries:
        open_repository(Settings()).insert_audit_entries(entries)
    print(f"{len(entries)} audit entries written (already present ones unchanged)")
    return 1 if unreadable else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
