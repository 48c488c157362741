"""Benign events: routine work that moves metrics without being a failure.

- deploys: a few web or api servers of a region restart (a blip of a bucket or two), about
  once an hour, at seeded times;
- traffic surges: a region's balancers, web and api servers take 1.5-2x their traffic for
  10-40 minutes, CPU following, about once every five hours;
- nightly batch jobs: the databases of each region work hard from a local time of night
  fixed per fleet (drawn from the seed), every day;
- log rotation: every server at its own local rotation time (``profiles.rotation_s``, when
  its disk use drops), servers of one region and minute together.

Like failures, each event is a pure function of the seed and where it falls in time, so the
events acting at a bucket are found without scanning history. Benign events never take part
in the failures' overlap rule: routine work goes on whatever fails.
"""

from __future__ import annotations

from functools import lru_cache
from math import ceil
from typing import Final

import numpy as np
import numpy.typing as npt

from lib.sim.failures import BENIGN_TYPES, SETTLE_S, FailureType
from lib.sim.fleet import Fleet
from lib.sim.incidents import MAX_GROUP, Impact, Incident, Overrides, check_targets, impact_of
from lib.sim.noise import hash_ints
from lib.sim.roles import DATABASE, REGION_UTC_OFFSET_S, REGIONS
from lib.sim.schedule import candidates, drawn_event, slot_buckets

DEPLOYS_PER_HOUR: Final = 1.0
SURGES_PER_HOUR: Final = 0.2
DAY_S: Final = 86_400
BATCH_HOURS: Final = (1, 4)  # the nightly batch starts between 01:00 and 04:59 local time
_DEPLOY_DOMAIN: Final = 0xDE9
_SURGE_DOMAIN: Final = 0x5E9
_BATCH_DOMAIN: Final = 0xBA7C
_ROTATION_DOMAIN: Final = 0x1067


def benign_between(fleet: Fleet, b0: int, b1: int, overrides: Overrides) -> tuple[Impact, ...]:
    """Impacts of every benign event acting in buckets ``[b0, b1)``, ordered by (start, id):
    the scheduled ones (unless ``overrides.benign_enabled`` is off) and the injected ones."""
    injected = [inc for inc in overrides.injected if inc.benign]
    for inc in injected:
        check_targets(fleet, inc)
    events = list(injected)
    if overrides.benign_enabled and b1 > b0:
        events += _slotted(fleet, b0, b1, "deploy", DEPLOYS_PER_HOUR, _DEPLOY_DOMAIN)
        events += _slotted(fleet, b0, b1, "traffic_surge", SURGES_PER_HOUR, _SURGE_DOMAIN)
        events += _batch_jobs(fleet, b0, b1)
        events += _rotations(fleet, b0, b1)
    impacts = [impact_of(fleet, inc, overrides) for inc in events]
    active = [i for i in impacts if i.first_bucket < b1 and b0 < i.last_bucket]
    return tuple(sorted(active, key=lambda i: (i.incident.start_bucket, i.incident.id)))


def _span_buckets(failure: FailureType, bucket_seconds: int) -> int:
    """The most buckets an event of ``failure`` acts from its start on, settling included."""
    longest_s = failure.onset_s[1] + failure.duration_s[1] + SETTLE_S
    return ceil(longest_s / bucket_seconds) + 1


def _slotted(fleet: Fleet, b0: int, b1: int, name: str, rate: float, domain: int) -> list[Incident]:
    failure = BENIGN_TYPES[name]
    if fleet.servers_with_roles(failure.roles).size == 0:
        return []
    sb = slot_buckets(fleet.bucket_seconds)
    first = (b0 - _span_buckets(failure, fleet.bucket_seconds)) // sb
    slots = range(first, (b1 - 1) // sb + 1)
    return candidates(fleet, slots, rate, [failure], domain=domain, prefix=name)


def _days(fleet: Fleet, b0: int, b1: int, failure: FailureType) -> range:
    """Local days whose events of ``failure`` may act in ``[b0, b1)`` in some region."""
    bs = fleet.bucket_seconds
    lo = fleet.epoch_s + b0 * bs - _span_buckets(failure, bs) * bs
    hi = fleet.epoch_s + b1 * bs
    return range(lo // DAY_S - 1, hi // DAY_S + 2)


def _start_bucket(fleet: Fleet, utc_s: int) -> int:
    """The first bucket starting at or after ``utc_s``."""
    return -(-(utc_s - fleet.epoch_s) // fleet.bucket_seconds)


def _batch_jobs(fleet: Fleet, b0: int, b1: int) -> list[Incident]:
    failure = BENIGN_TYPES["batch_job"]
    key = hash_ints(fleet.seed, _BATCH_DOMAIN)
    lo, hi = BATCH_HOURS
    local_start_s = (lo + key % (hi - lo + 1)) * 3600 + hash_ints(key, 1) % 60 * 60
    found = []
    for region in fleet.region_order:
        targets = tuple(int(s) for s in fleet.servers_in_region((DATABASE,), region)[:MAX_GROUP])
        if not targets:
            continue
        offset = REGION_UTC_OFFSET_S[REGIONS[region]]
        for day in _days(fleet, b0, b1, failure):
            start = _start_bucket(fleet, day * DAY_S + local_start_s - offset)
            h = hash_ints(key, 2, day, region)
            found.append(
                drawn_event(fleet, failure, f"batch-{day}-{REGIONS[region]}", targets, start, h)
            )
    return found


@lru_cache(maxsize=16)
def _rotation_groups(
    fleet: Fleet,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], tuple[tuple[int, ...], ...]]:
    """Groups of servers rotating together: their region, their local rotation second (both
    ``int64[group]``) and their servers."""
    region = fleet.region.astype(np.int64)
    rotation = fleet.profile.rotation_s.astype(np.int64)
    keys, inverse = np.unique(region * DAY_S + rotation, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(keys.size + 1))
    servers = tuple(
        tuple(int(s) for s in order[bounds[i] : bounds[i + 1]]) for i in range(keys.size)
    )
    return keys // DAY_S, keys % DAY_S, servers


def _rotations(fleet: Fleet, b0: int, b1: int) -> list[Incident]:
    failure = BENIGN_TYPES["log_rotation"]
    span = _span_buckets(failure, fleet.bucket_seconds)
    regions, local_s, servers = _rotation_groups(fleet)
    offsets = np.array([REGION_UTC_OFFSET_S[REGIONS[r]] for r in regions], dtype=np.int64)
    within = _days(fleet, b0, b1, failure)
    days = np.arange(within.start, within.stop, dtype=np.int64)
    utc_s = days[:, None] * DAY_S + (local_s - offsets)[None, :]
    starts = -(-(utc_s - fleet.epoch_s) // fleet.bucket_seconds)  # first bucket at or after
    found = []
    for d, g in zip(*np.nonzero((starts < b1) & (starts + span > b0)), strict=True):
        day, region, local = int(days[d]), int(regions[g]), int(local_s[g])
        h = hash_ints(fleet.seed, _ROTATION_DOMAIN, day, region, local)
        name = f"logrotate-{day}-{REGIONS[region]}-{local}"
        found.append(drawn_event(fleet, failure, name, servers[g], int(starts[d, g]), h))
    return found
