import pytest

from lib.alerts import Level, group_summary
from lib.alerts.summary import direction_particle, subject_particle
from lib.metric_labels import metric_label


@pytest.mark.parametrize(
    ("word", "particle"),
    [
        ("응답 지연", "이"),
        ("메모리", "가"),
        ("오류율", "이"),
        ("외 2건", "이"),
        ("cpu_pct", "이(가)"),
    ],
)
def test_subject_particle_follows_the_last_syllable(word, particle):
    assert subject_particle(word) == particle


@pytest.mark.parametrize(
    ("word", "particle"),
    [("심각", "으로"), ("경고", "로"), ("오류", "로"), ("서울", "로"), ("x", "(으)로")],
)
def test_direction_particle_treats_rieul_like_a_vowel(word, particle):
    assert direction_particle(word) == particle


def test_a_cascade_reads_naturally_in_both_languages():
    en, ko = group_summary("db-01", ["response_ms"], ["api-02", "web-03"], Level.ERROR, "opened")
    assert en == "db-01 response time (error) affecting api-02, web-03"
    assert ko == "db-01 응답 지연이 api-02, web-03에 영향 (오류)"


def test_a_single_server_and_long_lists_are_summarised():
    en, ko = group_summary("web-01", ["cpu_pct", "memory_pct"], [], Level.WARNING, "opened")
    assert en == "web-01 CPU usage and 1 more metric (warning)"
    assert ko == "web-01 CPU 사용률 외 1건 이상 (경고)"
    others = [f"web-{i:02d}" for i in range(8)]
    en, ko = group_summary("db-01", ["disk_pct"], others, Level.CRITICAL, "escalated")
    assert en.startswith("Escalated to critical: db-01 disk usage (critical) affecting web-00")
    assert en.endswith("web-04 and 3 more")
    assert ko.startswith("심각으로 격상: db-01 디스크 사용률이 web-00")
    assert ko.endswith("web-04 외 3대에 영향 (심각)")


def test_unknown_metrics_show_their_own_name():
    assert metric_label("gpu_temp_c") == ("gpu_temp_c", "gpu_temp_c")
    _, ko = group_summary("x-1", ["gpu_temp_c"], ["y-2"], Level.INFO, "resolved")
    assert ko == "해결됨: x-1 gpu_temp_c이(가) y-2에 영향 (정보)"


def test_every_fleet_metric_has_an_english_and_a_korean_label() -> None:
    from lib.metric_labels import METRIC_LABELS
    from lib.sim import METRICS

    assert set(METRIC_LABELS) == set(METRICS)
    assert all(en != ko for en, ko in METRIC_LABELS.values())
