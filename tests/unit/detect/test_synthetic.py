"""The generated NAB-format set: labels where NAB would put them, normal traits as drawn."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.bench import nab, synthetic


@pytest.fixture(scope="module")
def generated() -> list[synthetic.Generated]:
    return synthetic.generate(29, 2)


def test_every_kind_and_files_without_anomaly_are_generated(generated) -> None:
    kinds = [g.kind for g in generated]
    assert {k: kinds.count(k) for k in kinds} == {k: 2 for k in (*synthetic.KINDS, "none")}
    assert len({g.file.name for g in generated}) == len(generated)


def test_windows_lie_after_probation_inside_the_file_and_apart(generated) -> None:
    probation = nab.probation_rows(synthetic.ROWS)
    for g in generated:
        if g.kind == synthetic.NONE:
            assert g.file.windows == ()
            continue
        assert 1 <= len(g.file.windows) <= synthetic.ANOMALIES
        width = int(0.1 * synthetic.ROWS / len(g.file.windows)) // 2 * 2
        for lo, hi in g.file.windows:
            assert probation <= lo < hi < synthetic.ROWS, g.file.name
            assert hi - lo == width
        for (_, hi), (lo, _) in zip(g.file.windows, g.file.windows[1:], strict=False):
            assert hi < lo, g.file.name


def test_the_same_seed_gives_the_same_files_and_another_seed_others() -> None:
    a, b, c = synthetic.generate(7, 1), synthetic.generate(7, 1), synthetic.generate(8, 1)
    for x, y, z in zip(a, b, c, strict=True):
        assert np.array_equal(x.file.values, y.file.values)
        assert np.array_equal(x.file.timestamps, y.file.timestamps)
        assert x.file.windows == y.file.windows
        assert x.shape == y.shape
        assert not np.array_equal(x.file.values, z.file.values)


def test_quantised_files_hold_multiples_of_their_step(generated) -> None:
    quantised = [g for g in generated if g.shape.step]
    assert quantised
    for g in quantised:
        ratio = g.file.values / g.shape.step
        assert np.allclose(ratio, np.round(ratio), rtol=0, atol=1e-6), g.file.name
    plain = next(g for g in generated if not g.shape.step)
    ratio = plain.file.values / plain.shape.sigma
    assert not np.allclose(ratio, np.round(ratio), rtol=0, atol=1e-6)


@pytest.mark.parametrize("interval", synthetic.INTERVALS_S)
def test_gaps_and_jitter_are_there_when_asked(interval: int) -> None:
    rng = np.random.default_rng(3)
    shape = dataclasses.replace(synthetic.draw_shape(rng, "spike", interval), gaps=4, jitter=0.1)
    t = synthetic.timestamps(rng, shape, interval)
    steps = np.diff(t)
    assert t.size == synthetic.ROWS
    assert np.all(steps > 0)
    gaps = steps[steps > 2.5 * interval]
    assert gaps.size == 4
    assert np.all((gaps >= 3.5 * interval) & (gaps <= 13.5 * interval))
    assert np.count_nonzero(steps != interval) > synthetic.ROWS // 2
    regular = synthetic.timestamps(rng, dataclasses.replace(shape, gaps=0, jitter=0.0), interval)
    assert np.all(np.diff(regular) == interval)


def test_the_weekly_shape_lowers_the_daily_rise_on_weekends() -> None:
    rng = np.random.default_rng(5)
    shape = dataclasses.replace(
        synthetic.draw_shape(rng, "missing_peak", 3600), weekend=0.2, sigma=1e-12, drift=0.0
    )
    t = synthetic.timestamps(rng, dataclasses.replace(shape, gaps=0, jitter=0.0), 3600)
    x = synthetic.base(rng, shape, t) - shape.level
    weekday = (t // 86_400 + 3) % 7 < 5
    assert x[weekday].max() == pytest.approx(shape.daily, rel=0.05)
    assert x[~weekday].max() == pytest.approx(0.2 * shape.daily, rel=0.05)


def test_daily_anomalies_change_the_day_they_label(generated) -> None:
    """At the labelled row the rise is missing or late: the same hours of the nearest day
    without anomaly (if the file has one) are well above it."""
    checked = 0
    for g in generated:
        if g.kind not in ("missing_peak", "shifted_peak"):
            continue
        t, labels = g.timestamps_s, [(lo + hi) // 2 for lo, hi in g.file.windows]
        span_s = g.shape.width_h * 3600 / 3  # from a quarter of the rise to its top
        for at in labels:
            for days in (-1, 1, -2, 2, -7, 7):
                other = int(np.searchsorted(t, t[at] + days * 86_400))
                if 0 <= other < t.size and all(abs(t[other] - t[a]) > 86_000 for a in labels):
                    break
            else:
                continue
            today = g.file.values[(t >= t[at]) & (t <= t[at] + span_s)].mean()
            normal = g.file.values[(t >= t[other]) & (t <= t[other] + span_s)].mean()
            assert normal - today > 0.3 * g.shape.daily, g.file.name
            checked += 1
    assert checked >= 4


@pytest.mark.parametrize("kind", ["level_shift", "trend_change", "slow_drift"])
def test_a_second_shift_moves_on_from_the_first(kind: str) -> None:
    """Shifts and drifts stay: a second one moves the level from where the first left it,
    never back to where it was (which could leave a labelled anomaly with nothing to see)."""
    rng = np.random.default_rng(3)
    shape = dataclasses.replace(synthetic.draw_shape(rng, kind, 300), sigma=1.0)
    x = np.zeros(synthetic.ROWS)
    t_s = 300.0 * np.arange(synthetic.ROWS)
    for at, end in ((1000, 2000), (2000, synthetic.ROWS)):
        before = x[at - 1]
        synthetic._inject(rng, x, kind, at, end, shape, t_s, 0.0)
        assert abs(x[end - 1] - before) >= 6.0 * 0.6, (kind, at)


def test_files_without_anomaly_vary_like_the_others() -> None:
    shapes = [g.shape for g in synthetic.generate(11, 12) if g.kind == synthetic.NONE]
    assert any(s.daily for s in shapes)
    assert any(not s.daily for s in shapes)
    assert any(s.step for s in shapes)
    assert any(s.gaps for s in shapes)
    assert any(s.spike_rate for s in shapes)
    scales = [s.level for s in shapes]
    assert max(scales) / min(scales) > 1e3
