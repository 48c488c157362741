"""Counter-based hashing and smooth value noise, random access in time.

Every random-looking number of the simulator is a hash of its coordinates (seed, knot,
server, channel), never the next draw of a stateful generator: bucket 10**9 costs what
bucket 0 costs, in any order, in any process. Keys of knots and of (channel, server) lanes
come from the splitmix64 finaliser (a bijective xorshift-multiply mix) in wrapping ``uint64``
numpy arithmetic, with a scalar twin on Python ints for the few places that draw one number
at a time. The bulk of the work, one value per (channel, knot, server), folds a knot key
with a lane key by a 32-bit xorshift-multiply mix (murmur3's finaliser constants): 32-bit
multiplies vectorise with AVX2 where 64-bit ones do not, which halves the cost.

Value noise: each channel has one uniform value in [-1, 1) per *knot*; between knots the
value is blended with a smoothstep weight, which makes series smooth (high lag-1
autocorrelation) instead of white. A coarse octave (``stride`` fine knots apart) is
evaluated at fine knots by the same blend. Only ``+ - * //`` and shifts are used: no
transcendental ufunc, whose SIMD implementation may differ between CPUs.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

MASK64: Final = (1 << 64) - 1
GOLDEN: Final = 0x9E3779B97F4A7C15
_MIX1: Final = 0xBF58476D1CE4E5B9
_MIX2: Final = 0x94D049BB133111EB
MIX32: Final = (0x85EBCA6B, 0xC2B2AE35)
_TO_SIGNED_UNIT: Final = 2.0**-23

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def mix64(x: int) -> int:
    """The splitmix64 finaliser on one Python int (taken modulo 2**64)."""
    z = (x + GOLDEN) & MASK64
    z = ((z ^ (z >> 30)) * _MIX1) & MASK64
    z = ((z ^ (z >> 27)) * _MIX2) & MASK64
    return z ^ (z >> 31)


def hash_ints(*parts: int) -> int:
    """A 64-bit hash of a tuple of integers (negative ones are taken modulo 2**64)."""
    h = 0
    for part in parts:
        h = mix64(h ^ (part & MASK64))
    return h


def unit(h: int) -> float:
    """The top 53 bits of a hash as a float in [0, 1)."""
    return (h >> 11) * 2.0**-53


def mix64_array(x: U64) -> U64:
    """The splitmix64 finaliser, element-wise, wrapping like the scalar ``mix64``."""
    z = x + np.uint64(GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_MIX2)
    return z ^ (z >> np.uint64(31))


def hash_array(base: int, values: I64) -> U64:
    """``hash_ints(..., v)`` continued from the hash ``base``, for every ``v`` in ``values``."""
    return mix64_array(np.asarray(values, dtype=np.int64).astype(np.uint64) ^ np.uint64(base))


def uniform(base: int, values: I64) -> F64:
    """``unit(hash_ints(..., v))`` for every ``v``: floats in [0, 1)."""
    return (hash_array(base, values) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def smoothstep(t: F64 | float) -> F64:
    """The cubic ``3t² - 2t³``: 0 at 0, 1 at 1, flat at both ends."""
    t = np.asarray(t, dtype=np.float64)
    return t * t * (3.0 - 2.0 * t)


def lane_keys(base: int, servers: I64, channels: int) -> U32:
    """Keys of every (server, channel) lane: ``uint32[server, channel]``."""
    lanes = servers.astype(np.int64)[:, None] * channels + np.arange(channels)[None, :]
    return key32(base, lanes)


def key32(base: int, values: I64) -> U32:
    """32-bit keys: the top half of ``hash_ints(..., v)`` continued from ``base``."""
    return (hash_array(base, values) >> np.uint64(32)).astype(np.uint32)


def lattice(knot_keys: U32, lane_keys: U32) -> F64:
    """Noise in [-1, 1) at every (channel, knot, server): ``float64[channel, knot, server]``.

    ``knot_keys`` is ``uint32[knot]``, ``lane_keys`` ``uint32[channel, server]``; the value
    is the top 24 bits of ``fmix32(knot_key ^ lane_key)`` scaled to [-1, 1).
    """
    h = knot_keys[None, :, None] ^ lane_keys[:, None, :]
    h ^= h >> np.uint32(16)
    h *= np.uint32(MIX32[0])
    h ^= h >> np.uint32(13)
    h *= np.uint32(MIX32[1])
    h ^= h >> np.uint32(16)
    h >>= np.uint32(8)
    out = h.astype(np.float64)
    out *= _TO_SIGNED_UNIT
    out -= 1.0
    return out


def octave(seed: int, domain: int, first_knot: int, count: int, lane_keys: U32, stride: int) -> F64:
    """Value noise at fine knots ``first_knot .. first_knot + count - 1`` of an octave whose own
    knots are ``stride`` fine knots apart: ``float64[channel, knot, server]`` in [-1, 1].

    Each value is ``(g1 - g0) * smoothstep(j / stride) + g0`` for its octave cell ``g0, g1``.
    """
    base = hash_ints(seed, domain)
    if stride == 1:
        return lattice(key32(base, np.arange(first_knot, first_knot + count)), lane_keys)
    first = first_knot // stride
    cells = (first_knot + count - 1) // stride - first + 1
    grid = lattice(key32(base, np.arange(first, first + cells + 1)), lane_keys)
    step = grid[:, 1:] - grid[:, :-1]
    if count < 2 * stride:
        # A few knots (one bucket's worth): pick them rather than fill whole cells.
        knots = np.arange(first_knot, first_knot + count)
        cell = knots // stride - first
        picked = np.take(step, cell, axis=1)
        picked *= smoothstep((knots % stride) / stride)[None, :, None]
        picked += np.take(grid, cell, axis=1)
        return picked
    weight = smoothstep(np.arange(stride) / stride)
    fine = step[:, :, None, :] * weight[None, None, :, None]
    fine += grid[:, :-1, None, :]
    offset = first_knot - first * stride
    return fine.reshape(grid.shape[0], cells * stride, -1)[:, offset : offset + count]


def hash_text(text: str) -> int:
    """A 64-bit hash of a string (stable across processes, unlike ``hash()``)."""
    data = text.encode()
    return hash_ints(len(data), *(int.from_bytes(data[i : i + 8]) for i in range(0, len(data), 8)))
