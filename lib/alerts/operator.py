"""What operators do to an alert: acknowledge it, or resolve it by hand.

Acknowledging keeps the alert open (it still escalates in the book and still resolves by
itself) but its escalations are not notified again. Resolving by hand closes it and resets
the series' runs, so a series that is still hot must qualify afresh — and fires as a new
alert with a new id. Both are idempotent, so racing requests agree.
"""

from __future__ import annotations

from dataclasses import replace

from lib.alerts.book import OPEN_STATES, AlertBook, AlertState
from lib.alerts.levels import Level
from lib.alerts.lifecycle import Transition
from lib.errors import Conflict, NotFound


def _operator_change(
    book: AlertBook, series: int, bucket: int, to_state: AlertState, **fields: int
) -> tuple[AlertBook, list[Transition]]:
    if not 0 <= series < book.n_series:
        raise NotFound(f"no alert series {series}", series=series)
    from_state = AlertState(int(book.state[series]))
    if from_state == to_state:
        return book, []
    if from_state not in OPEN_STATES:
        raise Conflict(
            f"series {series} has no open alert (state {from_state.label})",
            series=series,
            state=from_state.label,
        )
    changes = {"state": to_state, "since_bucket": bucket, **fields}
    arrays = {}
    for name, value in changes.items():
        arr = getattr(book, name).copy()
        arr[series] = value
        arrays[name] = arr
    transition = Transition(
        series=series,
        from_state=from_state,
        to_state=to_state,
        level=Level(int(book.level[series])),
        bucket=bucket,
        score=float(book.peak_score[series]),
        started_bucket=int(book.started_bucket[series]),
        fired_bucket=int(book.fired_bucket[series]),
    )
    return replace(book, **arrays), [transition]


def acknowledge(book: AlertBook, series: int, bucket: int) -> tuple[AlertBook, list[Transition]]:
    """An operator acknowledges a firing alert: it stays open, its escalations go silent.

    Acknowledging an acknowledged alert changes nothing (no transition), so racing requests
    agree. Raises ``NotFound`` for an unknown series, ``Conflict`` when no alert is open.
    """
    return _operator_change(book, series, bucket, AlertState.ACKNOWLEDGED)


def resolve_manually(
    book: AlertBook, series: int, bucket: int
) -> tuple[AlertBook, list[Transition]]:
    """An operator resolves an open alert; the series must then qualify afresh to fire again.

    Resolving a resolved alert changes nothing. Raises ``NotFound`` for an unknown series,
    ``Conflict`` when the series is inactive or only pending.
    """
    return _operator_change(
        book, series, bucket, AlertState.RESOLVED, hot_run=0, cool_run=0, critical_run=0
    )
