"""The shift detector finds small sustained shifts, stays quiet on noise and on load that
follows traffic, and resumes bit for bit from its state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lib.config import DEFAULT_EPOCH_S
from lib.engine import shift
from lib.engine.detection import AdaptiveScorer, alert_levels, detect
from lib.engine.shift import ALARM_SCORE, DEFAULT_SHIFT, ShiftParams, ShiftState, shift_scores
from lib.errors import ValidationError
from lib.sim import METRIC_INDEX, METRICS, Incident, Overrides, build_fleet, window
from tests.unit.test_purity import imported_names

N_METRICS = len(METRICS)
LEVELS = {
    "cpu_pct": 40.0, "memory_pct": 60.0, "disk_pct": 50.0, "net_in_mbps": 30.0,
    "net_out_mbps": 40.0, "net_latency_ms": 1.0, "packet_loss_pct": 0.2, "response_ms": 200.0,
    "rps": 300.0, "error_pct": 0.2, "load1": 2.0, "connections": 150.0,
}  # fmt: skip
WARM = 600
"""Rows before anything changes: as much as the engine's windows learn before scoring."""


def healthy(rows: int, n_servers: int = 2, seed: int = 1) -> np.ndarray:
    """float64[T, server × metric]: steady servers with a few percent of smooth noise."""
    rng = np.random.default_rng(seed)
    # Noise that moves over ~10 samples, like the simulator's knots.
    noise = np.cumsum(rng.normal(0.0, 1.0, (rows + 10, n_servers, N_METRICS)), axis=0)
    noise = (noise[10:] - noise[:-10]) / np.sqrt(10)
    level = np.array([LEVELS[m] for m in METRICS])
    x = level * (1 + 0.03 * noise)
    rps = x[:, :, METRIC_INDEX["rps"]]
    x[:, :, METRIC_INDEX["net_out_mbps"]] = 0.2 * rps + 0.6
    x[:, :, METRIC_INDEX["connections"]] = 0.4 * rps + 30
    return x.reshape(rows, -1)


def col(server: int, metric: str) -> int:
    return server * N_METRICS + METRIC_INDEX[metric]


def alarmed(scores: np.ndarray) -> np.ndarray:
    return scores >= ALARM_SCORE


def test_a_sustained_small_rise_in_the_error_rate_is_found_within_a_few_buckets() -> None:
    x = healthy(WARM + 200)
    e = col(1, "error_pct")
    x[WARM:, e] += 1.3  # 0.2 % → 1.5 %: far inside a day's range of a busy server
    scored = shift_scores(x, 2, None)
    scores = scored.score
    hit = np.flatnonzero(alarmed(scores[:, e]))
    # The limit it reports lies between the old level and the new one, in percent.
    assert 0.2 < scored.limit[hit[0], e] < 1.0
    assert hit.size
    assert WARM <= hit[0] <= WARM + 4
    # It holds while the shift does, on that series only.
    assert alarmed(scores[WARM + 5 :, e]).all()
    assert not alarmed(np.delete(scores, e, axis=1)).any()


def test_noise_alone_never_fires_over_a_long_run() -> None:
    scores = shift_scores(healthy(20_000, seed=7), 2, None).score
    assert not alarmed(scores).any()


def test_load_that_follows_traffic_does_not_fire_but_egress_without_traffic_does() -> None:
    x = healthy(WARM + 900).reshape(WARM + 900, 2, N_METRICS)
    rps, out, conn = (METRIC_INDEX[m] for m in ("rps", "net_out_mbps", "connections"))
    surge = np.clip((np.arange(x.shape[0]) - WARM) / 60, 0, 1) + 1  # ×2 over 3 minutes
    x[:, 0, rps] *= surge
    x[:, 0, out] = 0.2 * x[:, 0, rps] + 0.6
    x[:, 0, conn] = 0.4 * x[:, 0, rps] + 30
    # A restart on server 1: requests drop to a tenth and come back over 15 buckets, while
    # the outbound traffic (a slow gauge) does not follow; then, later, egress triples
    # with no more requests (an intruder).
    dip = 1 - 0.9 * np.clip(1 - (np.arange(x.shape[0]) - WARM) / 15, 0, 1)
    dip[:WARM] = 1
    x[:, 1, rps] *= dip
    x[WARM + 300 :, 1, out] *= 3
    scores = shift_scores(x.reshape(x.shape[0], -1), 2, None).score
    assert not alarmed(scores[:, :N_METRICS]).any()
    assert not alarmed(scores[: WARM + 300, N_METRICS:]).any()
    assert alarmed(scores[WARM + 305 :, col(1, "net_out_mbps")]).all()


def test_a_falling_error_rate_is_no_failure() -> None:
    x = healthy(WARM + 200)
    x[WARM:, col(0, "error_pct")] = 0.0
    scores = shift_scores(x, 2, None).score
    assert not alarmed(scores).any()


@pytest.mark.parametrize("cuts", [(1,), (37, 38, 500), (WARM, WARM + 3), (199, 200, 201, 1234)])
def test_scoring_in_pieces_is_bit_identical_to_one_call(cuts: tuple[int, ...]) -> None:
    x = healthy(WARM + 900, seed=3)
    x[WARM + 100 : WARM + 400, col(0, "error_pct")] += 0.9
    x[WARM + 200 :, col(1, "net_out_mbps")] *= 2.5
    whole = shift_scores(x, 2, None)
    parts, state = [], None
    for a, b in zip((0, *cuts), (*cuts, x.shape[0]), strict=True):
        part = shift_scores(x[a:b], 2, state)
        parts.append(part)
        state = part.state
    assert np.array_equal(np.concatenate([p.score for p in parts]), whole.score)
    assert np.array_equal(np.concatenate([p.limit for p in parts]), whole.limit, equal_nan=True)
    assert np.array_equal(state.data, whole.state.data)
    assert alarmed(whole.score).any()  # the comparison covers alarms, not only quiet rows


def test_the_state_must_fit_and_parameters_are_checked() -> None:
    with pytest.raises(ValidationError) as err:
        shift_scores(healthy(10), 2, ShiftState.fresh(3))
    assert err.value.details["field"] == "state"
    with pytest.raises(ValidationError) as err:
        shift_scores(healthy(10)[:, :5], 2, None)
    assert err.value.details["field"] == "values"
    with pytest.raises(ValidationError) as err:
        ShiftParams(threshold=2 * (DEFAULT_SHIFT.clip - DEFAULT_SHIFT.reference))
    assert err.value.details["field"] == "threshold"


def test_a_mild_config_error_on_the_simulated_fleet_alerts_within_a_few_buckets() -> None:
    fleet = build_fleet(20_251_123, 8, epoch_s=DEFAULT_EPOCH_S)
    api = fleet.index_of("api-01")
    start = 20 * 28_800 + 3 * 3600 // 3 + 300
    bad = Incident("inj-mild", "config_error", (api,), start, 400, magnitude="mild")
    world = Overrides(injected=(bad,), failures_enabled=False, benign_enabled=False)
    values = window(fleet, start - WARM, start + 100, world)
    flat = values.reshape(values.shape[0], -1).astype(np.float64)
    assert flat[WARM + 20, col(api, "error_pct")] < 10  # mild: a few percent
    scores = shift_scores(flat, 8, None).score
    hit = np.flatnonzero(alarmed(scores[:, col(api, "error_pct")]))
    assert hit.size
    assert WARM <= hit[0] <= WARM + 5
    # The engine's detection carries it to an alert on that series.
    det = detect(fleet, world, start, start + 20, scorer=AdaptiveScorer())
    alerting = np.flatnonzero(alert_levels(det)[:, col(api, "error_pct")] > 0)
    assert alerting.size
    # With the threshold the shift detector judged it by, which the value is past.
    row = alerting[0]
    assert (
        det.warn_upper[row, col(api, "error_pct")] < det.values[row, api, METRIC_INDEX["error_pct"]]
    )


def test_a_quiet_simulated_fleet_raises_no_shift_alarm() -> None:
    fleet = build_fleet(20_251_123, 8, epoch_s=DEFAULT_EPOCH_S)
    quiet = Overrides(failures_enabled=False, benign_enabled=False)
    b0 = 20 * 28_800
    values = window(fleet, b0, b0 + 7_200, quiet)  # six hours, morning peak included
    scores = shift_scores(values.reshape(values.shape[0], -1).astype(np.float64), 8, None).score
    assert not alarmed(scores).any()


def test_the_detector_is_pure() -> None:
    """Numbers in, numbers out: numpy, the fleet's metric names and errors, nothing else."""
    path = Path(shift.__file__ or "")
    assert imported_names(path) <= {"__future__", "math", "dataclasses", "numpy",
                                    "numpy.typing", "lib.errors", "lib.sim"}  # fmt: skip
    assert not {"window_truth", "ground_truth", "truth_events"} & set(vars(shift))


def test_engine_detection_resumed_from_checkpoints_is_bit_identical_through_an_alarm() -> None:
    """Bucket after bucket, the checkpointed scorer gives what scoring the whole window
    gives, while the shift detector alone holds an alert."""
    fleet = build_fleet(20_251_123, 8, epoch_s=DEFAULT_EPOCH_S)
    api = fleet.index_of("api-01")
    start = 20 * 28_800 + 3 * 3600 // 3 + 300
    bad = Incident("inj-mild", "config_error", (api,), start, 400, magnitude="mild")
    world = Overrides(injected=(bad,), failures_enabled=False, benign_enabled=False)

    def from_scratch(flat: np.ndarray, timestamps: np.ndarray, n_servers: int) -> tuple:
        return AdaptiveScorer()(flat, timestamps, n_servers)  # not an AdaptiveScorer: no memo

    series = col(api, "error_pct")
    for bucket in range(start - 2, start + 70, 3):
        got = detect(fleet, world, bucket, bucket + 1)
        want = detect(fleet, world, bucket, bucket + 1, scorer=from_scratch)
        for name in ("score", "level", "warn_upper", "crit_upper"):
            assert np.array_equal(getattr(got, name), getattr(want, name), equal_nan=True), name
    assert got.score[0, series] >= ALARM_SCORE
