import numpy as np
import pytest

from lib.alerts import AlertBook, AlertParams, AlertState, acknowledge, resolve_manually, step_many
from lib.errors import Conflict, NotFound

P = AlertParams(enter_score=0.7, exit_score=0.4, for_buckets=2, clear_buckets=3)


def firing(n_buckets=2):
    """One series that has been hot for ``n_buckets`` buckets from bucket 0."""
    book, _ = step_many(
        AlertBook.empty(1), np.full((n_buckets, 1), 0.9), np.zeros((n_buckets, 1), np.int8), 0, P
    )
    return book


def test_acknowledged_alerts_escalate_without_changing_state_and_still_resolve():
    book = firing(2)
    book, (ack,) = acknowledge(book, 0, 2)
    assert ack.kind == "acknowledged"
    assert acknowledge(book, 0, 3) == (book, [])
    book, found = step_many(
        book, np.array([[0.9], [0.1], [0.1], [0.1]]), np.array([[2], [0], [0], [0]]), 3, P
    )
    assert [(t.kind, t.from_state, t.to_state) for t in found] == [
        ("escalated", AlertState.ACKNOWLEDGED, AlertState.ACKNOWLEDGED),
        ("resolved", AlertState.ACKNOWLEDGED, AlertState.RESOLVED),
    ]


def test_manual_resolution_requires_an_open_alert_and_is_idempotent():
    pending = firing(1)
    with pytest.raises(Conflict):
        resolve_manually(pending, 0, 1)
    with pytest.raises(NotFound):
        acknowledge(pending, 5, 1)
    book = firing(2)
    book, (done,) = resolve_manually(book, 0, 2)
    assert done.kind == "resolved"
    assert book.hot_run[0] == 0
    assert resolve_manually(book, 0, 3) == (book, [])
    # Still hot: it must qualify afresh, with a new fired bucket (a new alert id).
    book, found = step_many(book, np.array([[0.9], [0.9]]), np.zeros((2, 1), np.int8), 3, P)
    assert [(t.kind, t.fired_bucket) for t in found] == [("pending", -1), ("fired", 4)]
