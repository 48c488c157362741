"""The top processes of a server at a bucket, consistent with its metrics.

CPU and memory shares of a role's usual processes are jittered per half minute and scaled so
that they add up to the server's ``cpu_pct`` and ``memory_pct``. Incidents show: a crashed
server has no application process, a breached one runs a miner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from lib.sim.baseline import knot_buckets
from lib.sim.fleet import Fleet
from lib.sim.fleet_state import window
from lib.sim.health import OFFLINE, assess
from lib.sim.incidents import Overrides
from lib.sim.metrics import CPU, MEMORY
from lib.sim.noise import hash_ints, hash_text, unit
from lib.sim.roles import API, CACHE, DATABASE, LOADBALANCER, QUEUE, WEB
from lib.sim.schedule import impacts_between


@dataclass(frozen=True)
class Process:
    """One process: its shares of the server's CPU and memory, in percent of the server."""

    pid: int
    name: str
    user: str
    command: str
    cpu_pct: float
    memory_pct: float


# (name, user, command, cpu weight, memory weight); the first one is the application.
_SYSTEM: Final = (
    ("node_exporter", "prometheus", "/usr/local/bin/node_exporter", 0.02, 0.01),
    ("rsyslogd", "syslog", "/usr/sbin/rsyslogd -n", 0.01, 0.01),
    ("sshd", "root", "sshd: /usr/sbin/sshd -D", 0.005, 0.005),
    ("systemd", "root", "/sbin/init", 0.005, 0.01),
)
ROLE_PROCESSES: Final = {
    LOADBALANCER: (
        ("haproxy", "haproxy", "/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg", 0.9, 0.7),
        ("keepalived", "root", "/usr/sbin/keepalived --dont-fork", 0.03, 0.05),
    ),
    WEB: (
        ("node", "www-data", "node /srv/web/server.js", 0.6, 0.6),
        ("nginx", "www-data", "nginx: worker process", 0.3, 0.2),
        ("nginx", "root", "nginx: master process /usr/sbin/nginx", 0.01, 0.02),
    ),
    API: (
        ("java", "app", "java -Xmx6g -jar /srv/api/api.jar", 0.85, 0.8),
        ("envoy", "envoy", "envoy -c /etc/envoy/envoy.yaml", 0.08, 0.05),
    ),
    DATABASE: (
        ("postgres", "postgres", "postgres: 16/main: app app [local] SELECT", 0.7, 0.6),
        ("postgres", "postgres", "postgres: 16/main: checkpointer", 0.1, 0.2),
        ("postgres", "postgres", "postgres: 16/main: walwriter", 0.08, 0.05),
        ("postgres", "postgres", "postgres: 16/main: autovacuum launcher", 0.05, 0.02),
    ),
    CACHE: (
        ("redis-server", "redis", "/usr/bin/redis-server 0.0.0.0:6379", 0.9, 0.95),
    ),
    QUEUE: (
        ("beam.smp", "rabbitmq", "/usr/lib/erlang/erts/bin/beam.smp -- -root /usr/lib/erlang",
         0.8, 0.8),
        ("epmd", "rabbitmq", "/usr/lib/erlang/erts/bin/epmd -daemon", 0.01, 0.01),
    ),
}  # fmt: skip
MINER: Final = ("kdevtmpfsi", "www-data", "/tmp/kdevtmpfsi", 0.0, 0.02)
_PROCESS_DOMAIN: Final = 0x9F0C


def processes(fleet: Fleet, server: int, bucket: int, overrides: Overrides) -> tuple[Process, ...]:
    """The processes of server index ``server`` at ``bucket``, busiest first; their CPU and
    memory add up (to float rounding) to the server's ``cpu_pct`` and ``memory_pct``."""
    values = window(fleet, bucket, bucket + 1, overrides, servers=[server])[0, 0]
    status, _ = assess(fleet, values[None], servers=np.array([server]))
    table = list(ROLE_PROCESSES[int(fleet.role[server])]) + list(_SYSTEM)
    if status[0] == OFFLINE:
        table = table[1:]
    breached = any(
        impact.incident.type == "security_breach"
        and server in impact.targets
        and impact.incident.start_bucket <= bucket < impact.end_bucket
        for impact in impacts_between(fleet, bucket, bucket + 1, overrides)
    )
    if breached:
        table.insert(0, MINER)
    knot = bucket // knot_buckets(fleet.bucket_seconds)
    keys = [hash_ints(fleet.seed, _PROCESS_DOMAIN, server, hash_text(row[2])) for row in table]
    cpu_w, mem_w = [], []
    for (name, _, _, cpu, memory), key in zip(table, keys, strict=True):
        jitter = 0.8 + 0.4 * unit(hash_ints(key, knot))
        # A miner takes about half of whatever the server burns.
        cpu_w.append(1.0 if name == MINER[0] else cpu * jitter)
        mem_w.append(memory * jitter)
    found = [
        Process(
            pid=300 + key % 32_000,
            name=name,
            user=user,
            command=command,
            cpu_pct=cpu,
            memory_pct=memory,
        )
        for (name, user, command, _, _), key, cpu, memory in zip(
            table,
            keys,
            _split(float(values[CPU]), cpu_w),
            _split(float(values[MEMORY]), mem_w),
            strict=True,
        )
    ]
    return tuple(sorted(found, key=lambda p: -p.cpu_pct))


def _split(total: float, weights: list[float]) -> list[float]:
    """``total`` in proportion to ``weights``; the last part takes the rounding remainder."""
    scale = total / sum(weights)
    parts = [w * scale for w in weights[:-1]]
    return [*parts, max(0.0, total - sum(parts))]
