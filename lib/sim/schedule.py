"""Which incidents exist, without scanning history: a seeded schedule merged with injected ones.

Time is cut into fixed slots of about ten minutes. A slot's candidate incidents are a pure
function of ``hash(seed, slot)``: each of ``n`` trials fires with probability ``λ / n``
(``λ`` = expected incidents per slot), then draws a type, a start inside the slot, a
magnitude, the shape's parameters (``Incident.draw``), a duration (the onset plus a time at
full effect) and targets. To know what is active at bucket ``b`` only the slots of the last
longest-incident's worth of time are looked at.

Ground truth stays unambiguous: a scheduled candidate is dropped when it would share a
server, at overlapping times, with an earlier candidate (dropped or not, which keeps the
rule local) or with an injected incident that started no later. Spans used for this rule
are the nominal ones, so recovery decisions never change the schedule.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from math import ceil
from typing import Final

import numpy as np

from lib.sim.failures import FAILURE_TYPES, HOPS, FailureType, draw_magnitude, draw_onset_s
from lib.sim.fleet import Fleet
from lib.sim.incidents import (
    MAX_GROUP,
    Impact,
    Incident,
    Overrides,
    check_targets,
    hop_buckets,
    impact_of,
    lead_buckets,
    precursor_buckets,
    settle_buckets,
)
from lib.sim.noise import hash_array, hash_ints, mix64_array

SLOT_S: Final = 600
_SCHEDULE_DOMAIN: Final = 0x5C4E
_NO_OVERRIDES: Final = Overrides()


def slot_buckets(bucket_seconds: int) -> int:
    return max(1, SLOT_S // bucket_seconds)


def _reach_before(bucket_seconds: int) -> int:
    """The most buckets an incident can act before its start (its precursor)."""
    return max(precursor_buckets(t, bucket_seconds) for t in FAILURE_TYPES.values())


def _reach_after(bucket_seconds: int) -> int:
    """The most buckets an incident can act from its start on (duration, settling, lags)."""
    longest = max(
        ceil((t.onset_s[1] + t.duration_s[1]) / bucket_seconds) for t in FAILURE_TYPES.values()
    )
    return longest + settle_buckets(bucket_seconds) + 2 * hop_buckets(bucket_seconds)


@lru_cache(maxsize=16)
def eligible_types(fleet: Fleet) -> tuple[FailureType, ...]:
    """Failure types that have at least one server to hit in ``fleet`` (cached: fleets are
    immutable)."""
    sizes = np.diff(fleet.role_offsets)
    return tuple(t for t in FAILURE_TYPES.values() if sizes[list(t.roles)].sum() > 0)


def candidates(
    fleet: Fleet,
    slots: range,
    rate_per_hour: float,
    types: Sequence[FailureType],
    *,
    domain: int = _SCHEDULE_DOMAIN,
    prefix: str = "inc",
) -> list[Incident]:
    """The scheduled candidates of ``slots``, before the overlap rule; ``domain`` and
    ``prefix`` keep other kinds of events (benign ones) apart from failures.

    Trial ``k`` of slot ``n`` fires when ``unit(hash_ints(seed, domain, n, k)) < chance``;
    the hashes of every trial are computed at once, only the few that fire in Python.
    """
    sb = slot_buckets(fleet.bucket_seconds)
    expected = rate_per_hour * sb * fleet.bucket_seconds / 3600.0
    if expected <= 0 or not types or not slots:
        return []
    trials = max(4, ceil(2 * expected))
    chance = expected / trials
    per_slot = hash_array(hash_ints(fleet.seed, domain), np.arange(slots.start, slots.stop))
    hashes = mix64_array(per_slot[:, None] ^ np.arange(trials, dtype=np.uint64)[None, :])
    fired = (hashes >> np.uint64(11)).astype(np.float64) * 2.0**-53 < chance
    found = []
    for i, k in zip(*np.nonzero(fired), strict=True):
        slot, h = slots.start + int(i), int(hashes[i, k])
        failure = types[hash_ints(h, 1) % len(types)]
        start = slot * sb + hash_ints(h, 3) % sb
        found.append(
            drawn_event(
                fleet, failure, f"{prefix}-{slot}-{k}", _targets(fleet, failure, h), start, h
            )
        )
    return found


def drawn_event(
    fleet: Fleet, failure: FailureType, id: str, targets: tuple[int, ...], start: int, h: int
) -> Incident:
    """An event whose magnitude, shape and duration (onset plus time at full effect) are
    drawn from the key ``h``."""
    draw = hash_ints(h, 7)
    lo, hi = failure.duration_s
    duration_s = draw_onset_s(failure, draw) + lo + hash_ints(h, 2) % (hi - lo + 1)
    return Incident(
        id=id,
        type=failure.name,
        targets=targets,
        start_bucket=start,
        duration_buckets=max(1, round(duration_s / fleet.bucket_seconds)),
        magnitude=draw_magnitude(draw),
        draw=draw,
    )


def _targets(fleet: Fleet, failure: FailureType, h: int) -> tuple[int, ...]:
    first = _nth_with_roles(fleet, failure.roles, hash_ints(h, 4))
    if failure.whole_region:
        region = fleet.servers_in_region(failure.roles, int(fleet.region[first]))
        return tuple(int(s) for s in region[:MAX_GROUP])
    lo, hi = failure.targets
    wanted = lo + hash_ints(h, 5) % (hi - lo + 1)
    if wanted == 1:
        return (first,)
    around = fleet.servers_in_region(failure.roles, int(fleet.region[first]))
    chosen = [first]
    for j in range(4 * wanted):
        if len(chosen) == wanted or len(chosen) == around.size:
            break
        s = int(around[hash_ints(h, 6, j) % around.size])
        if s not in chosen:
            chosen.append(s)
    return tuple(sorted(chosen))


def _nth_with_roles(fleet: Fleet, roles: tuple[int, ...], h: int) -> int:
    """``fleet.servers_with_roles(roles)[h % count]``, without building the array."""
    ranges = [(int(fleet.role_offsets[r]), int(fleet.role_offsets[r + 1])) for r in sorted(roles)]
    n = h % sum(hi - lo for lo, hi in ranges)
    for lo, hi in ranges:
        if n < hi - lo:
            return lo + n
        n -= hi - lo
    raise AssertionError("unreachable: n is below the count")


def _span(fleet: Fleet, incident: Incident) -> tuple[int, int]:
    """Buckets an incident may act in, nominally: from its precursor to the end of its
    settling behind the longest lag its type can have (an upper bound, cheap to compute)."""
    bs = fleet.bucket_seconds
    failure = incident.failure
    lag = max(HOPS[reach] for reach in failure.reaches) * hop_buckets(bs)
    first = incident.start_bucket - lead_buckets(incident, bs)
    return first, incident.start_bucket + incident.duration_buckets + settle_buckets(bs) + lag


class _Reach:
    """Servers each incident reaches, computed only when a time overlap asks for them."""

    def __init__(self, fleet: Fleet):
        self.fleet = fleet
        self.found: dict[str, frozenset[int]] = {}

    def __call__(self, incident: Incident) -> frozenset[int]:
        if incident.id not in self.found:
            impact = impact_of(self.fleet, incident, _NO_OVERRIDES)
            self.found[incident.id] = frozenset(impact.servers)
        return self.found[incident.id]


def scheduled_between(fleet: Fleet, b0: int, b1: int, overrides: Overrides) -> list[Incident]:
    """Scheduled incidents whose nominal span overlaps buckets ``[b0, b1)``, after the rule."""
    if not overrides.failures_enabled or overrides.failure_rate_per_hour <= 0 or b1 <= b0:
        return []
    bs = fleet.bucket_seconds
    sb = slot_buckets(bs)
    before, after = _reach_before(bs), _reach_after(bs)
    first_slot = (b0 - after) // sb
    last_slot = (b1 - 1 + before) // sb
    # Earlier candidates that could clash with the first ones reach back one more span.
    types = eligible_types(fleet)
    slots = range((first_slot * sb - before - after) // sb, last_slot + 1)
    pool = candidates(fleet, slots, overrides.failure_rate_per_hour, types)
    pool.sort(key=lambda i: (i.start_bucket, i.id))
    spans = [_span(fleet, inc) for inc in pool]
    injected = [(inc, _span(fleet, inc)) for inc in overrides.injected if not inc.benign]
    reach = _Reach(fleet)

    def clash(a: Incident, sa: tuple[int, int], b: Incident, sb: tuple[int, int]) -> bool:
        return sa[0] < sb[1] and sb[0] < sa[1] and not reach(a).isdisjoint(reach(b))

    kept = []
    for i, (inc, span) in enumerate(zip(pool, spans, strict=True)):
        if inc.start_bucket // sb < first_slot or not (span[0] < b1 and b0 < span[1]):
            continue
        if any(clash(inc, span, pool[j], spans[j]) for j in range(i)):
            continue
        # A drill wins over the scheduled failures it overlaps that have not begun to act when
        # it is made; one whose precursor already plays was observed and stays.
        if any(o.start_bucket <= span[0] and clash(inc, span, o, so) for o, so in injected):
            continue
        kept.append(inc)
    return kept


def impacts_between(fleet: Fleet, b0: int, b1: int, overrides: Overrides) -> tuple[Impact, ...]:
    """Impacts of every failure acting in buckets ``[b0, b1)``, ordered by (start, id).

    Benign events are not failures and are not here (``lib.sim.benign``). This order is the
    order in which failures are applied to metrics (after benign events), and the index of a
    failure in it is what ``window_truth`` arrays hold.
    """
    for inc in overrides.injected:
        check_targets(fleet, inc)
    injected = [inc for inc in overrides.injected if not inc.benign]
    incidents = scheduled_between(fleet, b0, b1, overrides) + injected
    impacts = [impact_of(fleet, inc, overrides) for inc in incidents]
    active = [i for i in impacts if i.first_bucket < b1 and b0 < i.last_bucket]
    return tuple(sorted(active, key=lambda i: (i.incident.start_bucket, i.incident.id)))


def incidents_between(fleet: Fleet, b0: int, b1: int, overrides: Overrides) -> tuple[Incident, ...]:
    """Scheduled and injected failures acting in buckets ``[b0, b1)``, ordered by (start, id)."""
    return tuple(i.incident for i in impacts_between(fleet, b0, b1, overrides))
