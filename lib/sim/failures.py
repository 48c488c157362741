"""The event catalogue: twelve failure types and four benign event types as data, plus their
closed-form time shapes.

Each type lists, per *reach* (its targets, their callers one and two hops up, the servers
behind a target, another region taking over), the effects it has on metrics. An effect sets
a metric towards a value, multiplies it or adds to it, with an intensity that depends only on
the time elapsed since the event started and on the event's own draws (see
``lib.sim.effects``).

Each type has an onset ``Shape``: *sudden* (full effect within a bucket), *ramp* (linear rise
over ``onset_s``), *gradual* (a wave climbs to the critical level over ``onset_s``: minutes to
hours) or *intermittent* (bursts of a drawn period). Each event has a *magnitude* (mild,
moderate, severe) that scales its effects by a drawn factor; mild failures move their key
metric only a little beyond normal variation. Precursors, where real ones exist, come before
the start and stay below alerting levels. Benign types (deploys, nightly batch jobs, traffic
surges, log rotation) are routine work: they move metrics but are not failures. Recovery
strategies are data for the engine, which decides.

The module is long because the catalogue is one table; the code is the last forty lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from types import MappingProxyType
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
)
from lib.sim.noise import hash_ints, unit
from lib.sim.roles import ROLES

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

SETTLE_S: Final = 60  # metrics settle back to normal over about a minute after the end
HOP_S: Final = 3  # each hop along the topology adds this much delay
MAGNITUDES: Final = ("mild", "moderate", "severe")
# Factor applied to every scaled effect, drawn per event in this range.
# Mild moves a key metric a little beyond normal (an error rate from 0.4 % to 2-8 %, CPU by
# 5-14 points); severe is the catalogue's full effect.
MAGNITUDE_SCALES: Final = ((0.08, 0.2), (0.3, 0.6), (1.0, 1.0))
MAGNITUDE_ODDS: Final = (0.3, 0.4, 0.3)  # how often the schedule draws each magnitude
BURST_PERIOD_S: Final = (45, 240)  # intermittent failures: range of the burst period
BURST_DUTY: Final = 0.4  # share of each period spent in a burst
BURST_FLOOR: Final = 0.12  # intensity between bursts
FULL_FROM: Final = 0.95  # a filling resource starts failing writes from this share of its onset


class Shape(StrEnum):
    """How a type's effects arrive after its start (see the module docstring)."""

    SUDDEN = "sudden"
    RAMP = "ramp"
    GRADUAL = "gradual"
    INTERMITTENT = "intermittent"


class Op(IntEnum):
    """How an effect of intensity ``a`` changes a metric ``v``."""

    SET = 0  # v + (value - v) * a
    MUL = 1  # v * (1 + (value - 1) * a)
    ADD = 2  # v + value * a


class Wave(IntEnum):
    """How an effect's intensity varies with the time elapsed since its start."""

    CONST = 0
    LEAK = 1  # 0 → 1 through each leak cycle of ``onset_s``, 0 during the OOM kill at its end
    OOM = 2  # 1 during the OOM kill at the end of each leak cycle, else 0
    GC = 3  # the square of LEAK: garbage collection works harder as the heap fills
    FILL = 4  # 0 → 1 linearly over ``onset_s``, then 1
    FULL = 5  # 0 until FULL_FROM of ``onset_s``, then up to 1 at ``onset_s``
    PULSE = 6  # triangle oscillation between 0.55 and 1, period two minutes
    BURST = 7  # 1 during the first BURST_DUTY of each period, BURST_FLOOR after


class Reach(StrEnum):
    """Which servers an effect lands on, relative to the incident's targets."""

    TARGET = "target"
    CALLERS = "callers"  # dependents of the targets
    CALLERS2 = "callers2"  # dependents of those
    CALLEES = "callees"  # dependencies of the targets (the web servers behind a balancer)
    FAILOVER = "failover"  # load balancers and web servers of the region taking over


HOPS: Final = MappingProxyType(
    {Reach.TARGET: 0, Reach.CALLERS: 1, Reach.CALLERS2: 2, Reach.CALLEES: 1, Reach.FAILOVER: 2}
)


@dataclass(frozen=True)
class Effect:
    """One change to one metric."""

    metric: int
    op: Op
    value: float
    wave: Wave = Wave.CONST
    scaled: bool = True  # False: the magnitude does not weaken it (a leak always ends in OOM)


@dataclass(frozen=True)
class RecoveryStrategy:
    """An automatic recovery action the engine may take."""

    name: str
    description_en: str
    description_ko: str


@dataclass(frozen=True)
class FailureType:
    """One entry of the catalogue: a failure type, or a benign event type if ``benign``."""

    name: str
    category: str  # hardware | software | infrastructure | routine (benign)
    target_roles: tuple[str, ...]
    key_metrics: tuple[str, ...]
    severity: str  # alert level: info (benign) | warning | error | critical
    recovery: RecoveryStrategy
    description_en: str
    description_ko: str
    duration_s: tuple[int, int]  # range of time at full effect, after the onset
    effects: tuple[tuple[Reach, tuple[Effect, ...]], ...]
    shape: Shape = Shape.SUDDEN
    onset_s: tuple[int, int] = (1, 3)  # range of time from the start to the full effect
    targets: tuple[int, int] = (1, 1)  # how many servers it hits, all in one region
    whole_region: bool = False  # hits every server of its roles in one region instead
    precursor_s: int = 0
    precursor: tuple[Effect, ...] = ()  # on the targets, ramping up before the start
    benign: bool = False  # routine work, not a failure: nobody should be paged
    scales: tuple[tuple[float, float], ...] = MAGNITUDE_SCALES  # per magnitude
    roles: tuple[int, ...] = field(init=False, repr=False)  # ``target_roles`` as indices

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", tuple(ROLES.index(r) for r in self.target_roles))

    @property
    def reaches(self) -> tuple[Reach, ...]:
        return tuple(reach for reach, _ in self.effects)

    def effects_on(self, reach: Reach) -> tuple[Effect, ...]:
        return dict(self.effects).get(reach, ())


def _e(metric: int, op: Op, value: float, wave: Wave = Wave.CONST) -> Effect:
    return Effect(metric, op, value, wave)


SET, MUL, ADD = Op.SET, Op.MUL, Op.ADD

_RESTART = RecoveryStrategy(
    "restart_service",
    "Restart the affected service to release leaked memory or bring a crashed process back.",
    "영향받은 서비스를 재시작하여 누수된 메모리를 해제하거나 중단된 프로세스를 되살립니다.",
)
# A dead process is dead whatever the magnitude, which only scales what its callers suffer.
_OFFLINE = tuple(
    Effect(metric, SET, value, scaled=False)
    for metric, value in (
        (RPS, 0.0),
        (CONNECTIONS, 0.0),
        (CPU, 1.0),
        (NET_IN, 0.02),
        (NET_OUT, 0.02),
        (RESPONSE, 0.0),
        (ERROR, 0.0),
        (LOAD1, 0.03),
    )
)

_CATALOGUE: Final = (
    FailureType(
        name="cpu_overload",
        category="hardware",
        target_roles=("web", "api", "database", "queue"),
        key_metrics=("cpu_pct", "load1"),
        severity="error",
        recovery=RecoveryStrategy(
            "scale_up",
            "Add CPU capacity (scale up or out) and rebalance the load.",
            "CPU 자원을 증설(스케일 업/아웃)하고 부하를 재분배합니다.",
        ),
        description_en="CPU saturated near 100 %: the run queue grows, responses slow down "
        "and some requests fail.",
        description_ko="CPU 사용률이 100%에 근접하여 실행 대기열이 늘고 응답이 느려지며 "
        "일부 요청이 실패합니다.",
        duration_s=(180, 1800),
        shape=Shape.RAMP,
        onset_s=(60, 600),
        precursor_s=90,
        precursor=(_e(CPU, ADD, 5.0), _e(LOAD1, MUL, 1.2)),
        effects=(
            (
                Reach.TARGET,
                (
                    _e(CPU, SET, 97.5),
                    _e(LOAD1, MUL, 4.0),
                    _e(RESPONSE, MUL, 4.0),
                    _e(ERROR, ADD, 3.0),
                ),
            ),
            (Reach.CALLERS, (_e(RESPONSE, MUL, 1.6), _e(ERROR, ADD, 1.0))),
        ),
    ),
    FailureType(
        name="memory_leak",
        category="hardware",
        target_roles=("web", "api", "queue"),
        key_metrics=("memory_pct",),
        severity="error",
        recovery=_RESTART,
        description_en="A process leaks memory until the OOM killer restarts it, again and again.",
        description_ko="프로세스의 메모리 누수로 OOM 킬러가 프로세스를 반복해서 재시작합니다.",
        duration_s=(600, 2400),
        shape=Shape.GRADUAL,
        onset_s=(1200, 10_800),  # 20 minutes to 3 hours from the first leak to the OOM kill
        effects=(
            (
                Reach.TARGET,
                (
                    Effect(MEMORY, SET, 99.0, Wave.LEAK, scaled=False),
                    _e(CPU, ADD, 10.0, Wave.GC),
                    _e(RESPONSE, MUL, 2.0, Wave.GC),
                    _e(ERROR, ADD, 15.0, Wave.OOM),
                ),
            ),
            (Reach.CALLERS, (_e(ERROR, ADD, 3.0, Wave.OOM), _e(RESPONSE, MUL, 1.3, Wave.GC))),
        ),
    ),
    FailureType(
        name="disk_full",
        category="hardware",
        target_roles=("web", "api", "database", "queue"),
        key_metrics=("disk_pct", "error_pct"),
        severity="critical",
        recovery=RecoveryStrategy(
            "cleanup_logs",
            "Compress and delete old logs and temporary files to free disk space.",
            "오래된 로그와 임시 파일을 압축·삭제하여 디스크 공간을 확보합니다.",
        ),
        description_en="Logs fill the disk; writes fail with 'No space left on device'.",
        description_ko="로그가 디스크를 가득 채워 쓰기가 'No space left on device'로 실패합니다.",
        duration_s=(900, 5400),
        shape=Shape.GRADUAL,
        onset_s=(3600, 43_200),  # 1 to 12 hours from the runaway writer to a full disk
        effects=(
            (
                Reach.TARGET,
                (
                    Effect(DISK, SET, 99.5, Wave.FILL, scaled=False),
                    _e(ERROR, ADD, 8.0, Wave.FULL),
                    _e(RESPONSE, MUL, 2.5, Wave.FULL),
                ),
            ),
            (Reach.CALLERS, (_e(ERROR, ADD, 2.5, Wave.FULL), _e(RESPONSE, MUL, 1.4, Wave.FULL))),
        ),
    ),
    FailureType(
        name="network_failure",
        category="hardware",
        target_roles=ROLES,
        key_metrics=("packet_loss_pct", "net_latency_ms"),
        severity="critical",
        recovery=RecoveryStrategy(
            "switch_backup_network",
            "Fail over to the backup network path and interface.",
            "백업 네트워크 경로와 인터페이스로 전환합니다.",
        ),
        description_en="Packet loss and latency on the server's network link; callers time out.",
        description_ko="서버 네트워크 링크의 패킷 손실과 지연이 커져 호출자가 타임아웃됩니다.",
        duration_s=(120, 1200),
        shape=Shape.INTERMITTENT,
        effects=(
            (
                Reach.TARGET,
                (
                    _e(PACKET_LOSS, SET, 22.0, Wave.BURST),
                    _e(LATENCY, ADD, 60.0, Wave.BURST),
                    _e(NET_IN, MUL, 0.35, Wave.BURST),
                    _e(NET_OUT, MUL, 0.35, Wave.BURST),
                    _e(RESPONSE, MUL, 4.0, Wave.BURST),
                    _e(ERROR, ADD, 9.0, Wave.BURST),
                ),
            ),
            (Reach.CALLERS, (_e(RESPONSE, MUL, 1.8, Wave.BURST), _e(ERROR, ADD, 3.0, Wave.BURST))),
        ),
    ),
    FailureType(
        name="application_crash",
        category="software",
        target_roles=("web", "api", "queue"),
        key_metrics=("rps", "connections"),
        severity="critical",
        recovery=_RESTART,
        description_en="The application process crashed: the server serves nothing and its "
        "callers get errors.",
        description_ko="애플리케이션 프로세스가 중단되어 요청을 처리하지 못하고 호출자에게 "
        "오류가 발생합니다.",
        duration_s=(120, 900),
        effects=(
            (Reach.TARGET, (*_OFFLINE, Effect(MEMORY, SET, 6.0, scaled=False))),
            (Reach.CALLERS, (_e(ERROR, ADD, 12.0), _e(RESPONSE, MUL, 1.5))),
            (Reach.CALLERS2, (_e(ERROR, ADD, 4.0),)),
        ),
    ),
    FailureType(
        name="database_timeout",
        category="software",
        target_roles=("database",),
        key_metrics=("response_ms", "connections"),
        severity="critical",
        recovery=RecoveryStrategy(
            "failover",
            "Promote the standby database replica and repoint the clients.",
            "대기 데이터베이스 복제본을 승격하고 클라이언트 연결을 전환합니다.",
        ),
        description_en="Queries on the database time out; API servers and then web servers "
        "slow down and fail.",
        description_ko="데이터베이스 쿼리가 타임아웃되어 API 서버와 웹 서버가 차례로 느려지고 "
        "실패합니다.",
        duration_s=(180, 1500),
        shape=Shape.RAMP,
        onset_s=(60, 480),
        precursor_s=120,
        precursor=(_e(RESPONSE, MUL, 1.6), _e(CONNECTIONS, MUL, 1.3)),
        effects=(
            (
                Reach.TARGET,
                (_e(RESPONSE, MUL, 15.0), _e(CONNECTIONS, MUL, 3.0), _e(ERROR, ADD, 6.0)),
            ),
            (Reach.CALLERS, (_e(RESPONSE, MUL, 6.0), _e(ERROR, ADD, 9.0))),
            (Reach.CALLERS2, (_e(RESPONSE, MUL, 2.5), _e(ERROR, ADD, 4.0))),
        ),
    ),
    FailureType(
        name="api_failure",
        category="software",
        target_roles=("api",),
        key_metrics=("error_pct", "response_ms"),
        severity="error",
        recovery=RecoveryStrategy(
            "circuit_breaker",
            "Open the circuit breaker towards the failing API, drain it and restart its workers.",
            "장애 API로 향하는 서킷 브레이커를 열어 트래픽을 차단하고 워커를 재시작합니다.",
        ),
        description_en="The API answers with 5xx errors; web servers pass them on to users.",
        description_ko="API가 5xx 오류를 반환하고 웹 서버가 이를 사용자에게 그대로 전달합니다.",
        duration_s=(120, 1200),
        shape=Shape.RAMP,
        onset_s=(30, 300),
        precursor_s=60,
        precursor=(_e(ERROR, ADD, 0.8),),
        effects=(
            (Reach.TARGET, (_e(ERROR, SET, 38.0), _e(RESPONSE, MUL, 3.5), _e(RPS, MUL, 0.8))),
            (Reach.CALLERS, (_e(ERROR, ADD, 11.0), _e(RESPONSE, MUL, 1.8))),
            (Reach.CALLERS2, (_e(ERROR, ADD, 4.0),)),
        ),
    ),
    FailureType(
        name="config_error",
        category="software",
        target_roles=("loadbalancer", "web", "api"),
        key_metrics=("error_pct",),
        severity="error",
        recovery=RecoveryStrategy(
            "rollback_config",
            "Roll back to the last known-good configuration and reload the service.",
            "마지막 정상 설정으로 롤백하고 서비스를 다시 로드합니다.",
        ),
        description_en="A bad configuration was deployed: requests fail fast with errors.",
        description_ko="잘못된 설정이 배포되어 요청이 곧바로 오류로 실패합니다.",
        duration_s=(120, 1800),
        effects=(
            (Reach.TARGET, (_e(ERROR, SET, 27.0), _e(RESPONSE, MUL, 0.55), _e(CPU, MUL, 0.8))),
            (Reach.CALLERS, (_e(ERROR, ADD, 7.0),)),
        ),
    ),
    FailureType(
        name="load_balancer_down",
        category="infrastructure",
        target_roles=("loadbalancer",),
        key_metrics=("rps", "connections"),
        severity="critical",
        recovery=RecoveryStrategy(
            "reroute_traffic",
            "Take the failed load balancer out of DNS and route its traffic to a healthy region.",
            "장애 로드밸런서를 DNS에서 제외하고 트래픽을 정상 리전으로 우회시킵니다.",
        ),
        description_en="A load balancer stops forwarding: its web servers receive no traffic "
        "and another region takes the load.",
        description_ko="로드밸런서가 트래픽 전달을 멈춰 뒤의 웹 서버로 가는 트래픽이 끊기고 "
        "다른 리전이 부하를 넘겨받습니다.",
        duration_s=(120, 1200),
        effects=(
            (Reach.TARGET, _OFFLINE),
            (
                Reach.CALLEES,  # nothing reaches the web servers behind it, whatever the magnitude
                tuple(
                    Effect(metric, op, value, scaled=False)
                    for metric, op, value in (
                        (RPS, SET, 0.0),
                        (CONNECTIONS, MUL, 0.03),
                        (NET_IN, MUL, 0.05),
                        (NET_OUT, MUL, 0.05),
                        (CPU, MUL, 0.35),
                        (LOAD1, MUL, 0.4),
                    )
                ),
            ),
            (
                Reach.FAILOVER,
                (
                    _e(RPS, MUL, 1.7),
                    _e(CONNECTIONS, MUL, 1.7),
                    _e(NET_IN, MUL, 1.7),
                    _e(NET_OUT, MUL, 1.7),
                    _e(CPU, ADD, 14.0),
                    _e(RESPONSE, MUL, 1.5),
                ),
            ),
        ),
    ),
    FailureType(
        name="cdn_failure",
        category="infrastructure",
        target_roles=("web",),
        key_metrics=("net_out_mbps", "rps"),
        severity="warning",
        recovery=RecoveryStrategy(
            "purge_cdn",
            "Purge and re-warm the CDN cache; switch to the secondary CDN if it does not recover.",
            "CDN 캐시를 퍼지하고 다시 채우며, 회복되지 않으면 보조 CDN으로 전환합니다.",
        ),
        description_en="The CDN stops caching: static traffic hits the origin web servers.",
        description_ko="CDN 캐시가 동작하지 않아 정적 트래픽이 원본 웹 서버로 몰립니다.",
        duration_s=(180, 1800),
        shape=Shape.RAMP,
        onset_s=(60, 300),  # cache entries expire over a few minutes
        targets=(1, 3),
        effects=(
            (
                Reach.TARGET,
                (
                    _e(NET_OUT, MUL, 4.5),
                    _e(RPS, MUL, 2.4),
                    _e(CPU, ADD, 28.0),
                    _e(RESPONSE, MUL, 2.2),
                    _e(CONNECTIONS, MUL, 2.5),
                ),
            ),
            (
                Reach.CALLERS,
                (_e(NET_OUT, MUL, 2.0), _e(NET_IN, MUL, 1.3), _e(CONNECTIONS, MUL, 1.8)),
            ),
        ),
    ),
    FailureType(
        name="dns_resolution_failure",
        category="infrastructure",
        target_roles=("web", "api"),
        key_metrics=("error_pct", "response_ms"),
        severity="error",
        recovery=RecoveryStrategy(
            "flush_dns",
            "Flush the resolver caches and switch to the secondary DNS resolvers.",
            "DNS 리졸버 캐시를 비우고 보조 DNS 리졸버로 전환합니다.",
        ),
        description_en="Name resolution fails or stalls: outgoing calls time out and fail.",
        description_ko="DNS 이름 해석이 실패하거나 지연되어 외부 호출이 타임아웃되고 실패합니다.",
        duration_s=(120, 900),
        effects=(
            (
                Reach.TARGET,
                (
                    _e(LATENCY, ADD, 35.0),
                    _e(RESPONSE, MUL, 6.0),
                    _e(ERROR, ADD, 16.0),
                    _e(RPS, MUL, 0.7),
                ),
            ),
            (Reach.CALLERS, (_e(RESPONSE, MUL, 2.0), _e(ERROR, ADD, 5.0))),
        ),
    ),
    FailureType(
        name="security_breach",
        category="infrastructure",
        target_roles=("web", "api", "database"),
        key_metrics=("net_out_mbps", "cpu_pct"),
        severity="critical",
        recovery=RecoveryStrategy(
            "isolate_and_rotate_credentials",
            "Isolate the compromised servers, block the attacker's addresses and rotate "
            "credentials.",
            "침해된 서버를 격리하고 공격자 IP를 차단한 뒤 자격 증명을 교체합니다.",
        ),
        description_en="An intruder runs on a few servers: abnormal outbound traffic, CPU "
        "and connections.",
        description_ko="침입자가 일부 서버를 장악하여 비정상적인 외부 송신 트래픽, CPU 사용, "
        "연결 수가 나타납니다.",
        duration_s=(300, 2400),
        shape=Shape.RAMP,
        onset_s=(120, 900),
        targets=(2, 3),
        precursor_s=300,
        precursor=(_e(CONNECTIONS, MUL, 1.3), _e(CPU, ADD, 3.0)),
        effects=(
            (
                Reach.TARGET,
                (
                    _e(NET_OUT, ADD, 800.0, Wave.PULSE),
                    _e(CPU, ADD, 38.0),
                    _e(CONNECTIONS, MUL, 2.5),
                    _e(LOAD1, MUL, 2.2),
                ),
            ),
        ),
    ),
)

_NO_ACTION = RecoveryStrategy(
    "none", "Routine work: nothing to repair.", "정상적인 작업이므로 조치가 필요 없습니다."
)
_ROUTINE = ((0.5, 1.0),) * len(MAGNITUDES)  # benign events: their own spread, any magnitude

_BENIGN: Final = (
    FailureType(
        name="deploy",
        category="routine",
        target_roles=("web", "api"),
        key_metrics=("rps", "connections"),
        severity="info",
        recovery=_NO_ACTION,
        description_en="A new release is rolled out: each server restarts its service, a blip "
        "of a bucket or two.",
        description_ko="새 릴리스를 배포하며 각 서버가 서비스를 재시작해 한두 버킷 동안 잠깐 "
        "흔들립니다.",
        duration_s=(1, 3),  # with its onset, a restart of 2 to 6 s
        targets=(1, 3),
        effects=(
            (
                Reach.TARGET,
                (
                    _e(RPS, MUL, 0.1),
                    _e(CONNECTIONS, MUL, 0.1),
                    _e(CPU, ADD, 25.0),
                    _e(MEMORY, MUL, 0.6),
                ),
            ),
        ),
        benign=True,
        scales=_ROUTINE,
    ),
    FailureType(
        name="batch_job",
        category="routine",
        target_roles=("database",),
        key_metrics=("cpu_pct", "load1"),
        severity="info",
        recovery=_NO_ACTION,
        description_en="The nightly batch (ETL, vacuum, backup) runs at a fixed local hour: CPU "
        "and disk work on the databases of a region.",
        description_ko="야간 배치(ETL, VACUUM, 백업)가 정해진 현지 시각에 실행되어 리전의 "
        "데이터베이스에 CPU와 디스크 작업이 늘어납니다.",
        duration_s=(1200, 3600),
        shape=Shape.RAMP,
        onset_s=(60, 300),
        whole_region=True,
        effects=(
            (
                Reach.TARGET,
                (
                    _e(CPU, ADD, 40.0),
                    _e(LOAD1, MUL, 2.5),
                    _e(DISK, ADD, 3.0),
                    _e(RESPONSE, MUL, 1.25),
                ),
            ),
        ),
        benign=True,
        scales=_ROUTINE,
    ),
    FailureType(
        name="traffic_surge",
        category="routine",
        target_roles=("loadbalancer", "web", "api"),
        key_metrics=("rps", "cpu_pct"),
        severity="info",
        recovery=_NO_ACTION,
        description_en="A region's traffic rises by half to double for a while (a campaign, a "
        "morning peak elsewhere); CPU follows, everything stays healthy.",
        description_ko="리전의 트래픽이 잠시 1.5~2배로 늘어나고(캠페인, 다른 지역의 피크) CPU가 "
        "따라 오르지만 모두 정상입니다.",
        duration_s=(600, 2400),
        shape=Shape.RAMP,
        onset_s=(60, 300),
        whole_region=True,
        effects=(
            (
                Reach.TARGET,
                (
                    _e(RPS, MUL, 2.0),
                    _e(CONNECTIONS, MUL, 2.0),
                    _e(NET_IN, MUL, 2.0),
                    _e(NET_OUT, MUL, 2.0),
                    _e(CPU, MUL, 1.6),
                    _e(LOAD1, MUL, 1.6),
                    _e(RESPONSE, MUL, 1.1),
                ),
            ),
        ),
        benign=True,
        scales=_ROUTINE,
    ),
    FailureType(
        name="log_rotation",
        category="routine",
        target_roles=ROLES,
        key_metrics=("cpu_pct", "disk_pct"),
        severity="info",
        recovery=_NO_ACTION,
        description_en="Logs rotate at the server's nightly time: compression takes some CPU and "
        "the disk frees space.",
        description_ko="서버의 야간 정해진 시각에 로그가 순환되어 압축에 CPU를 쓰고 디스크 "
        "공간이 확보됩니다.",
        duration_s=(30, 90),
        effects=((Reach.TARGET, (_e(CPU, ADD, 15.0), _e(LOAD1, MUL, 1.4))),),
        benign=True,
        scales=_ROUTINE,
    ),
)

FAILURE_TYPES: Final = MappingProxyType({t.name: t for t in _CATALOGUE})
BENIGN_TYPES: Final = MappingProxyType({t.name: t for t in _BENIGN})
EVENT_TYPES: Final = MappingProxyType({**FAILURE_TYPES, **BENIGN_TYPES})

OOM_S: Final = 6  # an OOM kill and the restart take this long
_PULSE_S: Final = 120


def wave(kind: Wave, elapsed_s: I64, onset_s: int, period_s: int) -> F64:
    """The intensity factor of ``kind`` at ``elapsed_s`` seconds (>= 0) since the start, for
    an event whose onset lasts ``onset_s`` and whose bursts repeat every ``period_s``."""
    if kind is Wave.CONST:
        return np.ones(elapsed_s.shape)
    if kind is Wave.FILL:
        return np.minimum(elapsed_s / onset_s, 1.0)
    if kind is Wave.FULL:
        return np.clip((elapsed_s / onset_s - FULL_FROM) / (1.0 - FULL_FROM), 0.0, 1.0)
    if kind is Wave.PULSE:
        phase = elapsed_s % _PULSE_S
        return 0.55 + 0.45 * np.abs(phase - _PULSE_S // 2) / (_PULSE_S // 2)
    if kind is Wave.BURST:
        return np.where(elapsed_s % period_s < BURST_DUTY * period_s, 1.0, BURST_FLOOR)
    phase = elapsed_s % onset_s
    running = phase < onset_s - OOM_S
    if kind is Wave.OOM:
        return np.where(running, 0.0, 1.0)
    leak = np.where(running, phase / (onset_s - OOM_S), 0.0)
    return leak if kind is Wave.LEAK else leak * leak


def draw_onset_s(failure: FailureType, draw: int) -> int:
    """Seconds from the start to the full effect, drawn from ``failure.onset_s``."""
    lo, hi = failure.onset_s
    return lo + hash_ints(draw, 1) % (hi - lo + 1)


def draw_scale(failure: FailureType, magnitude: str, draw: int) -> float:
    """The factor scaled effects are multiplied by, drawn from the magnitude's range."""
    lo, hi = failure.scales[MAGNITUDES.index(magnitude)]
    return lo + (hi - lo) * unit(hash_ints(draw, 2))


def draw_period_s(draw: int) -> int:
    """The burst period of an intermittent event."""
    lo, hi = BURST_PERIOD_S
    return lo + hash_ints(draw, 3) % (hi - lo + 1)


def draw_magnitude(draw: int) -> str:
    """A magnitude, with the odds ``MAGNITUDE_ODDS``."""
    u = unit(hash_ints(draw, 4))
    cumulative = 0.0
    for magnitude, odds in zip(MAGNITUDES, MAGNITUDE_ODDS, strict=True):
        cumulative += odds
        if u < cumulative:
            return magnitude
    return MAGNITUDES[-1]


def effect_metrics(effects: tuple[Effect, ...]) -> tuple[int, ...]:
    """The metrics a list of effects touches, in ``METRICS`` order."""
    touched = {e.metric for e in effects}
    return tuple(m for m in range(len(METRICS)) if m in touched)
