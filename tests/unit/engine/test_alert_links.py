"""Which incident each stored alert is linked to, when one alert group holds several."""

from __future__ import annotations

from lib.alerts import AlertGroup
from lib.alerts.groups import GroupMember
from lib.alerts.ids import alert_id
from lib.alerts.levels import Level
from lib.config import DEFAULT_EPOCH_S
from lib.engine.alert_links import alert_links
from lib.engine.world import IncidentTrack
from lib.sim import build_fleet

FLEET = build_fleet(20_251_123, 30, epoch_s=DEFAULT_EPOCH_S)


def member(server: int, metric: str) -> GroupMember:
    return GroupMember(server, metric, Level.CRITICAL, 100, 101, True)


def track(kind: str, root: int, servers: tuple[int, ...]) -> IncidentTrack:
    return IncidentTrack(
        id=f"inc-{FLEET.ids[root]}-102",
        type=kind,
        servers=servers,
        root=root,
        started_bucket=100,
        detected_bucket=102,
        group_id="grp-a",
        groups=("grp-a",),
    )


def test_a_group_holding_two_failures_links_each_alert_to_its_own_incident() -> None:
    """A balancer (0) with a bad config calls a web server (1) whose DNS fails and another
    (2) that its DNS failure's incident reaches: one group, two incidents."""
    balancer, web, other = 0, 1, 2
    group = AlertGroup(
        id="grp-a",
        root=web,
        members=(member(balancer, "error_pct"), member(web, "error_pct"), member(other, "rps")),
        opened_bucket=101,
        last_bucket=101,
        notified_level=Level.CRITICAL,
    )
    dns = track("dns_resolution_failure", web, (web, other))
    config = track("config_error", balancer, (balancer,))
    for tracks in ({dns.id: dns, config.id: config}, {config.id: config, dns.id: dns}):
        links = alert_links(FLEET, [group], tracks, 102, fresh={"grp-a"})
        got = {link.id: link.incident_id for link in links}
        assert got == {
            alert_id(FLEET.ids[balancer], "error_pct", 101): config.id,
            alert_id(FLEET.ids[web], "error_pct", 101): dns.id,
            alert_id(FLEET.ids[other], "rps", 101): dns.id,
        }
