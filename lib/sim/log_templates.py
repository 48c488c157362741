"""Log line templates: routine INFO noise per role, what each incident type writes, and what
routine work (benign events) writes.

Lines carry the clues an operator would read (an OOM kill, ``No space left on device``,
retransmissions, a failed password from one address) but never name the failure type: the
diagnosis has to infer it.

Templates are ``(level, source, message)``; ``message`` is a ``str.format`` pattern whose
fields are filled by ``lib.sim.logs`` from the server's metrics at that bucket (``cpu``,
``mem``, ``disk``, ``loss``, ``resp``, ``err``, ``rps``, ``conns``, ``load1``, ``net_out``)
and from the incident (``target``, ``region``, ``ip``, ``port``, ``pid``, ``n``, ``proc``,
``cores``).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from lib.sim.failures import Reach
from lib.sim.roles import API, CACHE, DATABASE, LOADBALANCER, QUEUE, WEB

Template = tuple[str, str, str]

ROUTINE: Final = MappingProxyType(
    {
        LOADBALANCER: (
            ("INFO", "haproxy", "frontend https: {rps:.0f} req/s, {conns:.0f} sessions"),
            ("INFO", "haproxy", "health check passed for every server of backend web"),
            ("INFO", "keepalived", "VRRP instance VI_1 in MASTER state, priority 150"),
        ),
        WEB: (
            ("INFO", "nginx", "access summary: {rpm:.0f} requests/min, p50 {resp:.0f} ms"),
            ("INFO", "nginx", 'GET /static/app.{n}.js 200 "Mozilla/5.0" {resp:.0f} ms'),
            ("INFO", "node", "GC scavenge {gc:.1f} ms, heap {mem:.0f}% used"),
        ),
        API: (
            ("INFO", "java", "POST /v1/orders 201 {resp:.0f} ms"),
            ("INFO", "java", "GC pause (G1 Evacuation Pause) young {gc:.1f} ms"),
            ("INFO", "java", "HikariPool-1 stats: total=20, active={n}, idle={idle}"),
        ),
        DATABASE: (
            ("INFO", "postgres", "checkpoint complete: wrote {n}0 buffers; write={gc:.3f} s"),
            ("INFO", "postgres", 'automatic vacuum of table "app.public.orders": index scans: 1'),
            ("INFO", "postgres", "connection authorized: user=app database=app"),
        ),
        CACHE: (
            ("INFO", "redis-server", "{n}0 keys evicted (maxmemory-policy allkeys-lru)"),
            ("INFO", "redis-server", "Background saving started by pid {pid}"),
            ("INFO", "redis-server", "DB saved on disk"),
        ),
        QUEUE: (
            ("INFO", "rabbitmq", "accepting AMQP connection <0.{n}.0> (10.0.3.{n}:5672)"),
            ("INFO", "rabbitmq", "queue 'orders' in vhost '/': {rps:.0f} msg/s, consumers 4"),
            ("INFO", "rabbitmq", "closing AMQP connection <0.{n}.0>: client closed"),
        ),
    }
)

# Before a failure is visible: its precursor, or the climb of a gradual failure.
PRECURSOR: Final = MappingProxyType(
    {
        "cpu_overload": (("WARN", "kernel", "load average {load1:.2f} rising on {cores} cores"),),
        "memory_leak": (
            ("WARN", "{proc}", "heap {mem:.0f}% used after full GC, old generation not freed"),
        ),
        "disk_full": (("WARN", "kernel", "filesystem / at {disk:.0f}% and growing"),),
        "database_timeout": (
            ("WARN", "postgres", "duration: {slow} ms  statement: SELECT * FROM orders WHERE"),
        ),
        "api_failure": (("WARN", "java", "POST /v1/checkout error rate {err:.1f}%"),),
        "security_breach": (
            ("WARN", "sshd", "Failed password for invalid user admin from {ip} port {port} ssh2"),
        ),
    }
)

_UPSTREAM_502 = ("ERROR", "nginx", "502 Bad Gateway from upstream {target}")
_UPSTREAM_TIMEOUT = ("ERROR", "{proc}", "upstream {target} timed out (110: Connection timed out)")

VISIBLE: Final = MappingProxyType(
    {
        ("cpu_overload", Reach.TARGET): (
            ("ERROR", "{proc}", "request queue saturated, {err:.1f}% rejected (cpu {cpu:.0f}%)"),
            ("WARN", "kernel", "CPU throttling: load average {load1:.2f} on {cores} cores"),
        ),
        ("cpu_overload", Reach.CALLERS): (
            ("WARN", "{proc}", "upstream {target} slow: p95 {resp:.0f} ms"),
        ),
        ("memory_leak", Reach.TARGET): (
            ("WARN", "{proc}", "GC overhead: {gc:.0f} ms pause, heap {mem:.0f}% used"),
        ),
        ("memory_leak", Reach.CALLERS): (
            ("WARN", "{proc}", "upstream {target} slow: p95 {resp:.0f} ms, some resets"),
        ),
        ("disk_full", Reach.TARGET): (
            ("ERROR", "{proc}", "write /var/log/{proc}/{proc}.log: No space left on device"),
            ("ERROR", "kernel", "EXT4-fs warning (device nvme0n1p1): ext4_dx_add_entry: "
             "Directory index full!"),
        ),
        ("disk_full", Reach.CALLERS): (_UPSTREAM_502,),
        ("network_failure", Reach.TARGET): (
            ("ERROR", "kernel", "ena 0000:00:05.0 eth0: link flapping, {loss:.0f}% packet loss"),
            ("WARN", "kernel", "TCP: retransmission rate {n}00 segments/s"),
        ),
        ("network_failure", Reach.CALLERS): (_UPSTREAM_TIMEOUT,),
        ("application_crash", Reach.TARGET): (
            ("ERROR", "systemd", "{proc}.service: Failed with result 'signal'."),
        ),
        ("application_crash", Reach.CALLERS): (
            ("ERROR", "{proc}", "connect() failed (111: Connection refused) while connecting "
             "to upstream {target}"),
        ),
        ("application_crash", Reach.CALLERS2): (_UPSTREAM_502,),
        ("database_timeout", Reach.TARGET): (
            ("ERROR", "postgres", "canceling statement due to statement timeout"),
            ("WARN", "postgres", "process {pid} still waiting for ShareLock on transaction "
             "{n}4711 after 5000.{n} ms"),
        ),
        ("database_timeout", Reach.CALLERS): (
            ("ERROR", "{proc}", "ETIMEDOUT connecting to {target}:5432 after 5000 ms"),
        ),
        ("database_timeout", Reach.CALLERS2): (
            ("ERROR", "nginx", "504 Gateway Timeout from upstream api"),
        ),
        ("api_failure", Reach.TARGET): (
            ("ERROR", "java", "POST /v1/checkout 500 Internal Server Error: "
             "NullPointerException at OrderService.java:{n}2"),
        ),
        ("api_failure", Reach.CALLERS): (_UPSTREAM_502,),
        ("api_failure", Reach.CALLERS2): (
            ("WARN", "haproxy", "backend web answered 5xx to {err:.1f}% of requests"),
        ),
        ("config_error", Reach.TARGET): (
            ("ERROR", "{proc}", "invalid configuration: missing key 'database.pool.max_size' "
             "(config v{n})"),
        ),
        ("config_error", Reach.CALLERS): (_UPSTREAM_502,),
        ("load_balancer_down", Reach.TARGET): (
            ("ERROR", "systemd", "haproxy.service: Main process exited, code=exited, "
             "status=1/FAILURE"),
        ),
        ("load_balancer_down", Reach.CALLEES): (
            ("WARN", "nginx", "no inbound requests in the last 30 s"),
        ),
        ("load_balancer_down", Reach.FAILOVER): (
            ("WARN", "{proc}", "traffic shifted from {region}: {rps:.0f} req/s, +70%"),
        ),
        ("cdn_failure", Reach.TARGET): (
            ("WARN", "nginx", "CDN cache miss storm: /static/* served by origin, {rps:.0f} req/s"),
        ),
        ("cdn_failure", Reach.CALLERS): (
            ("WARN", "haproxy", "backend web bandwidth {net_out:.0f} Mbit/s above normal"),
        ),
        ("dns_resolution_failure", Reach.TARGET): (
            ("ERROR", "{proc}", "getaddrinfo EAI_AGAIN db.{region}.internal"),
            ("WARN", "systemd-resolved", "Using degraded feature set UDP instead of UDP+EDNS0 "
             "for DNS server 10.0.0.2"),
        ),
        ("dns_resolution_failure", Reach.CALLERS): (_UPSTREAM_TIMEOUT,),
        ("security_breach", Reach.TARGET): (
            ("WARN", "sshd", "Accepted password for svc-backup from {ip} port {port} ssh2"),
            ("ERROR", "auditd", "outbound connection to {ip}:443 by /tmp/kdevtmpfsi, "
             "{n}00 MB sent"),
        ),
    }
)  # fmt: skip

# Written by a target when the process dies (application crash) or is OOM-killed.
CRASH: Final = ("ERROR", "systemd", "{proc}.service: Main process exited, code=killed, "
                "status=11/SEGV")  # fmt: skip
OOM_KILL: Final = ("ERROR", "kernel", "Out of memory: Killed process {pid} ({proc}) "
                   "total-vm:{n}4096kB, anon-rss:{n}2048kB")  # fmt: skip
RECOVERED: Final = ("INFO", "openmanager-agent", "{target} back to normal after {strategy}")

# Routine work: the first line at the start of the event, the others now and then during it.
BENIGN: Final = MappingProxyType(
    {
        "deploy": (
            ("INFO", "systemd", "Stopping {proc}.service for release v2.{n}.{port}..."),
            ("INFO", "systemd", "Started {proc}.service (release v2.{n}.{port})."),
            ("WARN", "{proc}", "connection reset by peer during graceful restart"),
        ),
        "batch_job": (
            ("INFO", "CRON", "(postgres) CMD (/usr/local/bin/nightly-etl.sh --all)"),
            ("INFO", "postgres", "duration: {slow} ms  statement: INSERT INTO reports SELECT"),
            ("INFO", "postgres", "checkpoint starting: wal; {n}00 buffers to write"),
        ),
        "traffic_surge": (
            ("INFO", "autoscaler", "request rate {rps:.0f} req/s above forecast in {region}, "
             "capacity OK"),
            ("INFO", "{proc}", "access summary: {rpm:.0f} requests/min, p50 {resp:.0f} ms"),
        ),
        "log_rotation": (
            ("INFO", "logrotate", "rotating /var/log/{proc}/*.log, compressing with gzip"),
            ("INFO", "logrotate", "removed {n} rotated logs older than 14 days"),
        ),
    }
)  # fmt: skip
