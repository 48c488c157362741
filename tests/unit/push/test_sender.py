from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from lib.push.keys import generate
from lib.push.sender import CLAIMS_TTL_S, PushSender, retry_after_s


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("120", 120.0), ("0", 0.0), (None, None), ("", None), ("soon", None)],
)
def test_retry_after_in_seconds(header: str | None, seconds: float | None) -> None:
    assert retry_after_s(header, 1_000.0) == seconds


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()
    header = format_datetime(datetime(2026, 3, 1, 12, 1, 30, tzinfo=UTC), usegmt=True)
    assert retry_after_s(header, now) == 90.0
    assert retry_after_s(header, now + 1_000) == 0.0


def test_every_send_gets_a_fresh_claims_dict_for_the_push_service_origin() -> None:
    sender = PushSender(generate("mailto:ops@example.com"), timeout_s=1.0)
    a = sender.claims("https://fcm.googleapis.com/fcm/send/abc")
    b = sender.claims("https://updates.push.services.mozilla.com/wpush/v2/xyz")
    assert a is not sender.claims("https://fcm.googleapis.com/fcm/send/abc")
    assert a["aud"] == "https://fcm.googleapis.com"
    assert b["aud"] == "https://updates.push.services.mozilla.com"
    assert a["sub"] == "mailto:ops@example.com"
    assert 0 < int(a["exp"]) - datetime.now(UTC).timestamp() <= CLAIMS_TTL_S <= 24 * 3600
