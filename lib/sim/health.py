"""Server status and health score, computed from metrics alone.

Healthy metrics never reach a warning limit (``lib.sim.profiles`` keeps them well inside);
incidents push their key metrics past them.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from lib.sim.fleet import Fleet
from lib.sim.metrics import (
    CONNECTIONS,
    CPU,
    DISK,
    ERROR,
    LATENCY,
    LOAD1,
    MEMORY,
    PACKET_LOSS,
    RESPONSE,
    RPS,
)

SERVER_STATUSES: Final = ("healthy", "warning", "critical", "offline")
HEALTHY, WARNING, CRITICAL, OFFLINE = range(len(SERVER_STATUSES))

# (metric, warning limit, critical limit), absolute.
LIMITS: Final = (
    (CPU, 80.0, 90.0),
    (MEMORY, 88.0, 95.0),
    (DISK, 85.0, 95.0),
    (LATENCY, 20.0, 100.0),
    (PACKET_LOSS, 1.0, 5.0),
    (ERROR, 2.0, 10.0),
)
RESPONSE_LIMITS: Final = (3.0, 8.0)  # times the server's normal response time
LOAD_LIMITS: Final = (1.5, 3.0)  # runnable tasks per core
HEALTH_LIMITS: Final = (60.0, 35.0)  # below these scores: warning, critical

# (metric, no penalty up to, points lost per unit above) for the health score.
_PENALTIES: Final = (
    (CPU, 70.0, 1.2),
    (MEMORY, 80.0, 1.5),
    (DISK, 80.0, 1.5),
    (LATENCY, 10.0, 0.3),
    (PACKET_LOSS, 0.5, 4.0),
    (ERROR, 1.0, 3.0),
)
_RESPONSE_PENALTY: Final = (1.5, 10.0)
_LOAD_PENALTY: Final = (1.0, 15.0)


def assess(
    fleet: Fleet,
    values: npt.NDArray[np.float32],
    *,
    servers: npt.NDArray[np.intp] | None = None,
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """Status and health of every server in ``values`` (``float32[..., server, metric]``).

    ``servers`` names the servers of the server axis (default: the whole fleet). Returns
    ``int8[..., server]`` indices into ``SERVER_STATUSES`` and ``float32[..., server]`` in
    [0, 100].
    """
    chosen = np.arange(fleet.size) if servers is None else servers
    normal_response = fleet.profile.response_ms[chosen].astype(np.float32)
    cores = fleet.profile.cores[chosen].astype(np.float32)
    response = values[..., RESPONSE] / normal_response
    load = values[..., LOAD1] / cores

    health = np.full(values.shape[:-1], 100.0, dtype=np.float32)
    warning = np.zeros(values.shape[:-1], dtype=bool)
    critical = np.zeros(values.shape[:-1], dtype=bool)
    for metric, free, per_unit in _PENALTIES:
        health -= np.float32(per_unit) * np.maximum(values[..., metric] - np.float32(free), 0)
    for ratio, (free, per_unit) in ((response, _RESPONSE_PENALTY), (load, _LOAD_PENALTY)):
        health -= np.float32(per_unit) * np.maximum(ratio - np.float32(free), 0)
    for metric, warn, crit in LIMITS:
        warning |= values[..., metric] >= warn
        critical |= values[..., metric] >= crit
    for ratio, (warn, crit) in ((response, RESPONSE_LIMITS), (load, LOAD_LIMITS)):
        warning |= ratio >= warn
        critical |= ratio >= crit
    np.clip(health, 0, 100, out=health)
    offline = (values[..., RPS] == 0) & (values[..., CONNECTIONS] == 0)
    health[offline] = 0
    status = np.where(
        offline,
        OFFLINE,
        np.where(
            critical | (health < HEALTH_LIMITS[1]),
            CRITICAL,
            np.where(warning | (health < HEALTH_LIMITS[0]), WARNING, HEALTHY),
        ),
    ).astype(np.int8)
    return status, health
