"""Per-role baselines, per-server variation and the daily/weekly load pattern.

Healthy metrics are kept well inside their alerting bands at every hour (the tests sweep a
week): a healthy api server peaks near 73 % CPU, a cache near 85 % memory, so that only
incidents ever cross the thresholds of ``lib.sim.health``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final, Self

import numpy as np
import numpy.typing as npt

from lib.sim.noise import hash_ints, smoothstep, uniform
from lib.sim.roles import REGION_UTC_OFFSET_S, REGIONS

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

DAY_S: Final = 86_400
HOUR_S: Final = 3_600

# Relative load at each local hour (0..23): night low, morning peak, afternoon normal,
# evening high. Between hours the curve is blended with a smoothstep.
HOURLY_LOAD: Final = (
    0.42, 0.32, 0.26, 0.22, 0.21, 0.24, 0.36, 0.55, 0.76, 0.90, 0.94, 0.88,
    0.78, 0.72, 0.68, 0.66, 0.68, 0.74, 0.82, 0.92, 0.97, 0.95, 0.80, 0.60,
)  # fmt: skip
WEEKEND_LOAD: Final = 0.7
# Saturday and Sunday fade in and out over the first local hours of the day.
WEEKDAY_BLEND_S: Final = 2 * HOUR_S
ENVIRONMENT_LOAD: Final = (1.0, 0.45, 0.25)
UTC_OFFSETS_S: Final = np.array([REGION_UTC_OFFSET_S[r] for r in REGIONS], dtype=np.int64)
UTC_OFFSETS_S.flags.writeable = False


@dataclass(frozen=True)
class RoleProfile:
    """Healthy behaviour of one role, at full production load (``load == 1``)."""

    rps: float  # requests (queries, ops, messages) per second
    cpu_idle: float
    cpu_per_load: float
    memory_base: float
    memory_per_load: float
    disk_base: tuple[float, float]  # range of the disk use right after log rotation, %
    disk_growth_pph: float  # disk use added per hour until the next rotation, %
    latency_ms: float
    packet_loss_pct: float
    response_ms: float
    error_pct: float
    in_kb: float  # inbound kilobytes per request
    out_kb: float
    conn_floor: float
    conn_per_rps: float
    burst_gain: float  # how far queue-like bursts multiply the traffic
    cores: tuple[int, ...]
    gb_per_core: int
    disk_gb: tuple[int, ...]


# In ROLES order: loadbalancer, web, api, database, cache, queue.
ROLE_PROFILES: Final = (
    RoleProfile(2400, 8, 22, 24, 8, (18, 30), 0.30, 0.45, 0.02, 4.0, 0.05, 2, 24, 60, 0.8, 0,
                (2, 4), 2, (50,)),
    RoleProfile(800, 10, 35, 38, 15, (25, 42), 0.50, 0.60, 0.02, 60.0, 0.10, 3, 40, 30, 0.5, 0,
                (2, 4, 8), 2, (100, 200)),
    RoleProfile(600, 18, 42, 48, 15, (25, 42), 0.50, 0.70, 0.02, 120.0, 0.15, 4, 12, 20, 0.3, 0,
                (4, 8, 16), 4, (100, 200)),
    RoleProfile(1500, 30, 15, 67, 6, (35, 50), 0.60, 0.50, 0.01, 8.0, 0.02, 2, 6, 40, 0.05, 0,
                (8, 16, 32), 8, (500, 1000, 2000)),
    RoleProfile(8000, 4, 8, 75, 4, (15, 25), 0.15, 0.40, 0.01, 0.8, 0.01, 0.3, 1.5, 50, 0.02, 0,
                (4, 8), 8, (100,)),
    RoleProfile(400, 12, 20, 44, 15, (30, 45), 0.60, 0.60, 0.02, 12.0, 0.05, 3, 3, 15, 0.1, 0.9,
                (2, 4, 8), 4, (200, 500)),
)  # fmt: skip

_PARAM_DOMAIN: Final = 0x5E4F


@dataclass(frozen=True)
class ServerProfiles:
    """Per-server constants of the healthy model, ``float64[server]`` each (offsets in s)."""

    region: I64  # index into REGIONS
    rotation_s: I64  # local second of the day at which logs rotate
    load_scale: F64  # environment share times this server's capacity
    rps: F64
    cpu_idle: F64
    cpu_per_load: F64
    memory_base: F64
    memory_per_load: F64
    disk_base: F64
    disk_growth_pph: F64
    latency_ms: F64
    packet_loss_pct: F64
    response_ms: F64
    error_pct: F64
    in_kb: F64
    out_kb: F64
    conn_floor: F64
    conn_per_rps: F64
    burst_gain: F64
    cores: F64

    @property
    def utc_offset_s(self) -> I64:
        return UTC_OFFSETS_S[self.region]

    def take(self, servers: npt.NDArray[np.intp]) -> Self:
        """The profiles of a subset of servers, in the order given."""
        return type(self)(*(getattr(self, f.name)[servers] for f in fields(self)))


def _role_column(name: str, role: npt.NDArray[np.int8]) -> F64:
    return np.array([getattr(p, name) for p in ROLE_PROFILES], dtype=np.float64)[role]


def server_profiles(
    seed: int,
    role: npt.NDArray[np.int8],
    region: npt.NDArray[np.int8],
    env: npt.NDArray[np.int8],
    cores: npt.NDArray[np.int16],
) -> ServerProfiles:
    """Draw every server's constants from the seed (same seed, same numbers, any machine)."""
    servers = np.arange(role.size, dtype=np.int64)

    def draw(param: int) -> F64:
        return uniform(hash_ints(seed, _PARAM_DOMAIN, param), servers)

    def spread(param: int, width: float) -> F64:
        return 1.0 - width + 2.0 * width * draw(param)

    disk_lo = np.array([p.disk_base[0] for p in ROLE_PROFILES])[role]
    disk_hi = np.array([p.disk_base[1] for p in ROLE_PROFILES])[role]
    rotation_minute = np.floor(draw(0) * 60.0).astype(np.int64)
    return ServerProfiles(
        region=region.astype(np.int64),
        rotation_s=3 * HOUR_S + 60 * rotation_minute,
        load_scale=np.array(ENVIRONMENT_LOAD)[env] * spread(1, 0.15),
        rps=_role_column("rps", role) * spread(2, 0.1),
        cpu_idle=_role_column("cpu_idle", role) * spread(3, 0.1),
        cpu_per_load=_role_column("cpu_per_load", role),
        memory_base=_role_column("memory_base", role) + 6.0 * draw(4) - 3.0,
        memory_per_load=_role_column("memory_per_load", role),
        disk_base=disk_lo + (disk_hi - disk_lo) * draw(5),
        disk_growth_pph=_role_column("disk_growth_pph", role) * spread(6, 0.3),
        latency_ms=_role_column("latency_ms", role) * spread(7, 0.3),
        packet_loss_pct=_role_column("packet_loss_pct", role) * spread(8, 0.3),
        response_ms=_role_column("response_ms", role) * spread(9, 0.2),
        error_pct=_role_column("error_pct", role) * spread(10, 0.3),
        in_kb=_role_column("in_kb", role),
        out_kb=_role_column("out_kb", role) * spread(11, 0.2),
        conn_floor=_role_column("conn_floor", role),
        conn_per_rps=_role_column("conn_per_rps", role),
        burst_gain=_role_column("burst_gain", role),
        cores=cores.astype(np.float64),
    )


def local_load(local_s: I64) -> F64:
    """Relative traffic (about 0.15..0.97) at local times ``local_s`` (seconds, any shape)."""
    second_of_day = local_s % DAY_S
    hour = second_of_day // HOUR_S
    table = np.array(HOURLY_LOAD)
    d0 = table[hour]
    d1 = table[(hour + 1) % 24]
    daily = d0 + (d1 - d0) * smoothstep((second_of_day - hour * HOUR_S) / HOUR_S)
    day = local_s // DAY_S
    today = _weekday_load(day)
    blend = smoothstep(np.minimum(second_of_day, WEEKDAY_BLEND_S) / WEEKDAY_BLEND_S)
    yesterday = _weekday_load(day - 1)
    load: npt.NDArray[np.float64] = daily * (yesterday + (today - yesterday) * blend)
    return load


def _weekday_load(day: I64) -> F64:
    # Unix day 0 (1970-01-01) was a Thursday: weekday 3 counting Monday as 0.
    weekday = (day + 3) % 7
    return np.where(weekday >= 5, WEEKEND_LOAD, 1.0)
