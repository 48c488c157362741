"""Score each failure type on each candidate root, pick the best explanation, split the rest.

For a candidate root server and a type, the score is how far the type's expected moves
(``signatures``) are seen on the server, less what the type cannot explain (a metric that
moved and that the type leaves alone, or moved the other way), plus the log lines that
point to it; a type that never hits the server's role scores nothing. The root is the
candidate whose best type also explains the most of the other alerted servers along the
type's reaches (callers, callees) and whose anomaly started first. Alerted servers the
root's failure does not explain, and that carry a failure of their own, are diagnosed
again, apart: two failures at once are two incidents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from lib.diagnose.clues import clue_types, upstream_named
from lib.diagnose.deviation import ONSET_Z, Deviation, deviation
from lib.diagnose.model import UNKNOWN, Diagnosis, Hypothesis, Moved, Observation, ObservedLog
from lib.diagnose.routine import load_ratio, routine_of
from lib.diagnose.signatures import SIGNATURES, Mark, Signature
from lib.diagnose.text import summaries
from lib.sim import METRICS

Z_FULL: Final = 6.0
"""A move of this many scales counts fully as the expected move."""
Z_MOVED: Final = 5.0
"""A move of this many scales must be explained by the diagnosed type."""
UNEXPLAINED: Final = 0.1
"""Score lost per metric the type cannot explain."""
LOG_BONUS: Final = 0.2
"""Share of the score that log lines pointing to the type make up."""
TYPE_MIN: Final = 0.4
"""Below this best score a harmful anomaly is ``unknown``; a harmless one is no incident."""
SURE: Final = 0.55
"""From this score a silent type (``Signature.silent``: leaks, fills, CDN misses, breaches)
is an incident even before users feel it; any other type needs harm, else the anomaly is
routine load (``lib.diagnose.routine``)."""
RESPONSE_HARM: Final = 1.4
"""Response time this many times its baseline (per unit of added load) hurts users."""
COVER_WEIGHT: Final = 0.25
EARLY_WEIGHT: Final = 0.1
BLAME_WEIGHT: Final = 0.15
EXPLAINED_MIN: Final = 0.35
OWN_FAILURE_MIN: Final = 0.5
OWN_MARGIN: Final = 0.15
"""A server's own failure must beat the cascade's explanation of it by this much."""
HYPOTHESES: Final = 3
MAX_LOG_LINES: Final = 6

_M = {name: i for i, name in enumerate(METRICS)}
_Move = tuple[int, int]
"""(metric, direction)."""


@dataclass(frozen=True)
class _Scene:
    """The observation with its deviation and per-server lookups."""

    obs: Observation
    dev: Deviation
    pos: dict[int, int]  # fleet index → row in the observation
    alerted: tuple[int, ...]
    clues: dict[int, set[str]]
    blamed: dict[int, int]
    excused: dict[int, frozenset[_Move]]
    """Per server, the (metric, direction) moves another alerted server's failure explains
    along its reaches (a web server's traffic gone behind a dark balancer)."""
    ranked: dict[int, list[Hypothesis]] = field(default_factory=dict, compare=False)
    """``_best`` per server, computed once: every candidate root asks it of every server."""
    left: dict[int, list[Hypothesis]] = field(default_factory=dict, compare=False)
    """``_left_score`` of every type per server, computed once."""

    def z(self, server: int, mark: Mark) -> float:
        z = self.dev.z(self.pos[server], mark.metric, mark.direction)
        if mark.direction > 0 and (server, METRICS[mark.metric]) in self.obs.climbing:
            return max(z, Z_FULL)  # a steady climb is a full move, however slow
        return z


def diagnose(obs: Observation) -> tuple[Diagnosis, ...]:
    """The failures behind one alert group: one diagnosis each, the root's first."""
    scene = _scene(obs)
    remaining = scene.alerted
    out: list[Diagnosis] = []
    while remaining:
        found = _diagnose_among(scene, remaining)
        out.append(found)
        rest = tuple(s for s in remaining if s not in found.explained)
        # Keep only the leftovers that carry a failure of their own; the others were noise
        # the root's failure stirred up.
        remaining = tuple(s for s in rest if _best(scene, s)[0].score >= OWN_FAILURE_MIN)
    return tuple(out)


def _scene(obs: Observation) -> _Scene:
    first_onset = min((onset for _, _, onset in obs.alerted), default=obs.bucket)
    dev = deviation(obs.values, obs.b0, first_onset)
    pos = {s: i for i, s in enumerate(obs.servers)}
    alerted = tuple(dict.fromkeys(s for s, _, _ in obs.alerted if s in pos)) or (obs.root_hint,)
    clues: dict[int, set[str]] = {}
    blamed: dict[int, int] = {}
    index = {sid: i for i, sid in enumerate(obs.ids)}
    for line in obs.logs:
        clues.setdefault(line.server, set()).update(clue_types(line))
        named = upstream_named(line)
        if named in index:
            blamed[index[named]] = blamed.get(index[named], 0) + 1
    plain = _Scene(obs, dev, pos, alerted, clues, blamed, {})
    return _Scene(obs, dev, pos, alerted, clues, blamed, _excused(plain))


def _excused(scene: _Scene) -> dict[int, frozenset[_Move]]:
    """What each alerted server suffers from the other alerted servers' failures: a move
    that a concurrent failure upstream explains says nothing against the server's own."""
    excused: dict[int, set[_Move]] = {s: set() for s in scene.alerted}
    for source in scene.alerted:
        top = _best(scene, source)[0]
        if top.score < OWN_FAILURE_MIN:
            continue
        reaches = SIGNATURES[top.type].reaches
        for server in scene.alerted:
            if server != source:
                marks = reaches.get(_relation(scene, source, server) or "", ())
                excused[server].update((m.metric, m.direction) for m in marks)
    return {s: frozenset(moves) for s, moves in excused.items()}


def _agreement(
    scene: _Scene, server: int, marks: Iterable[Mark], excused: frozenset[_Move] = frozenset()
) -> float:
    """The weighted share of ``marks`` seen on ``server``; an excused move counts as unseen."""
    marks = tuple(marks)
    total = sum(m.weight for m in marks)
    if not total:
        return 0.0
    seen = sum(
        m.weight * min(1.0, scene.z(server, m) / Z_FULL)
        for m in marks
        if (m.metric, m.direction) not in excused
    )
    return seen / total


def _unexplained(
    scene: _Scene, server: int, marks: tuple[Mark, ...], excused: frozenset[_Move] = frozenset()
) -> float:
    expected = {(m.metric, m.direction) for m in marks} | excused
    lost = 0.0
    for metric, direction, z in scene.dev.moved(scene.pos[server], Z_MOVED):
        if (metric, direction) not in expected:
            lost += UNEXPLAINED * min(1.0, z / Z_FULL)
    return lost


def _type_score(scene: _Scene, server: int, sig: Signature) -> float:
    """How well ``sig`` explains ``server``. Where other alerted servers' failures reach it,
    their moves are set aside (``_left_score``) unless the server's own log lines name
    ``sig``: a crash-like look behind a dark balancer is the balancer's, but a balancer
    writing "invalid configuration" is judged on all it shows."""
    if scene.obs.roles[server] not in sig.roles:
        return 0.0
    named = sig.type in scene.clues.get(server, ())
    if scene.excused.get(server) and not named:
        return _left_score(scene, server, sig)
    seen = _agreement(scene, server, sig.target) - _unexplained(scene, server, sig.target)
    plain = _scored(scene, server, sig, seen)
    return max(plain, _left_score(scene, server, sig)) if scene.excused.get(server) else plain


def _left_score(scene: _Scene, server: int, sig: Signature) -> float:
    """How well ``sig`` explains what ``server`` shows beyond what the other alerted servers'
    failures do to it: their moves neither support nor count against it."""
    excused = scene.excused.get(server)
    if not excused or scene.obs.roles[server] not in sig.roles:
        return 0.0
    left = _agreement(scene, server, sig.target, excused)
    return _scored(scene, server, sig, left - _unexplained(scene, server, sig.target, excused))


def _scored(scene: _Scene, server: int, sig: Signature, seen: float) -> float:
    """The metrics' share ``seen`` with the log lines' share."""
    clue = sig.type in scene.clues.get(server, ())
    return float(np.clip(seen, 0.0, 1.0) * (1 - LOG_BONUS) + LOG_BONUS * clue)


def _best(scene: _Scene, server: int) -> list[Hypothesis]:
    if server not in scene.ranked:
        scene.ranked[server] = _ranked(scene, server, _type_score)
    return scene.ranked[server]


def _best_left(scene: _Scene, server: int) -> list[Hypothesis]:
    """Every type's ``_left_score`` on ``server``, best first."""
    if server not in scene.left:
        scene.left[server] = _ranked(scene, server, _left_score)
    return scene.left[server]


def _ranked(
    scene: _Scene, server: int, score: Callable[[_Scene, int, Signature], float]
) -> list[Hypothesis]:
    return sorted(
        (Hypothesis(t, score(scene, server, sig)) for t, sig in SIGNATURES.items()),
        key=lambda h: (-h.score, h.type),
    )


def _relation(scene: _Scene, root: int, server: int) -> str | None:
    deps = scene.obs.depends_on
    if root in deps[server]:
        return "callers"
    if any(root in deps[mid] for mid in deps[server]):
        return "callers2"
    if server in deps[root]:
        return "callees"
    return None


def _explains(scene: _Scene, root: int, sig: Signature, server: int) -> bool:
    """Whether ``server``'s anomaly is what ``sig`` on ``root`` does to it, rather than a
    failure of its own of another type (a breach on a web server behind a slow database)."""
    if server == root:
        return True
    relation = _relation(scene, root, server)
    marks = sig.reaches.get(relation or "", ())
    if not marks:
        return False
    reach = _agreement(scene, server, marks) - _unexplained(scene, server, marks)
    if reach < EXPLAINED_MIN:
        return False
    own = _best(scene, server)[0]
    if own.type == sig.type:
        return True
    if own.score >= OWN_FAILURE_MIN and scene.clues.get(server, set()) - {sig.type}:
        # It moved like a failure of its own and its own log lines name another failure
        # ("invalid configuration" on a balancer whose backend also fails): a cascade
        # writes upstream errors on its callers, never another type's clue.
        return False
    if any(h.score >= OWN_FAILURE_MIN for h in _best_left(scene, server) if h.type != sig.type):
        # Beyond what the cascade does to it, it shows a failure of its own (an intruder's
        # CPU and upload on a web server whose balancer went dark).
        return False
    return own.score < max(OWN_FAILURE_MIN, reach + OWN_MARGIN)


def _diagnose_among(scene: _Scene, servers: tuple[int, ...]) -> Diagnosis:
    obs = scene.obs
    earliest = {s: _first_onset(scene, s) for s in servers}
    first = min(earliest.values())
    blame_total = sum(scene.blamed.get(s, 0) for s in servers) or 1
    best_key, best = None, None
    for candidate in servers:
        ranked = _best(scene, candidate)
        top = ranked[0]
        sig = SIGNATURES[top.type]
        others = [s for s in servers if s != candidate]
        covered = [s for s in others if _explains(scene, candidate, sig, s)]
        key = (
            top.score
            + COVER_WEIGHT * (len(covered) / len(others) if others else 0.0)
            + EARLY_WEIGHT * (earliest[candidate] <= first)
            + BLAME_WEIGHT * scene.blamed.get(candidate, 0) / blame_total,
            candidate == obs.root_hint,
            -candidate,
        )
        if best_key is None or key > best_key:
            best_key, best = key, (candidate, ranked, (candidate, *covered))
    assert best is not None
    root, ranked, explained = best
    top = ranked[0]
    harmful = _harmful(scene, root)
    kind = top.type if top.score >= TYPE_MIN else UNKNOWN
    hypotheses = tuple(h for h in ranked[:HYPOTHESES] if h.score > 0)
    confidence = _confidence(ranked) if kind != UNKNOWN else 0.0
    if kind != UNKNOWN and not harmful and not (SIGNATURES[kind].silent and top.score >= SURE):
        kind = UNKNOWN
    routine = routine_of(scene.dev, scene.pos[root]) if kind == UNKNOWN and not harmful else None
    moved = _moved(scene, explained)
    onset = min((m.onset_bucket for m in moved if m.server == root), default=earliest[root])
    lines = _log_lines(obs.logs, explained, kind)
    diagnosis = Diagnosis(
        type=kind,
        confidence=confidence,
        hypotheses=hypotheses,
        root=root,
        affected=tuple(sorted(explained)),
        onset_bucket=int(onset),
        moved=moved,
        log_lines=lines,
        summary_en="",
        summary_ko="",
        harmful=harmful,
        explained=tuple(explained),
        routine=routine,
    )
    en, ko = summaries(diagnosis, obs.ids)
    return Diagnosis(**{**diagnosis.__dict__, "summary_en": en, "summary_ko": ko})


def _first_onset(scene: _Scene, server: int) -> int:
    onsets = scene.dev.onset[scene.pos[server]]
    valid = onsets[onsets >= 0]
    alert = min((o for s, _, o in scene.obs.alerted if s == server), default=scene.obs.bucket)
    return int(min(valid.min(), alert)) if valid.size else alert


def _confidence(ranked: list[Hypothesis]) -> float:
    """The top score, discounted when the runner-up is close."""
    top, second = ranked[0].score, ranked[1].score if len(ranked) > 1 else 0.0
    margin = (top - second) / top if top else 0.0
    return float(np.clip(top * (0.5 + 0.5 * margin) + 0.25 * margin, 0.0, 1.0))


def _harmful(scene: _Scene, server: int) -> bool:
    """Whether users or the server itself suffer (or are about to: a heap or a disk climbing
    far past its normal towards full): what separates a failure from busy hours.

    Response time grows with load on a healthy server (queueing), so more requests excuse
    a proportionally slower response: a surge or a failover's traffic is not harm.
    """
    dev, row = scene.dev, scene.pos[server]
    slower = RESPONSE_HARM * max(1.0, load_ratio(dev, row))
    base, level = dev.median[row], dev.level[row]

    def up(name: str, z: float = 4.0) -> bool:
        return bool(dev.z_up[row, _M[name]] >= z)

    # Dead now (serving nothing, holding no connection) is harm at once; a restart's blip
    # serves a little and is over by the next look.
    dead = dev.latest[row, _M["rps"]] == 0 and dev.latest[row, _M["connections"]] == 0
    collapsed = dev.z_down[row, _M["rps"]] >= 4.0 and level[_M["rps"]] < 0.2 * base[_M["rps"]]
    offline = bool(dead and base[_M["rps"]] > 0) or collapsed
    return bool(
        offline
        or (up("error_pct") and level[_M["error_pct"]] - base[_M["error_pct"]] >= 0.8)
        or (up("response_ms") and level[_M["response_ms"]] >= slower * base[_M["response_ms"]])
        or (up("packet_loss_pct") and level[_M["packet_loss_pct"]] >= 1.0)
        or (up("net_latency_ms") and level[_M["net_latency_ms"]] - base[_M["net_latency_ms"]] >= 5)
        or (up("cpu_pct") and level[_M["cpu_pct"]] >= 90.0)
        or (up("memory_pct", Z_FULL) and level[_M["memory_pct"]] >= 75.0)
        or (up("disk_pct", Z_FULL) and level[_M["disk_pct"]] >= 75.0)
    )


def _moved(scene: _Scene, servers: Iterable[int]) -> tuple[Moved, ...]:
    """What moved on ``servers``: past ``Z_MOVED``, or past ``ONSET_Z`` where it alerted."""
    dev = scene.dev
    alerted = {(s, _M[m]) for s, m, _ in scene.obs.alerted}
    out = []
    for s in servers:
        row = scene.pos[s]
        for metric, direction, z in dev.moved(row, ONSET_Z):
            if z < Z_MOVED and (s, metric) not in alerted:
                continue
            out.append(
                Moved(
                    server=s,
                    metric=METRICS[metric],
                    direction=direction,
                    baseline=float(dev.median[row, metric]),
                    observed=float(dev.level[row, metric]),
                    z=z,
                    onset_bucket=int(dev.onset[row, metric]),
                )
            )
    return tuple(sorted(out, key=lambda m: (m.onset_bucket < 0, m.onset_bucket, -m.z)))


def _log_lines(
    logs: tuple[ObservedLog, ...], servers: Iterable[int], kind: str
) -> tuple[ObservedLog, ...]:
    wanted = set(servers)
    pointing = [line for line in logs if line.server in wanted and kind in clue_types(line)]
    other = [
        line
        for line in logs
        if line.server in wanted and line.level != "INFO" and line not in pointing
    ]
    return tuple((pointing + other)[:MAX_LOG_LINES])
