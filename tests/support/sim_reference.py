"""A plain-Python scalar reference of the simulator's numbers: one server, one number at a time.

Written from the formulas documented in ``lib/sim/noise.py``, ``lib/sim/baseline.py``,
``lib/sim/effects.py`` and ``lib/sim/fleet_state.py``, with Python ints for hashing and
Python floats (IEEE doubles) for arithmetic. Float32 results are emulated by rounding to
single precision after each float32 operation, which is exact for ``+ - *``: a double holds
more than twice a single's precision, so rounding twice never differs from rounding once.

It reuses the data of the package (the fleet's per-server constants, the event catalogue,
which failures and benign events exist and their drawn parameters: magnitude scale, onset,
burst period) but none of its arithmetic. Tests use it as an oracle for
``window``; the benchmark uses it as the per-server loop baseline.
"""

from __future__ import annotations

import struct

from lib.sim.baseline import (
    BURST_FLOOR,
    BURST_SPAN,
    COARSE_DOMAIN,
    COARSE_STRIDE,
    FINE_DOMAIN,
    LANE_DOMAIN,
    knot_buckets,
)
from lib.sim.benign import benign_between
from lib.sim.failures import SETTLE_S, Effect, Op, Shape, Wave
from lib.sim.fleet import Fleet
from lib.sim.incidents import Impact, Incident, Overrides, precursor_buckets, settle_buckets
from lib.sim.profiles import HOURLY_LOAD, WEEKDAY_BLEND_S, WEEKEND_LOAD
from lib.sim.roles import REGION_UTC_OFFSET_S, REGIONS
from lib.sim.schedule import impacts_between

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1
PERCENT = (0, 1, 2, 6, 9)  # cpu, memory, disk, packet loss, error
N_METRICS = 12


def f32(x: float) -> float:
    """Round a double to the nearest single (ties to even), as numpy's float32 cast does."""
    return struct.unpack("f", struct.pack("f", x))[0]


def mix64(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def hash_ints(*parts: int) -> int:
    h = 0
    for part in parts:
        h = mix64(h ^ (part & MASK64))
    return h


def key32(base: int, value: int) -> int:
    return mix64((value & MASK64) ^ base) >> 32


def noise_value(knot_key: int, lane_key: int) -> float:
    h = knot_key ^ lane_key
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK32
    h ^= h >> 16
    return (h >> 8) * 2.0**-23 - 1.0


def smoothstep(t: float) -> float:
    return t * t * (3.0 - 2.0 * t)


def fine_noise(seed: int, server: int, channel: int, knot: int) -> float:
    lane = key32(hash_ints(seed, LANE_DOMAIN, 1), server * 7 + channel)
    return noise_value(key32(hash_ints(seed, FINE_DOMAIN), knot), lane)


def coarse_noise(seed: int, server: int, channel: int, knot: int) -> float:
    lane = key32(hash_ints(seed, LANE_DOMAIN, 2), server * 9 + channel)
    base = hash_ints(seed, COARSE_DOMAIN)
    cell = knot // COARSE_STRIDE
    g0 = noise_value(key32(base, cell), lane)
    g1 = noise_value(key32(base, cell + 1), lane)
    weight = smoothstep((knot - cell * COARSE_STRIDE) / COARSE_STRIDE)
    return (g1 - g0) * weight + g0


def weekday_load(day: int) -> float:
    return WEEKEND_LOAD if (day + 3) % 7 >= 5 else 1.0


def local_load(local_s: int) -> float:
    second = local_s % 86_400
    hour = second // 3600
    d0, d1 = HOURLY_LOAD[hour], HOURLY_LOAD[(hour + 1) % 24]
    daily = d0 + (d1 - d0) * smoothstep((second - hour * 3600) / 3600)
    day = local_s // 86_400
    today, yesterday = weekday_load(day), weekday_load(day - 1)
    blend = smoothstep(min(second, WEEKDAY_BLEND_S) / WEEKDAY_BLEND_S)
    return daily * (yesterday + (today - yesterday) * blend)


def healthy_at_knot(fleet: Fleet, server: int, knot: int) -> list[float]:
    """The twelve healthy metrics of ``server`` at ``knot``, rounded to float32."""
    p = {name: float(getattr(fleet.profile, name)[server]) for name in vars(fleet.profile)}
    seed = fleet.seed

    def f(channel: int) -> float:
        return fine_noise(seed, server, channel, knot)

    def c(channel: int) -> float:
        return coarse_noise(seed, server, channel, knot)

    def around_one(coarse: float, a: float, fine: float = 0.0, b: float = 0.0) -> float:
        return (a * coarse + 1.0) + b * fine

    knot_seconds = knot_buckets(fleet.bucket_seconds) * fleet.bucket_seconds
    local = fleet.epoch_s + knot * knot_seconds + REGION_UTC_OFFSET_S[REGIONS[int(p["region"])]]
    second_of_day = local % 86_400
    u = (around_one(c(0), 0.07, f(0), 0.03) * local_load(local)) * p["load_scale"]
    burst = max(f(6) - BURST_FLOOR, 0.0) / BURST_SPAN
    ratio = (burst * p["burst_gain"] + 1.0) * u
    rps = ratio * p["rps"]
    cpu = ((ratio * p["cpu_per_load"] + p["cpu_idle"]) + 1.5 * c(1)) + f(1)
    memory = (u * p["memory_per_load"] + p["memory_base"]) + 1.2 * c(2)
    hours = ((second_of_day - int(p["rotation_s"])) % 86_400) / 3600
    disk = (hours * p["disk_growth_pph"] + p["disk_base"]) + 0.05 * c(3)
    net_in = rps * (p["in_kb"] * 0.008) + 0.4
    net_out = rps * (p["out_kb"] * 0.008) + 0.6
    latency = (((ratio * 0.12 + 1.0) + 0.08 * c(6)) + 0.06 * f(4)) * p["latency_ms"]
    loss = around_one(c(7), 0.5, f(5), 0.4) * p["packet_loss_pct"]
    response = (((ratio * 0.25 + 0.15) * ratio + 0.75) * p["response_ms"]) * around_one(
        c(4), 0.04, f(2), 0.03
    )
    saturation = max(cpu - 35.0, 0.0) / 40.0
    error = around_one(c(5), 0.2, f(3), 0.15) * p["error_pct"] + (saturation * saturation) * 0.8
    load1 = (cpu * (p["cores"] * 0.01)) * around_one(c(8), 0.08)
    connections = rps * p["conn_per_rps"] + p["conn_floor"]
    values = [cpu, memory, disk, net_in, net_out, latency, loss, response, rps, error]
    values += [load1, connections]
    return [f32(_clip(m, v)) for m, v in enumerate(values)]


def _clip(metric: int, v: float) -> float:
    v = max(v, 0.0)
    return min(v, 100.0) if metric in PERCENT else v


def wave(kind: Wave, elapsed_s: int, incident: Incident) -> float:
    onset_s, period_s = incident.onset_s, incident.period_s
    if kind is Wave.CONST:
        return 1.0
    if kind is Wave.FILL:
        return min(elapsed_s / onset_s, 1.0)
    if kind is Wave.FULL:
        return min(max((elapsed_s / onset_s - 0.95) / (1.0 - 0.95), 0.0), 1.0)
    if kind is Wave.PULSE:
        return 0.55 + 0.45 * abs(elapsed_s % 120 - 60) / 60
    if kind is Wave.BURST:
        return 1.0 if elapsed_s % period_s < 0.4 * period_s else 0.12
    phase = elapsed_s % onset_s
    running = phase < onset_s - 6
    if kind is Wave.OOM:
        return 0.0 if running else 1.0
    leak = phase / (onset_s - 6) if running else 0.0
    return leak if kind is Wave.LEAK else leak * leak


def change(v: float, effect: Effect, strength: float) -> float:
    if effect.op is Op.SET:
        out = v + (effect.value - v) * strength
    elif effect.op is Op.MUL:
        out = v * (1.0 + (effect.value - 1.0) * strength)
    else:
        out = v + effect.value * strength
    return _clip(effect.metric, out)


def effects_at(
    impact: Impact, server: int, bucket: int, bucket_seconds: int
) -> list[tuple[Effect, float]]:
    """The effects ``impact`` has on ``server`` at ``bucket``, with their strengths."""
    incident = impact.incident
    failure = incident.failure
    start = incident.start_bucket
    found: list[tuple[Effect, float]] = []

    def scaled(effect: Effect, strength: float) -> tuple[Effect, float]:
        return effect, strength * incident.scale if effect.scaled else strength

    if server in impact.targets and impact.first_bucket <= bucket < impact.precursor_end:
        p = precursor_buckets(failure, bucket_seconds)
        found += [scaled(e, (bucket - start + p + 1) / (p + 1)) for e in failure.precursor]
    visible = impact.end_bucket - start
    if visible <= 0:
        return found
    for group in impact.groups:
        elapsed = bucket - start - group.lag_buckets
        if server not in group.servers:
            continue
        if not 0 <= elapsed < visible + settle_buckets(bucket_seconds):
            continue
        elapsed_s = elapsed * bucket_seconds
        a = 1.0
        if failure.shape in (Shape.SUDDEN, Shape.RAMP):
            a = min((elapsed + 1) * bucket_seconds / incident.onset_s, 1.0)
        if elapsed >= visible:
            x = min((elapsed - visible + 1) * bucket_seconds / SETTLE_S, 1.0)
            a = a * ((1.0 - x) * (1.0 - x) * (1.0 - x))
        for effect in failure.effects_on(group.reach):
            strength = (
                a if effect.wave is Wave.CONST else a * wave(effect.wave, elapsed_s, incident)
            )
            found.append(scaled(effect, strength))
    return found


def _what(i: Incident) -> tuple[int, str, tuple[int, ...], int]:
    return (i.start_bucket, i.type, i.targets, i.draw)


def reference_window(
    fleet: Fleet, b0: int, b1: int, overrides: Overrides, servers: list[int]
) -> tuple[list[list[list[float]]], list[list[list[int]]]]:
    """Values ``[bucket][server][metric]`` and ground truth (``ground_truth(...).cells``), the
    way a loop computes them."""
    per_knot = knot_buckets(fleet.bucket_seconds)
    # Benign events act first, then failures; truth indexes both together by (start, id).
    applied = benign_between(fleet, b0, b1, overrides) + impacts_between(fleet, b0, b1, overrides)
    by_start = sorted(applied, key=lambda i: (i.incident.start_bucket, i.incident.id))
    index_of = {id(impact): index for index, impact in enumerate(by_start)}
    values = [[[0.0] * N_METRICS for _ in servers] for _ in range(b0, b1)]
    truth = [[[-1] * N_METRICS for _ in servers] for _ in range(b0, b1)]
    for column, server in enumerate(servers):
        knots = {}
        for b in range(b0, b1):
            k = b // per_knot
            for knot in (k, k + 1):
                if knot not in knots:
                    knots[knot] = healthy_at_knot(fleet, server, knot)
            weight = f32(smoothstep((b - k * per_knot) / per_knot))
            v0, v1 = knots[k], knots[k + 1]
            row = [f32(f32(f32(v1[m] - v0[m]) * weight) + v0[m]) for m in range(N_METRICS)]
            marks = truth[b - b0][column]
            acting = [(i, effects_at(i, server, b, fleet.bucket_seconds)) for i in applied]
            # Incidents compose by what they are (start, type, targets, draw), never their id.
            composing = sorted(acting, key=lambda pair: _what(pair[0].incident))
            for impact, effects in acting:
                for effect, strength in effects:
                    if strength > 0:
                        marks[effect.metric] = index_of[id(impact)]
            # Every set effect, then every scaling, then every addition, each in event order.
            for op in (Op.SET, Op.MUL, Op.ADD):
                for _, effects in composing:
                    chosen = [(e, strength) for e, strength in effects if e.op is op]
                    if not chosen:
                        continue
                    work = list(row)
                    for effect, strength in chosen:
                        work[effect.metric] = change(work[effect.metric], effect, strength)
                    row = [f32(v) for v in work]
            values[b - b0][column] = row
    return values, truth
