"""The fleet: ids, roles, regions, specs and topology, all drawn from ``(seed, size)``.

Servers are ordered by role (every ``lb-*``, then every ``web-*``, ...), numbered from 1
within their role. Within a role, server ``j`` lives in region ``region_order[j % R]`` where
``R = min(5, number of load balancers)``: every used region gets a load balancer and, as far
as the role counts allow, a complete chain ``lb → web → api → db / cache / queue``.

Topology edges point from a caller to the server it calls (its *dependency*); requests flow
along them and failures of a dependency hurt its *dependents* (callers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from lib.errors import NotFound, ValidationError
from lib.sim.baseline import NoiseLanes, noise_lanes
from lib.sim.noise import hash_ints, uniform
from lib.sim.profiles import ROLE_PROFILES, ServerProfiles, server_profiles
from lib.sim.roles import (
    API,
    ARM64,
    CACHE,
    DATABASE,
    DEVELOPMENT,
    LOADBALANCER,
    PRODUCTION,
    QUEUE,
    REGIONS,
    ROLE_PREFIXES,
    ROLES,
    STAGING,
    WEB,
)

IntArray = npt.NDArray[np.int32]

MAX_SIZE: Final = 100_000
# Role mix of a 30-server fleet beyond the first server of each role: (3, 8, 7, 5, 4, 3).
_EXTRA_WEIGHTS: Final = (2, 7, 6, 4, 3, 2)
# Which roles a fleet of fewer than six servers has, in order of need.
_SMALL_FLEET_ORDER: Final = (WEB, API, DATABASE, LOADBALANCER, CACHE, QUEUE)
# (caller role, dependency role, dependencies per caller); load balancers are handled apart:
# each web server sits behind exactly one load balancer of its region.
_CALLS: Final = ((WEB, API, 2), (API, DATABASE, 2), (API, CACHE, 1), (API, QUEUE, 1))
_ARM_SHARE: Final = 0.3
_ENV_SHARES: Final = (0.7, 0.2)  # production, staging; the rest is development
_FLEET_DOMAIN: Final = 0xF1EE7
_ID_PATTERN: Final = re.compile(r"([a-z]+)-(\d+)")


@dataclass(frozen=True, eq=False)
class Fleet:
    """An immutable fleet. Arrays are indexed by server; compared and hashed by identity.

    ``down_ptr``/``down_idx`` is the CSR of dependencies (servers each server calls),
    ``up_ptr``/``up_idx`` the CSR of dependents (servers calling it).
    """

    seed: int
    epoch_s: int
    bucket_seconds: int
    ids: tuple[str, ...]
    role: npt.NDArray[np.int8]
    region: npt.NDArray[np.int8]
    env: npt.NDArray[np.int8]
    arch: npt.NDArray[np.int8]
    cores: npt.NDArray[np.int16]
    memory_gb: npt.NDArray[np.int32]
    disk_gb: npt.NDArray[np.int32]
    role_offsets: IntArray  # servers of role r are role_offsets[r] .. role_offsets[r+1]-1
    region_order: tuple[int, ...]  # regions in use, in round-robin order
    down_ptr: IntArray
    down_idx: IntArray
    up_ptr: IntArray
    up_idx: IntArray
    profile: ServerProfiles  # per-server constants of the healthy model
    lanes: NoiseLanes  # per-server noise keys

    @property
    def size(self) -> int:
        return len(self.ids)

    def index_of(self, server_id: str) -> int:
        """The index of ``server_id`` (e.g. ``"web-03"``); raises ``NotFound``."""
        match = _ID_PATTERN.fullmatch(server_id)
        if match and match.group(1) in ROLE_PREFIXES:
            r = ROLE_PREFIXES.index(match.group(1))
            i = int(self.role_offsets[r]) + int(match.group(2)) - 1
            if self.role_offsets[r] <= i < self.role_offsets[r + 1] and self.ids[i] == server_id:
                return i
        raise NotFound(f"no server {server_id!r} in this fleet", server_id=server_id)

    def dependencies(self, i: int) -> IntArray:
        """Servers that server ``i`` calls (downstream)."""
        return self.down_idx[self.down_ptr[i] : self.down_ptr[i + 1]]

    def dependents(self, i: int) -> IntArray:
        """Servers that call server ``i`` (upstream)."""
        return self.up_idx[self.up_ptr[i] : self.up_ptr[i + 1]]

    def servers_with_roles(self, roles: tuple[int, ...]) -> IntArray:
        """Indices of every server whose role is in ``roles``, ascending."""
        parts = [
            np.arange(self.role_offsets[r], self.role_offsets[r + 1], dtype=np.int32)
            for r in sorted(roles)
        ]
        return np.concatenate(parts) if parts else np.empty(0, np.int32)

    def servers_in_region(self, roles: tuple[int, ...], region: int) -> IntArray:
        """Indices of the servers of ``roles`` in ``region``, ascending."""
        if region not in self.region_order:
            return np.empty(0, np.int32)
        step = len(self.region_order)
        first = self.region_order.index(region)
        parts = [
            np.arange(self.role_offsets[r] + first, self.role_offsets[r + 1], step, dtype=np.int32)
            for r in sorted(roles)
        ]
        return np.concatenate(parts) if parts else np.empty(0, np.int32)


def role_counts(size: int) -> tuple[int, ...]:
    """How many servers of each role a fleet of ``size`` has (sums to ``size``)."""
    if size < len(ROLES):
        counts = [0] * len(ROLES)
        for r in _SMALL_FLEET_ORDER[:size]:
            counts[r] = 1
        return tuple(counts)
    extra = size - len(ROLES)
    total = sum(_EXTRA_WEIGHTS)
    base = [extra * w // total for w in _EXTRA_WEIGHTS]
    # Largest remainder, ties to the earlier role.
    by_remainder = sorted(
        range(len(ROLES)), key=lambda r: (-(extra * _EXTRA_WEIGHTS[r] % total), r)
    )
    for r in by_remainder[: extra - sum(base)]:
        base[r] += 1
    return tuple(1 + b for b in base)


def build_fleet(seed: int, size: int = 30, *, epoch_s: int, bucket_seconds: int = 3) -> Fleet:
    """Build the fleet of ``size`` servers for ``seed``; bucket ``b`` starts at
    ``epoch_s + b * bucket_seconds`` (Unix seconds)."""
    if not 1 <= size <= MAX_SIZE:
        raise ValidationError(f"fleet size must be 1..{MAX_SIZE}, got {size}", field="size")
    if bucket_seconds < 1:
        raise ValidationError(
            f"bucket_seconds must be at least 1, got {bucket_seconds}", field="bucket_seconds"
        )
    counts = role_counts(size)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    role = np.repeat(np.arange(len(ROLES), dtype=np.int8), counts)
    local = np.arange(size, dtype=np.int64) - offsets[role]
    ids = tuple(_ids(counts))

    region_order = _region_order(seed, max(1, min(len(REGIONS), counts[LOADBALANCER])))
    region = np.array(region_order, dtype=np.int8)[local % len(region_order)]

    servers = np.arange(size, dtype=np.int64)
    env_draw = uniform(hash_ints(seed, _FLEET_DOMAIN, 1), servers)
    env = np.where(
        env_draw < _ENV_SHARES[0],
        PRODUCTION,
        np.where(env_draw < sum(_ENV_SHARES), STAGING, DEVELOPMENT),
    ).astype(np.int8)
    arch = np.where(uniform(hash_ints(seed, _FLEET_DOMAIN, 2), servers) < _ARM_SHARE, ARM64, 0)
    cores = _pick(seed, 3, role, [p.cores for p in ROLE_PROFILES]).astype(np.int16)
    gb_per_core = np.array([p.gb_per_core for p in ROLE_PROFILES])[role]
    disk_gb = _pick(seed, 4, role, [p.disk_gb for p in ROLE_PROFILES]).astype(np.int32)

    src, dst = _edges(role, region, region_order, offsets)
    down_ptr, down_idx = _csr(src, dst, size)
    up_ptr, up_idx = _csr(dst, src, size)
    fleet = Fleet(
        seed=seed,
        epoch_s=epoch_s,
        bucket_seconds=bucket_seconds,
        ids=ids,
        role=role,
        region=region,
        env=env,
        arch=arch.astype(np.int8),
        cores=cores,
        memory_gb=(cores * gb_per_core).astype(np.int32),
        disk_gb=disk_gb,
        role_offsets=offsets,
        region_order=region_order,
        down_ptr=down_ptr,
        down_idx=down_idx,
        up_ptr=up_ptr,
        up_idx=up_idx,
        profile=server_profiles(seed, role, region, env, cores),
        lanes=noise_lanes(seed, size),
    )
    parts = (fleet, fleet.profile, fleet.lanes)
    for value in (v for part in parts for v in vars(part).values()):
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return fleet


def _ids(counts: tuple[int, ...]) -> list[str]:
    ids: list[str] = []
    for prefix, n in zip(ROLE_PREFIXES, counts, strict=True):
        width = max(2, len(str(n)))
        ids.extend(f"{prefix}-{k:0{width}d}" for k in range(1, n + 1))
    return ids


def _region_order(seed: int, n: int) -> tuple[int, ...]:
    ranked = sorted(range(len(REGIONS)), key=lambda r: hash_ints(seed, _FLEET_DOMAIN, 0, r))
    return tuple(ranked[:n])


def _pick(
    seed: int, param: int, role: npt.NDArray[np.int8], options: list[tuple[int, ...]]
) -> npt.NDArray[np.int64]:
    draw = uniform(hash_ints(seed, _FLEET_DOMAIN, param), np.arange(role.size, dtype=np.int64))
    widest = max(len(o) for o in options)
    table = np.array([o + (o[-1],) * (widest - len(o)) for o in options])
    count = np.array([len(o) for o in options])[role]
    picked: npt.NDArray[np.int64] = table[role, np.floor(draw * count).astype(np.int64)]
    return picked


def _edges(
    role: npt.NDArray[np.int8],
    region: npt.NDArray[np.int8],
    region_order: tuple[int, ...],
    offsets: IntArray,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    src: list[npt.NDArray[np.int64]] = []
    dst: list[npt.NDArray[np.int64]] = []
    for g in region_order:
        lbs = np.flatnonzero((role == LOADBALANCER) & (region == g))
        webs = np.flatnonzero((role == WEB) & (region == g))
        if lbs.size and webs.size:
            src.append(lbs[np.arange(webs.size) % lbs.size])
            dst.append(webs)
        for caller_role, callee_role, fanout in _CALLS:
            callers = np.flatnonzero((role == caller_role) & (region == g))
            callees = np.flatnonzero((role == callee_role) & (region == g))
            if callees.size == 0:
                # No such tier here: call the fleet-wide tier rather than nothing.
                callees = np.arange(offsets[callee_role], offsets[callee_role + 1])
            if callers.size == 0 or callees.size == 0:
                continue
            hops = np.arange(min(fanout, callees.size))
            src.append(np.repeat(callers, hops.size))
            dst.append(
                callees[(np.arange(callers.size)[:, None] + hops[None, :]).ravel() % callees.size]
            )
    if not src:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(src).astype(np.int64), np.concatenate(dst).astype(np.int64)


def _csr(
    a: npt.NDArray[np.int64], b: npt.NDArray[np.int64], size: int
) -> tuple[IntArray, IntArray]:
    order = np.lexsort((b, a))
    ptr = np.zeros(size + 1, dtype=np.int32)
    np.cumsum(np.bincount(a, minlength=size), out=ptr[1:])
    return ptr, b[order].astype(np.int32)
