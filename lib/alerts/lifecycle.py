"""Alert transitions of every series from one bucket's (or many buckets') observations.

Lifecycle of a series' alert (the level rules are in ``lib.alerts.levels``)::

    INACTIVE or RESOLVED ──hot──► PENDING ──hot for_buckets in a row──► FIRING ──ack──► ACKNOWLEDGED
            ▲                        │ not hot                            │                  │
            └────────────────────────┘ (to INACTIVE)        cool clear_buckets in a row (either)
                                                                          └──► RESOLVED ◄────┘

With ``for_buckets == 1`` a hot bucket fires at once. The ``for_buckets``-th consecutive hot
bucket fires (counting the first). Any bucket that is not hot cancels a pending alert. An
open alert (firing or acknowledged) resolves on the ``clear_buckets``-th consecutive cool
bucket; buckets in the hysteresis gap (neither hot nor cool) hold it open and restart the
count. Operators acknowledge and resolve by hand through ``lib.alerts.operator``.

``step_many`` computes all buckets of a window at once, vectorised over buckets and series:
the hot, cool and critical runs are run lengths; "open" is a set/reset latch (fire sets,
clear resets; the two never coincide because hot and cool exclude each other); and the
level is a running maximum within each episode. ``step`` is ``step_many`` over one bucket,
and stepping bucket by bucket gives exactly the same book and transitions as one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from lib.alerts.book import OPEN_STATES, AlertBook, AlertState
from lib.alerts.levels import DETECTOR_CRITICAL, DETECTOR_WARNING, NO_LEVEL, Level, observed_levels
from lib.errors import Conflict, ValidationError

# Bound on cells per vectorised chunk of step_many, so a day of catch-up fits in memory.
_CHUNK_CELLS = 1 << 20
_RUN_CAP = np.iinfo(np.int32).max
# Enum members by code: building thousands of transitions should not call Enum() each time.
_STATES = tuple(AlertState)
_LEVELS = (None, *Level)

TransitionKind = Literal["pending", "cancelled", "fired", "escalated", "acknowledged", "resolved"]


@dataclass(frozen=True)
class AlertParams:
    """Entry and exit rules; scores in [0, 1], durations in buckets."""

    enter_score: float = 0.7
    exit_score: float = 0.4
    for_buckets: int = 2
    clear_buckets: int = 5
    critical_after_buckets: int = 20

    def __post_init__(self) -> None:
        if not 0.0 <= self.exit_score < self.enter_score <= 1.0:
            raise ValidationError(
                "need 0 <= exit_score < enter_score <= 1, got "
                f"exit={self.exit_score} enter={self.enter_score}",
                field="exit_score",
            )
        for name in ("for_buckets", "clear_buckets", "critical_after_buckets"):
            if getattr(self, name) < 1:
                raise ValidationError(f"{name} must be >= 1", field=name)


DEFAULT_PARAMS = AlertParams()


@dataclass(frozen=True)
class Transition:
    """One series changing state, or escalating while open (``from_state == to_state``).

    ``score`` is the series' score in that bucket (the peak score for an operator's
    acknowledgement or manual resolution); ``level``, ``started_bucket`` and ``fired_bucket``
    describe the alert concerned (for a cancelled pending alert, the one that lapsed).
    """

    series: int
    from_state: AlertState
    to_state: AlertState
    level: Level
    bucket: int
    score: float
    started_bucket: int
    fired_bucket: int

    @property
    def kind(self) -> TransitionKind:
        if self.to_state == self.from_state:
            return "escalated"
        return _KINDS[self.to_state] if self.to_state != AlertState.INACTIVE else "cancelled"


_KINDS: dict[AlertState, TransitionKind] = {
    AlertState.PENDING: "pending",
    AlertState.FIRING: "fired",
    AlertState.ACKNOWLEDGED: "acknowledged",
    AlertState.RESOLVED: "resolved",
}


def _observations(
    book: AlertBook,
    scores: npt.ArrayLike,
    levels: npt.ArrayLike,
    offline: npt.ArrayLike | None,
    recovery_failed: npt.ArrayLike | None,
) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.int8], npt.NDArray[np.bool_], npt.NDArray[np.bool_]
]:
    sc = np.asarray(scores, dtype=np.float64)
    if sc.ndim != 2 or sc.shape[1] != book.n_series:
        raise ValidationError(
            f"scores must be [bucket, {book.n_series}], got {sc.shape}", field="scores"
        )
    if not np.isfinite(sc).all():
        raise ValidationError("scores hold NaN or infinite values", field="scores")
    lv = np.asarray(levels)
    if lv.shape != sc.shape or (lv.size and (lv.min() < 0 or lv.max() > DETECTOR_CRITICAL)):
        raise ValidationError(
            f"levels must be detector levels 0..2 shaped {sc.shape}", field="levels"
        )
    flags = []
    for name, flag in (("offline", offline), ("recovery_failed", recovery_failed)):
        arr = np.zeros(sc.shape, dtype=np.bool_) if flag is None else np.asarray(flag, bool)
        if arr.shape != sc.shape:
            raise ValidationError(f"{name} must be shaped {sc.shape}", field=name)
        flags.append(arr)
    return np.clip(sc, 0.0, 1.0), lv.astype(np.int8), flags[0], flags[1]


def _runs(cond: npt.NDArray[np.bool_], before: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
    """Consecutive true values up to each row, continuing the run ``before`` the window."""
    t = np.arange(cond.shape[0])[:, None]
    last_false = np.maximum.accumulate(np.where(cond, -1 - before.astype(np.int64), t), axis=0)
    return np.minimum(t - last_false, _RUN_CAP)


def _last_row(cond: npt.NDArray[np.bool_], initial: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Index of the last true row at or before each row, or ``initial`` when none is."""
    rows = np.arange(cond.shape[0])[:, None]
    return np.maximum.accumulate(np.where(cond, rows, initial), axis=0)


def _with_book_row(book_row: npt.ArrayLike, rows: npt.NDArray) -> npt.NDArray:
    return np.concatenate([np.asarray(book_row, dtype=rows.dtype)[None], rows])


def _step_chunk(
    book: AlertBook,
    sc: npt.NDArray[np.float64],
    lv: npt.NDArray[np.int8],
    offline: npt.NDArray[np.bool_],
    failed: npt.NDArray[np.bool_],
    b0: int,
    params: AlertParams,
) -> tuple[AlertBook, list[Transition]]:
    # Padded arrays have T + 1 rows: row 0 is the book, row r is bucket b0 + r - 1.
    n_rows, n_series = sc.shape[0] + 1, sc.shape[1]
    hot = (lv >= DETECTOR_WARNING) | (sc >= params.enter_score)
    cool = (lv == 0) & (sc < params.exit_score) & ~offline
    hot_run = _runs(hot, book.hot_run)
    cool_run = _runs(cool, book.cool_run)
    critical_run = _runs(lv >= DETECTOR_CRITICAL, book.critical_run)
    observed = observed_levels(
        hot, lv, critical_run, offline, failed, params.critical_after_buckets
    )

    was_open = np.isin(book.state, OPEN_STATES)
    was_active = was_open | (book.state == AlertState.PENDING)
    fired_at = _last_row(_with_book_row(was_open, hot_run >= params.for_buckets), -1)
    cleared_at = _last_row(_with_book_row(~was_open, cool_run >= params.clear_buckets), -1)
    is_open = fired_at > cleared_at
    active = is_open | _with_book_row(was_active, hot)
    rows = np.arange(n_rows)[:, None]

    # The last active row (or the book row) tells how an idle series got idle: after an open
    # alert it is RESOLVED, after a lapsed pending one INACTIVE.
    carrier = _last_row(active | (rows == 0), 0)
    after_open = _with_book_row(book.state >= AlertState.FIRING, is_open[1:])
    resolved = np.take_along_axis(after_open, carrier, axis=0)
    acked = (book.state == AlertState.ACKNOWLEDGED) & (cleared_at <= 0)
    state = np.select(
        [is_open & acked, is_open, active, resolved],
        [AlertState.ACKNOWLEDGED, AlertState.FIRING, AlertState.PENDING, AlertState.RESOLVED],
        AlertState.INACTIVE,
    ).astype(np.int8)
    state[0] = book.state
    keep = state == AlertState.RESOLVED

    def settle(value_active: npt.NDArray, book_value: npt.NDArray, idle: int) -> npt.NDArray:
        """Active rows take their value, resolved rows keep their alert's, inactive ``idle``."""
        src = np.where(active, value_active, idle)
        src[0] = book_value
        carried = np.take_along_axis(src, carrier, axis=0)
        out = np.where(active, value_active, np.where(keep, carried, idle))
        out[0] = book_value
        return out

    previous = np.vstack([active[:1], active[:-1]])
    episode = _last_row(active & ~previous | (rows == 0) & active, 0)
    first_obs = _with_book_row(np.where(was_active, book.level, NO_LEVEL), observed)
    level_active = sum((_last_row(first_obs >= k, -1) >= episode).astype(np.int8) for k in Level)
    level = settle(level_active, book.level, NO_LEVEL)

    started = settle(
        np.where(episode == 0, book.started_bucket, b0 - 1 + episode), book.started_bucket, -1
    )
    opened = is_open & ~np.vstack([is_open[:1], is_open[:-1]]) | (rows == 0) & is_open
    fire_row = _last_row(opened, -1)
    fired_active = np.where(
        is_open, np.where(fire_row == 0, book.fired_bucket, b0 - 1 + fire_row), -1
    )
    fired = settle(fired_active, book.fired_bucket, -1)

    changed_row = _last_row(state != np.vstack([state[:1], state[:-1]]), 0)
    since = np.where(changed_row == 0, book.since_bucket, b0 - 1 + changed_row)

    last = n_rows - 1
    series = np.arange(n_series)
    top = np.where(active[last], last, carrier[last])
    bottom = episode[top, series]
    padded_scores = _with_book_row(book.peak_score, sc.astype(np.float32))
    in_episode = (rows >= bottom) & (rows <= top)
    peak = np.where(in_episode, padded_scores, np.float32(0)).max(axis=0)
    peak = np.where(state[last] == AlertState.INACTIVE, np.float32(0), peak)

    new_book = AlertBook(
        bucket=b0 + last - 1,
        state=state[last],
        level=level[last],
        since_bucket=since[last],
        started_bucket=started[last],
        fired_bucket=fired[last],
        hot_run=hot_run[-1],
        cool_run=cool_run[-1],
        critical_run=critical_run[-1],
        peak_score=peak,
    )

    escalated = (state[1:] == state[:-1]) & is_open[1:] & (level[1:] > level[:-1])
    t_idx, s_idx = np.nonzero((state[1:] != state[:-1]) | escalated)
    row = t_idx + 1
    to_state = state[row, s_idx]
    # A lapsed pending alert is described by the row before it lapsed.
    src = row - (to_state == AlertState.INACTIVE)
    columns = zip(
        s_idx.tolist(),
        state[row - 1, s_idx].tolist(),
        to_state.tolist(),
        level[src, s_idx].tolist(),
        (b0 - 1 + row).tolist(),
        sc[t_idx, s_idx].tolist(),
        started[src, s_idx].tolist(),
        fired[src, s_idx].tolist(),
        strict=True,
    )
    transitions = [
        Transition(s, _STATES[a], _STATES[b], _LEVELS[lvl], bucket, score, start, fire)
        for s, a, b, lvl, bucket, score, start, fire in columns
    ]
    return new_book, transitions


def step_many(
    book: AlertBook,
    scores: npt.ArrayLike,
    levels: npt.ArrayLike,
    b0: int,
    params: AlertParams = DEFAULT_PARAMS,
    *,
    offline: npt.ArrayLike | None = None,
    recovery_failed: npt.ArrayLike | None = None,
) -> tuple[AlertBook, list[Transition]]:
    """Advance the book over buckets ``b0 .. b0 + T - 1``.

    Parameters
    ----------
    book : AlertBook
        State after some bucket earlier than ``b0``.
    scores : float[T, S]
        Anomaly score of every series in every bucket, in [0, 1] (clipped).
    levels : int8[T, S]
        Detector level (0 none, 1 warning, 2 critical).
    b0 : int
        Bucket of the first row.
    params : AlertParams
        Entry and exit rules.
    offline : bool[T, S], optional
        The series' server is offline (its alerts become critical and cannot clear).
    recovery_failed : bool[T, S], optional
        The automatic recovery of the series' incident failed in that bucket.

    Returns
    -------
    (AlertBook, list of Transition)
        The book after bucket ``b0 + T - 1`` and the transitions in (bucket, series) order.

    Raises
    ------
    Conflict
        ``b0`` is not after ``book.bucket`` (a bucket is processed once).
    """
    if b0 <= book.bucket:
        raise Conflict(
            f"bucket {b0} is not after the alert book's last bucket {book.bucket}",
            bucket=b0,
            last_bucket=book.bucket,
        )
    sc, lv, off, failed = _observations(book, scores, levels, offline, recovery_failed)
    rows_per_chunk = max(1, _CHUNK_CELLS // max(book.n_series, 1))
    transitions: list[Transition] = []
    for lo in range(0, sc.shape[0], rows_per_chunk):
        hi = lo + rows_per_chunk
        book, found = _step_chunk(
            book, sc[lo:hi], lv[lo:hi], off[lo:hi], failed[lo:hi], b0 + lo, params
        )
        transitions.extend(found)
    return book, transitions


def step(
    book: AlertBook,
    scores: npt.ArrayLike,
    levels: npt.ArrayLike,
    bucket: int,
    params: AlertParams = DEFAULT_PARAMS,
    *,
    offline: npt.ArrayLike | None = None,
    recovery_failed: npt.ArrayLike | None = None,
) -> tuple[AlertBook, list[Transition]]:
    """Advance the book by one bucket: ``scores`` float[S], ``levels`` int8[S].

    Exactly ``step_many`` over one bucket; the flags are ``bool[S]``.
    """

    def row(x: npt.ArrayLike | None) -> npt.ArrayLike | None:
        return None if x is None else np.asarray(x)[None]

    return step_many(
        book,
        row(scores),  # type: ignore[arg-type]
        row(levels),  # type: ignore[arg-type]
        bucket,
        params,
        offline=row(offline),
        recovery_failed=row(recovery_failed),
    )
