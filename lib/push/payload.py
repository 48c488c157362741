"""The JSON a push carries, and the delivery headers, by level (pure).

The service worker (``public/sw.js``) shows ``title`` and ``body`` as they are: the server
writes them in the subscription's language. ``tag`` is the incident (or alert group), so a
newer notification replaces an older one on the device; ``Topic`` does the same for a message
still queued at the push service (RFC 8030 §5.4: at most 32 base64url characters).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from lib.push.keys import b64url_encode
from lib.push.notices import Notice

# Seconds a push service keeps an undelivered message, and how urgently to wake the device.
TTL_S = {"critical": 86_400, "error": 43_200, "warning": 3_600, "info": 600}
URGENCY = {"critical": "high", "error": "high", "warning": "normal", "info": "low"}
LATE_PREFIX = {"en": "[late] ", "ko": "[지연] "}
MAX_BODY_CHARS = 600  # the encrypted record must stay under 4 KiB (RFC 8291 §4)


def url_of(notice: Notice) -> str:
    if notice.incident_id:
        return f"/?incident={notice.incident_id}"
    if notice.alert_id:
        return f"/?alert={notice.alert_id}"
    return "/"


def payload(notice: Notice, lang: str, at_s: float) -> dict[str, Any]:
    """What the service worker receives for ``notice``, in ``lang`` (``ko``/``en``)."""
    title = notice.title.get(lang) or notice.title.get("en", "OpenManager")
    body = notice.body.get(lang) or notice.body.get("en", "")
    if notice.late:
        title = LATE_PREFIX[lang] + title
    return {
        "v": 1,
        "kind": notice.kind,
        "change": notice.change,
        "history": list(notice.history),
        "level": notice.level,
        "lang": lang,
        "title": title,
        "body": body[:MAX_BODY_CHARS],
        "incident_id": notice.incident_id,
        "alert_id": notice.alert_id,
        "server": notice.server,
        "url": url_of(notice),
        "tag": notice.subject,
        "late": notice.late,
        "sent_at": datetime.fromtimestamp(at_s, UTC).isoformat().replace("+00:00", "Z"),
    }


def encoded(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def topic(subject: str) -> str:
    """A stable 32-character base64url ``Topic`` for ``subject`` (any length, any text)."""
    return b64url_encode(hashlib.sha256(subject.encode()).digest()[:24])


def delivery(notice: Notice) -> tuple[int, dict[str, str]]:
    """``(ttl, headers)``: TTL and Urgency by level, Topic by subject."""
    return TTL_S[notice.level], {"Urgency": URGENCY[notice.level], "Topic": topic(notice.subject)}
