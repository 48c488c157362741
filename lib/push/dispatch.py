"""``PushDispatch``: the engine's notifier, and the fan-out that sends after the lock is gone.

How it plugs in (``lib/http/state.py`` builds one per app instance):

1. ``Engine(..., notify=dispatch.notify)``: inside the engine lock, before the advance's state
   is saved, ``notify`` turns the advance's notifications and incident events into notices
   (``lib.push.notices``) and records them in the KV queue (``lib.push.queue``) — one ``HSET``,
   idempotent, so a range redone after a crash records nothing new. Nothing is sent here.
2. ``dispatch.deliver()``: after ``advance`` has returned (the lock released), the caller sends
   what is due within ``PUSH_BUDGET_S``: ``/api/tick`` always, reads and the stream when this
   instance recorded something (``pending``). Each entry is claimed by exactly one caller.

A delivery collapses, marks late and caps the notices (``lib.push.quiet``), addresses each to
the subscriptions that want it, and sends them in parallel threads, each request with a
timeout inside the budget. 404/410 delete the subscription; a 429 whose ``Retry-After`` does
not fit the budget, and every push the budget left unsent, go back to the queue for that one
subscription; other failures, once retried, are counted on the subscription (``failures``,
``last_error``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lib.clock import Buckets, Clock, monotonic
from lib.errors import ConfigError, NotFound, StoreError
from lib.push import queue
from lib.push.keys import VapidKeys, from_settings
from lib.push.notices import Notice, notices_from
from lib.push.payload import delivery, encoded, payload
from lib.push.quiet import capped, collapse, mark_late, wants
from lib.push.sender import Outcome, PushSender

if TYPE_CHECKING:
    from lib.alerts import Notification
    from lib.config import Settings
    from lib.engine.records import Event
    from lib.sim import Fleet
    from lib.store.db import PushSubscriptionRecord, Repository
    from lib.store.kv import Kv
    from lib.store.outbox import Outbox

log = logging.getLogger("openmanager.push")

MAX_WORKERS = 32
MAX_DEFERRALS = 5
DEFAULT_RETRY_S = 60.0
SUBSCRIPTIONS_LIMIT = 10_000


@dataclass
class DeliveryReport:
    """What one ``deliver`` did."""

    enabled: bool = True
    notices: int = 0
    late: int = 0
    sent: int = 0
    gone: int = 0
    deferred: int = 0
    failed: int = 0

    def add(self, outcome: Outcome) -> None:
        if outcome.status == "sent":
            self.sent += 1
        elif outcome.status == "gone":
            self.gone += 1
        elif outcome.status == "retry_later":
            self.deferred += 1
        else:
            self.failed += 1


@dataclass(frozen=True)
class _Job:
    subscription: PushSubscriptionRecord
    notice: Notice
    attempt: int = 0


class PushDispatch:
    """Records what an advance has to tell, and sends it to every subscription that wants it."""

    def __init__(
        self,
        settings: Settings,
        kv: Kv,
        repo: Callable[[], Repository],
        clock: Clock,
        fleet: Callable[[], Fleet],
        outbox: Outbox,
    ) -> None:
        self.settings = settings
        self.kv = kv
        self._repo = repo
        self.clock = clock
        self._fleet = fleet
        self.outbox = outbox
        self.keys: VapidKeys | None = None
        self.problem: str | None = "VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY are not set"
        """Why push is off, for ``/api/health``; ``None`` while it is on."""
        try:
            self.keys = from_settings(settings)
        except ConfigError as exc:
            # A bad key pair turns push off, not the app: health says so, the log too.
            log.error("Web Push is off: %s", exc.message)
            self.problem = exc.message
        if self.keys is not None:
            self.problem = None
        self.buckets = Buckets(settings.epoch_s, settings.bucket_seconds)
        self.pending = False
        """Whether this instance recorded notices that no delivery has claimed yet."""

    @property
    def enabled(self) -> bool:
        return self.keys is not None

    @cached_property
    def sender(self) -> PushSender:
        assert self.keys is not None
        return PushSender(self.keys, self.settings.push_timeout_s)

    # -- inside the engine lock: record ------------------------------------------------

    def notify(
        self, notifications: list[Notification], incidents: list[Event], min_level: str
    ) -> None:
        """The engine's notifier: record the advance's notices; send nothing."""
        if not self.enabled:
            return
        if not notifications and not incidents:
            return
        told = notices_from(
            self._fleet(),
            notifications,
            incidents,
            min_level=min_level,
            incident_of=queue.incident_groups(self.kv),
        )
        queue.record(self.kv, [queue.Entry(n.key, n) for n in told.notices], told)
        self.pending = self.pending or bool(told.notices)

    # -- after the lock: send ----------------------------------------------------------

    def deliver(self, budget_s: float | None = None) -> DeliveryReport:
        """Send what is due, within ``budget_s`` (``PUSH_BUDGET_S``)."""
        if not self.enabled:
            return DeliveryReport(enabled=False)
        deadline = monotonic() + (budget_s if budget_s is not None else self.settings.push_budget_s)
        now = self.clock.now()
        self.pending = False
        entries = queue.claim(self.kv, queue.due(self.kv, now))
        report = DeliveryReport()
        if not entries:
            return report
        try:
            subscriptions = self._repo().list_push_subscriptions(limit=SUBSCRIPTIONS_LIMIT)
        except StoreError as exc:
            log.warning("push delivery postponed, subscriptions unreadable: %s", exc.message)
            self._requeue(entries, now + DEFAULT_RETRY_S)
            return report
        broadcast = [e.notice for e in entries if e.only is None]
        notices = capped(collapse(mark_late(broadcast, now, self.buckets.start_of)))
        report.notices, report.late = len(notices), sum(n.late for n in notices)
        jobs = self._address(notices, [e for e in entries if e.only is not None], subscriptions)
        self._run(jobs, deadline, now, report)
        return report

    def _address(
        self,
        notices: Sequence[Notice],
        retries: Sequence[queue.Entry],
        subscriptions: Sequence[PushSubscriptionRecord],
    ) -> list[_Job]:
        """One job per (subscription, subject): a later notice about a subject wins."""
        by_endpoint = {s.endpoint: s for s in subscriptions}
        jobs: dict[tuple[str, str], _Job] = {}
        for e in sorted(retries, key=lambda e: e.notice.bucket):
            sub = by_endpoint.get(e.only or "")
            if sub is not None:
                jobs[(sub.endpoint, e.notice.subject)] = _Job(sub, e.notice, e.attempt)
        for notice in notices:
            for sub in subscriptions:
                if wants(sub, notice):
                    jobs[(sub.endpoint, notice.subject)] = _Job(sub, notice)
        return list(jobs.values())

    def _run(self, jobs: list[_Job], deadline: float, now: float, report: DeliveryReport) -> None:
        if not jobs:
            return
        pool = ThreadPoolExecutor(
            max_workers=min(MAX_WORKERS, len(jobs)), thread_name_prefix="push"
        )
        futures: dict[Future[Outcome], _Job] = {}
        for job in jobs:
            data = encoded(payload(job.notice, job.subscription.lang, now))
            ttl, headers = delivery(job.notice)
            futures[
                pool.submit(self.sender.send, job.subscription, data, ttl, headers, deadline)
            ] = job
        # Requests time out by the deadline; the grace covers the last response's parsing.
        done, _ = wait(futures, timeout=max(0.0, deadline - monotonic()) + 0.25)
        pool.shutdown(wait=False, cancel_futures=True)
        outcomes = [(futures[f], f.result()) for f in done]
        unsent = [futures[f] for f in futures if f not in done]
        for job in unsent:
            outcomes.append((job, Outcome("retry_later", error="budget spent")))
        self._settle(outcomes, now, report)

    def _settle(
        self, outcomes: list[tuple[_Job, Outcome]], now: float, report: DeliveryReport
    ) -> None:
        """Apply what the push services said to the subscriptions and the queue."""
        at = datetime.fromtimestamp(now, UTC)
        updates: list[PushSubscriptionRecord] = []
        later: list[queue.Entry] = []
        for job, outcome in outcomes:
            report.add(outcome)
            sub = job.subscription
            if outcome.status == "sent":
                updates.append(_updated(sub, failures=0, last_error=None, last_sent_at=at))
            elif outcome.status == "gone":
                self._forget(sub.endpoint)
            elif outcome.status == "retry_later" and job.attempt < MAX_DEFERRALS:
                wait_s = outcome.retry_after_s if outcome.retry_after_s is not None else 0.0
                later.append(_retry(job, now + wait_s))
            else:
                error = outcome.error or outcome.status
                updates.append(_updated(sub, failures=sub.failures + 1, last_error=error))
                log.warning("push to %s failed: %s", _origin(sub.endpoint), error)
        queue.record(self.kv, later)
        if updates:
            self.outbox.write(self._repo(), "upsert_push_subscriptions", updates)

    def _forget(self, endpoint: str) -> None:
        try:
            self._repo().delete_push_subscription(endpoint)
        except StoreError as exc:
            log.warning("could not delete a gone subscription: %s", exc.message)

    def _requeue(self, entries: Sequence[queue.Entry], not_before: float) -> None:
        queue.record(
            self.kv,
            [
                replace(
                    e, key=f"{e.key}#{e.attempt + 1}", not_before=not_before, attempt=e.attempt + 1
                )
                for e in entries
                if e.attempt < MAX_DEFERRALS
            ],
        )

    # -- the test button -----------------------------------------------------------------

    def send_test(self, endpoint: str) -> Outcome:
        """Send a test notification to the subscription of ``endpoint``, now."""
        assert self.keys is not None
        repo = self._repo()
        sub = next(
            (
                s
                for s in repo.list_push_subscriptions(limit=SUBSCRIPTIONS_LIMIT)
                if s.endpoint == endpoint
            ),
            None,
        )
        if sub is None:
            raise NotFound("no subscription with this endpoint", resource="push_subscription")
        now = self.clock.now()
        notice = trial_notice(self.buckets.bucket_of(now))
        report = DeliveryReport()
        deadline = monotonic() + self.settings.push_budget_s
        ttl, headers = delivery(notice)
        outcome = self.sender.send(
            sub, encoded(payload(notice, sub.lang, now)), ttl, headers, deadline
        )
        job = _Job(sub, notice, attempt=MAX_DEFERRALS)  # a test is not retried later
        self._settle([(job, outcome)], now, report)
        return outcome


def _updated(sub: PushSubscriptionRecord, **changes: object) -> PushSubscriptionRecord:
    return sub.model_copy(update=changes)


def trial_notice(bucket: int) -> Notice:
    return Notice(
        key=f"test:{bucket}",
        kind="test",
        change="test",
        level="info",
        bucket=bucket,
        subject="openmanager-test",
        server="",
        title={"en": "OpenManager test notification", "ko": "OpenManager 테스트 알림"},
        body={
            "en": "Notifications work on this device.",
            "ko": "이 기기에서 알림을 받을 수 있습니다.",
        },
    )


def _retry(job: _Job, not_before: float) -> queue.Entry:
    digest = hashlib.sha256(job.subscription.endpoint.encode()).hexdigest()[:16]
    attempt = job.attempt + 1
    return queue.Entry(
        f"{job.notice.key}@{digest}#{attempt}",
        job.notice,
        only=job.subscription.endpoint,
        not_before=not_before,
        attempt=attempt,
    )


def _origin(endpoint: str) -> str:
    """A push endpoint's origin: the path is a capability and stays out of logs."""
    return urlsplit(endpoint).netloc
