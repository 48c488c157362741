"""Quiet rules (pure): who wants a notice, and how many reach anyone in one delivery.

- Per subscription: the notice's level is at least its ``min_level``, and it touches one of
  its servers, roles and regions (an empty list admits all).
- Per delivery: notices about one subject (an incident, an alert group) collapse into one —
  the latest change at the highest level seen —, so a catch-up over a quiet period sends one
  summary per incident, never a replay of every step.
- A notice whose bucket lies more than ``LATE_AFTER_S`` before the delivery is marked late.
- At most ``MAX_NOTICES`` go out per delivery; the rest become one digest ("N more").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from lib.alerts import parse_level
from lib.push.notices import Notice, merged

if TYPE_CHECKING:
    from lib.store.db import PushSubscriptionRecord

LATE_AFTER_S = 300.0
MAX_NOTICES = 20


def wants(subscription: PushSubscriptionRecord, notice: Notice) -> bool:
    """Whether ``subscription``'s preferences admit ``notice``."""
    if notice.kind == "test":
        return True
    if notice.rank < parse_level(subscription.min_level):
        return False
    return all(
        not chosen or bool(set(chosen) & set(have))
        for chosen, have in (
            (subscription.servers, notice.servers),
            (subscription.roles, notice.roles),
            (subscription.regions, notice.regions),
        )
    )


def collapse(notices: Sequence[Notice]) -> list[Notice]:
    """One notice per subject, in order of each subject's latest notice."""
    chains: dict[str, list[Notice]] = {}
    for notice in sorted(notices, key=lambda n: n.bucket):
        chains.setdefault(notice.subject, []).append(notice)
    return sorted((merged(chain) for chain in chains.values()), key=lambda n: n.bucket)


def mark_late(
    notices: Sequence[Notice], now_s: float, start_of: Callable[[int], float]
) -> list[Notice]:
    return [replace(n, late=n.late or now_s - start_of(n.bucket) > LATE_AFTER_S) for n in notices]


def capped(notices: Sequence[Notice], limit: int = MAX_NOTICES) -> list[Notice]:
    """The ``limit - 1`` most severe (then most recent) notices and a digest of the rest."""
    if len(notices) <= limit:
        return list(notices)
    ranked = sorted(notices, key=lambda n: (n.rank, n.bucket), reverse=True)
    kept, rest = ranked[: limit - 1], ranked[limit - 1 :]
    top = max(rest, key=lambda n: n.rank)
    last = max(n.bucket for n in rest)
    digest = Notice(
        key=f"digest:{last}:{len(rest)}",
        kind="digest",
        change="digest",
        level=top.level,
        bucket=last,
        subject="digest",
        server=top.server,
        servers=tuple(sorted({s for n in rest for s in n.servers})),
        roles=tuple(sorted({r for n in rest for r in n.roles})),
        regions=tuple(sorted({r for n in rest for r in n.regions})),
        title={"en": f"{len(rest)} more notifications", "ko": f"알림 {len(rest)}건 더 있음"},
        body={
            "en": "More happened while nobody was watching: open the dashboard.",
            "ko": "확인하지 않은 동안 더 많은 일이 있었습니다. 대시보드를 열어 보세요.",
        },
        late=any(n.late for n in rest),
    )
    return sorted([*kept, digest], key=lambda n: n.bucket)
