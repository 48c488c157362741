"""Healthy metrics at knots: the smooth part of the simulation, before any incident.

The model runs at *knot* resolution (one knot every ``knot_buckets(bucket_seconds)`` buckets,
about 30 s) and ``fleet_state`` blends consecutive knots into buckets; this is what makes a
24-hour window of the fleet one cheap vectorised call. Within a knot the metrics move
together: the load of the region's local hour, times the server's share and a slow traffic
noise, gives ``rps``; ``rps`` drives CPU, network, connections and response time; errors
rise with CPU saturation; disk fills slowly and drops at the daily log rotation.

The formulas, in float64, each operation rounded in exactly this order (``cX``/``fX`` are the
coarse/fine noise channels in [-1, 1], other names are ``ServerProfiles`` fields)::

    J(c, a, f, b) = (a*c + 1) + b*f
    u        = (J(cT, .07, fT, .03) * load) * load_scale      load = profiles.local_load
    ratio    = ((max(fB - BURST_FLOOR, 0) / BURST_SPAN) * burst_gain + 1) * u
    rps      = ratio * rps
    cpu      = ((ratio * cpu_per_load + cpu_idle) + 1.5*cC) + fC
    memory   = (u * memory_per_load + memory_base) + 1.2*cM
    disk     = ((((second_of_day - rotation_s) mod 86400) / 3600) * disk_growth_pph
                + disk_base) + 0.05*cD
    net_in   = rps * (in_kb * 0.008) + 0.4
    net_out  = rps * (out_kb * 0.008) + 0.6
    latency  = (((ratio*0.12 + 1) + 0.08*cL) + 0.06*fL) * latency_ms
    loss     = J(cP, .5, fP, .4) * packet_loss_pct
    response = (((ratio*0.25 + 0.15)*ratio + 0.75) * response_ms) * J(cR, .04, fR, .03)
    error    = J(cE, .2, fE, .15) * error_pct + ((max(cpu - 35, 0) / 40)**2) * 0.8
    load1    = (cpu * (cores * 0.01)) * (0.08*cLd + 1)
    connections = rps * conn_per_rps + conn_floor

then clipped to [0, 100] (percentages) or [0, inf) and rounded once to float32. Only
``+ - * /`` are used, so the numbers are bit-identical on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from lib.sim.metrics import (
    CONNECTIONS,
    CPU,
    DISK,
    ERROR,
    LATENCY,
    LOAD1,
    MEMORY,
    METRICS,
    NET_IN,
    NET_OUT,
    PACKET_LOSS,
    RESPONSE,
    RPS,
    UPPER_BOUND,
)
from lib.sim.noise import hash_ints, lane_keys, octave
from lib.sim.profiles import DAY_S, HOUR_S, UTC_OFFSETS_S, ServerProfiles, local_load

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

KNOT_TARGET_S: Final = 30
COARSE_STRIDE: Final = 10  # fine knots per coarse knot (about 5 minutes)

# Noise channels of the fine and of the coarse octave.
FINE_CHANNELS: Final = 7
F_TRAFFIC, F_CPU, F_RESPONSE, F_ERROR, F_LATENCY, F_LOSS, F_BURST = range(FINE_CHANNELS)
COARSE_CHANNELS: Final = 9
C_TRAFFIC, C_CPU, C_MEMORY, C_DISK, C_RESPONSE, C_ERROR, C_LATENCY, C_LOSS, C_LOAD = range(
    COARSE_CHANNELS
)
FINE_DOMAIN: Final = 0xF17E
COARSE_DOMAIN: Final = 0xC0A5
LANE_DOMAIN: Final = 0x1A7E
BURST_FLOOR: Final = 0.35
BURST_SPAN: Final = 1.0 - BURST_FLOOR


def knot_buckets(bucket_seconds: int) -> int:
    """Buckets between two knots: about 30 s of time, at least one bucket."""
    return max(1, round(KNOT_TARGET_S / bucket_seconds))


@dataclass(frozen=True)
class NoiseLanes:
    """Hash keys of each server's noise channels, ``uint32[channel, server]`` per octave."""

    fine: npt.NDArray[np.uint32]
    coarse: npt.NDArray[np.uint32]

    def take(self, servers: npt.NDArray[np.intp]) -> NoiseLanes:
        return NoiseLanes(self.fine[:, servers], self.coarse[:, servers])


def noise_lanes(seed: int, size: int) -> NoiseLanes:
    """The noise keys of servers ``0 .. size - 1`` (computed once per fleet)."""
    servers = np.arange(size, dtype=np.int64)
    return NoiseLanes(
        fine=lane_keys(hash_ints(seed, LANE_DOMAIN, 1), servers, FINE_CHANNELS).T.copy(),
        coarse=lane_keys(hash_ints(seed, LANE_DOMAIN, 2), servers, COARSE_CHANNELS).T.copy(),
    )


def healthy_at_knots(
    profile: ServerProfiles,
    lanes: NoiseLanes,
    seed: int,
    first_knot: int,
    count: int,
    knot_seconds: int,
    epoch_s: int,
) -> npt.NDArray[np.float32]:
    """Healthy metrics at knots ``first_knot .. first_knot + count - 1``.

    Returns ``float32[knot, server, metric]`` for the servers whose constants and noise keys
    ``profile`` and ``lanes`` hold; knot ``k`` is at Unix time ``epoch_s + k * knot_seconds``.
    """
    p = profile
    fine = octave(seed, FINE_DOMAIN, first_knot, count, lanes.fine, 1)
    coarse = octave(seed, COARSE_DOMAIN, first_knot, count, lanes.coarse, COARSE_STRIDE)
    t = epoch_s + np.arange(first_knot, first_knot + count, dtype=np.int64) * knot_seconds
    # Time of day depends on the region only: compute it per region, then gather.
    local_s = t[:, None] + UTC_OFFSETS_S[None, :]
    load = local_load(local_s)[:, p.region]
    second_of_day = (local_s % DAY_S)[:, p.region]

    # Each metric is computed in place in one block, in exactly the documented order:
    # fresh temporaries would cost more than the arithmetic.
    m = np.empty((len(METRICS), count, p.region.size))
    u = _around_one(coarse[C_TRAFFIC], 0.07, fine[F_TRAFFIC], 0.03)
    u *= load
    u *= p.load_scale
    ratio = fine[F_BURST]
    ratio -= BURST_FLOOR
    np.maximum(ratio, 0.0, out=ratio)
    ratio /= BURST_SPAN
    ratio *= p.burst_gain
    ratio += 1.0
    ratio *= u
    rps = np.multiply(ratio, p.rps, out=m[RPS])
    cpu = np.multiply(ratio, p.cpu_per_load, out=m[CPU])
    cpu += p.cpu_idle
    cpu += _scaled(coarse[C_CPU], 1.5)
    cpu += fine[F_CPU]
    memory = np.multiply(u, p.memory_per_load, out=m[MEMORY])
    memory += p.memory_base
    memory += _scaled(coarse[C_MEMORY], 1.2)
    disk = np.subtract(second_of_day, p.rotation_s, out=m[DISK])
    np.remainder(disk, DAY_S, out=disk)
    disk /= HOUR_S
    disk *= p.disk_growth_pph
    disk += p.disk_base
    disk += _scaled(coarse[C_DISK], 0.05)
    np.multiply(rps, p.in_kb * 0.008, out=m[NET_IN])
    m[NET_IN] += 0.4
    np.multiply(rps, p.out_kb * 0.008, out=m[NET_OUT])
    m[NET_OUT] += 0.6
    latency = np.multiply(ratio, 0.12, out=m[LATENCY])
    latency += 1.0
    latency += _scaled(coarse[C_LATENCY], 0.08)
    latency += _scaled(fine[F_LATENCY], 0.06)
    latency *= p.latency_ms
    loss = _around_one(coarse[C_LOSS], 0.5, fine[F_LOSS], 0.4)
    np.multiply(loss, p.packet_loss_pct, out=m[PACKET_LOSS])
    response = np.multiply(ratio, 0.25, out=m[RESPONSE])
    response += 0.15
    response *= ratio
    response += 0.75
    response *= p.response_ms
    response *= _around_one(coarse[C_RESPONSE], 0.04, fine[F_RESPONSE], 0.03)
    saturation = np.subtract(cpu, 35.0, out=ratio)  # ratio is no longer needed
    np.maximum(saturation, 0.0, out=saturation)
    saturation /= 40.0
    saturation *= saturation
    saturation *= 0.8
    error = np.multiply(
        _around_one(coarse[C_ERROR], 0.2, fine[F_ERROR], 0.15), p.error_pct, out=m[ERROR]
    )
    error += saturation
    load1 = np.multiply(cpu, p.cores * 0.01, out=m[LOAD1])
    load1 *= _around_one(coarse[C_LOAD], 0.08)
    connections = np.multiply(rps, p.conn_per_rps, out=m[CONNECTIONS])
    connections += p.conn_floor

    np.maximum(m, 0.0, out=m)
    np.minimum(m, UPPER_BOUND[:, None, None], out=m)
    out = np.empty((count, p.region.size, len(METRICS)), dtype=np.float32)
    for metric, column in enumerate(m):
        out[..., metric] = column
    return out


def _scaled(noise: F64, factor: float) -> F64:
    """``factor * noise``, overwriting ``noise``."""
    noise *= factor
    return noise


def _around_one(coarse: F64, a: float, fine: F64 | None = None, b: float = 0.0) -> F64:
    """``(a * coarse + 1) + b * fine``, overwriting the noise arrays."""
    coarse *= a
    coarse += 1.0
    if fine is not None:
        fine *= b
        coarse += fine
    return coarse
