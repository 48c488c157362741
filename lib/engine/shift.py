"""Small sustained shifts: a robust CUSUM per server and watched quantity.

The adaptive detector (``lib.detect``) judges a value against the extremes a series reached
over the last day, so a mild failure (an error rate from 0.2 % to 1.5 %) that stays inside a
day's range never alerts, though it lies many times the server's minute-to-minute variation
beyond its recent level and stays there. This detector looks for exactly that:

- **Watched quantities.** Health metrics that no routine work moves (error rate, packet loss,
  network latency) as they are, and load metrics as their ratio to the server's traffic
  (outbound bandwidth and connections per request, in logs): load that follows traffic is
  healthy, so a traffic surge or a failover moves neither ratio while an intruder's egress
  or a bypassed cache does. CPU, memory, disk and the response time are left out: batch jobs
  and log rotation move them, and slow climbs are the trend watch's (``lib.engine.trends``).
- **Baseline.** A robust EW mean and mean absolute deviation of each quantity (residuals
  clipped at ``winsor`` spreads), frozen while an alarm holds so that a failure does not
  become the norm; the spread never goes below the quantity's ``floor``, so a very quiet
  series does not alarm on a trivial change.
- **CUSUM.** ``S ← clip(S + min(z, clip) − reference, 0, threshold)`` with ``z`` the
  residual in spreads (upward only: a falling error rate is no failure). A shift of ``z``
  spreads alarms after about ``threshold / (min(z, clip) − reference)`` samples; noise,
  whose ``z`` is below ``reference`` on average, drains ``S``; a blip of a sample or two (a
  deploy's restart) adds at most ``2 × (clip − reference)``, below ``threshold``. The alarm
  holds until ``S`` falls below half the threshold.

Pure and vectorised across servers (the loop runs over rows only); the state after any row
is a small float64 array, and scoring a window in several calls, passing the state along,
gives bit for bit what one call gives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lib.errors import ValidationError
from lib.sim import METRIC_INDEX, METRICS

__all__ = [
    "DEFAULT_SHIFT",
    "WATCHED",
    "ShiftParams",
    "ShiftScores",
    "ShiftState",
    "Watch",
    "shift_scores",
]

F64 = npt.NDArray[np.float64]

ALARM_SCORE = 0.75
"""Score of an alarmed series: a warning that counts toward an alert (``ALERT_SCORE`` 0.7)."""
BELOW_ALARM = 0.6
"""Highest score of a series not alarmed: never hot, so the CUSUM alone decides."""
MAD_TO_SIGMA = math.sqrt(math.pi / 2)
"""A normal variable's standard deviation over its mean absolute deviation."""


@dataclass(frozen=True)
class Watch:
    """One watched quantity: ``log(metric + offset) − log(per + 1)`` if ``per``, ``log(metric
    + offset)`` if ``log``, else the metric itself; ``floor`` is its smallest spread."""

    metric: str
    per: str | None = None
    log: bool = False
    offset: float = 1.0
    floor: float = 0.02


WATCHED: tuple[Watch, ...] = (
    Watch("error_pct", floor=0.1),
    Watch("packet_loss_pct", floor=0.1),
    Watch("net_latency_ms", log=True, floor=0.1),
    Watch("net_out_mbps", per="rps", log=True, offset=0.1, floor=0.05),
    Watch("connections", per="rps", log=True, floor=0.05),
)


@dataclass(frozen=True)
class ShiftParams:
    """Hyperparameters, per sample; tuned on the in-sample seeds of ``bench_diagnose``."""

    rate: float = 1 / 300
    """EW rate of the baseline and its spread (about 15 minutes at 3 s)."""
    winsor: float = 3.0
    """Residuals are clipped at this many spreads before they teach the baseline."""
    clip: float = 6.0
    """Residuals are clipped at this many spreads before they enter the CUSUM."""
    reference: float = 1.5
    """Spreads subtracted from each residual: the drift noise alone cannot sustain."""
    threshold: float = 12.0
    """CUSUM level that raises the alarm."""
    warmup: int = 200
    """Samples learned before the CUSUM runs."""
    traffic_decay: float = 0.0005
    """How fast the remembered traffic peak decays, in log units per sample (3 % a minute)."""

    def __post_init__(self) -> None:
        checks = (
            ("rate", 0.0 < self.rate <= 0.5, "in (0, 0.5]"),
            ("winsor", self.winsor > 0.0, "> 0"),
            ("clip", self.clip > self.reference, "> reference"),
            ("reference", self.reference >= 0.0, ">= 0"),
            ("threshold", self.threshold > 2 * (self.clip - self.reference), "> 2 (clip - ref)"),
            ("warmup", self.warmup >= 1, ">= 1"),
            ("traffic_decay", self.traffic_decay >= 0.0, ">= 0"),
        )
        for name, ok, rule in checks:
            if not ok or not math.isfinite(getattr(self, name)):
                raise ValidationError(
                    f"shift parameter {name} must be {rule}, got {getattr(self, name)!r}",
                    field=name,
                )


DEFAULT_SHIFT = ShiftParams()

# Columns of a state row.
N_SEEN, MEAN, SPREAD, CUSUM, ALARM, TRAFFIC = range(6)
WIDTH = 6


@dataclass(frozen=True)
class ShiftState:
    """State of every watched quantity: float64[server × len(WATCHED), WIDTH]. Immutable."""

    data: F64

    @classmethod
    def fresh(cls, n_servers: int) -> ShiftState:
        return cls(np.zeros((n_servers * len(WATCHED), WIDTH)))

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes)


def quantities(values: F64, n_servers: int) -> tuple[F64, F64]:
    """The watched quantities of float[T, server × metric], float64[T, server × len(WATCHED)]:
    the logged numerators (or the values) and the logged traffic they are taken per (NaN
    where a quantity is not a ratio)."""
    x = np.asarray(values, dtype=np.float64).reshape(values.shape[0], n_servers, len(METRICS))
    num = np.empty((x.shape[0], n_servers, len(WATCHED)))
    per = np.full_like(num, np.nan)
    for k, w in enumerate(WATCHED):
        q = x[:, :, METRIC_INDEX[w.metric]]
        num[:, :, k] = np.log(np.maximum(q, 0.0) + w.offset) if w.log or w.per else q
        if w.per is not None:
            per[:, :, k] = np.log(np.maximum(x[:, :, METRIC_INDEX[w.per]], 0.0) + 1.0)
    return num.reshape(x.shape[0], -1), per.reshape(x.shape[0], -1)


@dataclass(frozen=True)
class ShiftScores:
    """What ``shift_scores`` returns. ``score`` and ``limit`` are float64[T, server × metric]:
    the score (0 on metrics not watched) and the value above which a sample pushes the CUSUM
    up (NaN on metrics not watched and while warming up); ``state`` follows the last row."""

    score: F64
    limit: F64
    state: ShiftState


def shift_scores(
    values: F64, n_servers: int, state: ShiftState | None, params: ShiftParams = DEFAULT_SHIFT
) -> ShiftScores:
    """Score ``values`` (float[T, server × metric]) from ``state`` (default: nothing seen).
    Row ``i`` uses rows ``<= i`` only."""
    if values.ndim != 2 or values.shape[1] != n_servers * len(METRICS):
        raise ValidationError(
            f"values must be float[T, {n_servers * len(METRICS)}], got {values.shape}",
            field="values",
        )
    st = (state or ShiftState.fresh(n_servers)).data.copy()
    if st.shape != (n_servers * len(WATCHED), WIDTH):
        raise ValidationError("shift state does not fit the fleet", field="state")
    num, per = quantities(values, n_servers)
    n_rows = num.shape[0]
    ratio = np.isfinite(per[0]) if n_rows else np.zeros(st.shape[0], dtype=bool)
    per = np.where(ratio, per, 0.0)
    p = params
    # The baseline learns the quantity; the test sees it per the recent peak of the traffic
    # if that is lower: a restart's dip in requests is no rise in load.
    peak = np.empty_like(num)
    last = st[:, TRAFFIC]
    for t in range(n_rows):
        last = np.fmax(per[t], last - p.traffic_decay, out=peak[t])
    x = num - per
    tested = np.where(ratio, np.minimum(x, num - peak), x)
    floor = np.tile([w.floor for w in WATCHED], n_servers)
    n = int(st[0, N_SEEN]) if st.size else 0  # every series has seen as many samples
    mean, spread, cusum = (st[:, c].copy() for c in (MEAN, SPREAD, CUSUM))
    alarm = st[:, ALARM] > 0
    cusums = np.empty_like(num)
    alarms = np.empty(num.shape, dtype=bool)
    limits = np.full_like(num, np.nan)
    # Scalars as arrays and buffers reused: a row costs a few microseconds of numpy calls.
    zero, top, clip = (np.full_like(mean, v) for v in (0.0, p.threshold, p.clip))
    sigma, z, step, radius, gain = (np.empty_like(mean) for _ in range(5))
    for t in range(n_rows):
        if n == 0:
            mean[:] = x[t]
        # While warming up, plain running means of everything seen; then robust EW ones.
        rate = max(p.rate, 1.0 / (n + 1.0))
        np.subtract(x[t], mean, out=step)
        if n >= p.warmup:
            np.multiply(spread, MAD_TO_SIGMA, out=sigma)
            np.maximum(sigma, floor, out=sigma)
            np.multiply(sigma, p.reference, out=limits[t])
            limits[t] += mean
            np.subtract(tested[t], mean, out=z)
            np.divide(z, sigma, out=z)
            np.minimum(z, clip, out=z)
            z -= p.reference
            cusum += z
            np.maximum(cusum, zero, out=cusum)
            np.minimum(cusum, top, out=cusum)
            alarm = (cusum >= p.threshold) | (alarm & (cusum >= p.threshold / 2))
            np.multiply(sigma, p.winsor, out=radius)
            np.minimum(step, radius, out=step)
            np.negative(radius, out=radius)
            np.maximum(step, radius, out=step)
        np.multiply(~alarm, rate, out=gain)
        np.multiply(step, gain, out=z)
        mean += z
        np.abs(step, out=step)
        step -= spread
        step *= gain
        spread += step
        n += 1
        cusums[t] = cusum
        alarms[t] = alarm
    if n_rows:
        st[:, N_SEEN] = n
        st[:, MEAN], st[:, SPREAD], st[:, CUSUM] = mean, spread, cusum
        st[:, ALARM], st[:, TRAFFIC] = alarm, peak[-1]
    scores = np.where(alarms, ALARM_SCORE, BELOW_ALARM * cusums / p.threshold)
    # The limit back in the metric's units: a ratio's per the traffic it is tested against.
    limits += np.maximum(per, peak)
    logged = np.tile([w.log or w.per is not None for w in WATCHED], n_servers)
    offset = np.tile([w.offset for w in WATCHED], n_servers)
    limits = np.where(logged, np.exp(limits) - offset, limits)
    columns = [METRIC_INDEX[w.metric] for w in WATCHED]
    score_out = np.zeros((n_rows, n_servers, len(METRICS)))
    limit_out = np.full_like(score_out, np.nan)
    score_out[:, :, columns] = scores.reshape(n_rows, n_servers, len(WATCHED))
    limit_out[:, :, columns] = limits.reshape(n_rows, n_servers, len(WATCHED))
    return ShiftScores(score_out.reshape(n_rows, -1), limit_out.reshape(n_rows, -1), ShiftState(st))
