"""Per-bucket pipeline decisions that need no simulator: which incident a diagnosis is."""

from __future__ import annotations

from dataclasses import replace

from lib.diagnose import Diagnosis
from lib.engine.pipeline import owner_of
from lib.engine.world import IncidentTrack

API = IncidentTrack(
    id="inc-api-01-100",
    type="api_failure",
    servers=(3, 7),  # api-01 and web-01, a caller it reaches
    root=3,
    started_bucket=98,
    detected_bucket=100,
    group_id="grp-a",
    groups=("grp-a",),
)


def diagnosis(kind: str, root: int) -> Diagnosis:
    return Diagnosis(
        type=kind,
        confidence=0.9,
        hypotheses=(),
        root=root,
        affected=(root,),
        onset_bucket=120,
        moved=(),
        log_lines=(),
        summary_en="",
        summary_ko="",
    )


def test_a_failure_on_a_server_another_incident_reaches_keeps_its_own_incident() -> None:
    """A CPU overload on a web server that an API failure also reaches: once it has its own
    incident, diagnosing it again finds that one, not the API's (which would open a new
    incident for the same failure at every recheck)."""
    cpu = replace(API, id="inc-web-01-140", type="cpu_overload", servers=(7,), root=7)
    for tracks in ({API.id: API, cpu.id: cpu}, {cpu.id: cpu, API.id: API}):
        assert owner_of(tracks, diagnosis("cpu_overload", 7)) == cpu
    # Before it has one, the incident that reaches it is the candidate owner.
    assert owner_of({API.id: API}, diagnosis("cpu_overload", 7)) == API
    assert owner_of({API.id: API}, diagnosis("cpu_overload", 9)) is None
