"""The server-sent events wire format (``lib/http/sse.py``)."""

from __future__ import annotations

import math

import pytest

from lib.http import sse


def test_an_event_is_one_block_of_fields() -> None:
    wire = sse.encode("snapshot", {"bucket": 7, "name": "웹"}, id="7:5")
    assert wire == 'event: snapshot\ndata: {"bucket":7,"name":"웹"}\nid: 7:5\n\n'.encode()


def test_comments_and_retry_hints() -> None:
    assert sse.comment("hb") == b": hb\n\n"
    assert sse.retry(1500) == b"retry: 1500\n\n"
    assert sse.retry(1500, "bye") == b": bye\nretry: 1500\n\n"


def test_nan_never_reaches_a_client() -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        sse.encode("snapshot", {"value": math.nan})
