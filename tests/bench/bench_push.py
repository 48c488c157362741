"""Benchmark of the Web Push fan-out: one notice to 1,000 subscriptions.

Run it with::

    .venv/bin/python -m tests.bench.bench_push [--subscriptions 1000] [--sequential 100]
        [--rtt-ms 0]

The local push service of ``tests/support`` (TLS on loopback; it checks every VAPID token and
decrypts every body, in this same process) holds ``--subscriptions`` browser subscriptions,
stored in a SQLite repository; one critical incident notice is queued and
``PushDispatch.deliver`` sends it to all of them, as ``/api/tick`` would (parallel threads, a
timeout on every request, the budget lifted so that all are measured). Target: the whole
fan-out under 5 s. ``--rtt-ms`` makes the service answer each push that much later, like one
across a network (FCM, Mozilla, Apple answer in tens of milliseconds): on loopback the work is
all CPU in one interpreter, the service's decryption included, and threads buy little; with
a round trip they overlap the waits.

Side by side, measured in the same run:

- the same sender, one push after the other, to ``--sequential`` subscriptions: what the
  thread pool buys;
- the floor of one push: its aes128gcm encryption and VAPID signature (``pywebpush`` and
  ``py_vapid``, no HTTP).

Figures are printed, never asserted (the machine is shared); that every push arrived,
decrypted, is asserted.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from lib.clock import FixedClock, MonotonicTimer, monotonic
from lib.config import DEFAULT_EPOCH_S, Settings
from lib.push import queue
from lib.push.dispatch import MAX_WORKERS, PushDispatch
from lib.push.keys import generate
from lib.push.notices import Notice
from lib.push.payload import delivery, encoded, payload
from lib.sim import build_fleet
from lib.store.db import PushSubscriptionRecord
from lib.store.memory_kv import MemoryKv
from lib.store.outbox import Outbox
from lib.store.sqlite_repository import SqliteRepository
from tests.support.push_service import BrowserSubscription, PushService

COMMAND = ".venv/bin/python -m tests.bench.bench_push"
TARGET_S = 5.0
NOW = DEFAULT_EPOCH_S + 20 * 86_400 + 10 * 3600  # a weekday morning
FLOOR_RUNS = 200


def incident_notice(bucket: int) -> Notice:
    return Notice(
        key=f"inc-bench:detected:{bucket}",
        kind="incident",
        change="opened",
        level="critical",
        bucket=bucket,
        subject="inc-bench",
        server="db-01",
        servers=("db-01",),
        roles=("database",),
        regions=("ap-northeast-2",),
        incident_id="inc-bench",
        title={
            "en": "Incident: database_timeout on db-01",
            "ko": "장애 발생: db-01의 database_timeout",
        },
        body={
            "en": "Queries time out on the primary. 1 server(s) affected."
            " Automatic recovery: failover.",
            "ko": "기본 DB의 쿼리가 시간 초과됩니다. 영향 서버 1대. 자동 복구: failover.",
        },
    )


def record_of(sub: BrowserSubscription, lang: str) -> PushSubscriptionRecord:
    return PushSubscriptionRecord(
        endpoint=sub.endpoint,
        p256dh=sub.p256dh,
        auth=sub.auth,
        label=None,
        min_level="warning",
        lang=lang,
        created_at=datetime.fromtimestamp(NOW, UTC),
    )


def floor_ms(dispatch: PushDispatch, sub: PushSubscriptionRecord, data: bytes) -> float:
    """Milliseconds to encrypt one payload and sign one VAPID token, without sending."""
    from pywebpush import WebPusher

    info = {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
    vapid = dispatch.sender._vapid
    timer = MonotonicTimer()
    for _ in range(FLOOR_RUNS):
        WebPusher(info).encode(data, content_encoding="aes128gcm")
        vapid.sign(dispatch.sender.claims(sub.endpoint))
    return timer.elapsed_s() * 1000 / FLOOR_RUNS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--sequential", type=int, default=100)
    parser.add_argument("--rtt-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    print(
        f"$ {COMMAND} --subscriptions {args.subscriptions} --sequential {args.sequential}"
        f" --rtt-ms {args.rtt_ms:g}"
    )

    keys = generate("mailto:bench@openmanager.example")
    with (
        tempfile.TemporaryDirectory(prefix="om-bench-push-") as directory,
        PushService(latency_s=args.rtt_ms / 1000) as service,
    ):
        os.environ["REQUESTS_CA_BUNDLE"] = service.ca_file
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            sqlite_path=str(Path(directory) / "openmanager.db"),
            vapid_private_key=keys.private_key,  # type: ignore[arg-type]
            vapid_public_key=keys.public_key,
            vapid_subject=keys.subject,
            push_timeout_s=10.0,
        )
        repo = SqliteRepository(Path(directory) / "history.db")
        subs = [service.subscribe(keys.public_key) for _ in range(args.subscriptions)]
        records = [record_of(s, "ko" if i % 2 else "en") for i, s in enumerate(subs)]
        repo.upsert_push_subscriptions(records)
        kv = MemoryKv()
        fleet = build_fleet(settings.seed, settings.fleet_size, epoch_s=settings.epoch_s)
        dispatch = PushDispatch(
            settings, kv, lambda: repo, FixedClock(NOW), lambda: fleet, Outbox(kv)
        )
        notice = incident_notice(dispatch.buckets.bucket_of(NOW))

        # Warm up: the sender's imports and a TLS session per thread are not the fan-out's.
        dispatch.sender.send(
            records[0], b"{}", 60, {"Urgency": "low"}, monotonic() + settings.push_timeout_s
        )
        warm = len(service.received)

        queue.record(kv, [queue.Entry(notice.key, notice)])
        timer = MonotonicTimer()
        report = dispatch.deliver(budget_s=120.0)
        fan_out_s = timer.elapsed_s()
        arrived = [
            r for r in service.received[warm:] if r.payload.get("incident_id") == "inc-bench"
        ]
        assert report.sent == args.subscriptions, report
        assert len(arrived) == args.subscriptions, len(arrived)
        assert {r.endpoint for r in arrived} == {s.endpoint for s in subs}
        assert {r.urgency for r in arrived} == {"high"}

        ttl, headers = delivery(notice)
        sample = records[: args.sequential]
        timer = MonotonicTimer()
        for sub in sample:
            data = encoded(payload(notice, sub.lang, NOW))
            outcome = dispatch.sender.send(sub, data, ttl, headers, monotonic() + 10.0)
            assert outcome.status == "sent", outcome
        sequential_ms = timer.elapsed_s() * 1000 / len(sample)
        floor = floor_ms(dispatch, records[0], encoded(payload(notice, "en", NOW)))
        repo.close()

    per_message_ms = fan_out_s * 1000 / args.subscriptions
    print(
        f"fan-out to {args.subscriptions} subscriptions ({MAX_WORKERS} threads),"
        f" push service in-process answering after {args.rtt_ms:g} ms:"
    )
    print("| | ms per push | pushes/s | ratio to the fan-out |")
    print("|---|---|---|---|")
    rows = (
        ("parallel fan-out (deliver)", per_message_ms),
        (f"sequential, {len(sample)} pushes", sequential_ms),
        ("floor: encrypt + sign, no HTTP", floor),
    )
    for name, ms in rows:
        print(f"| {name} | {ms:.2f} | {1000 / ms:.0f} | x{ms / per_message_ms:.2f} |")
    verdict = "met" if fan_out_s < TARGET_S else "missed"
    print(f"total: {fan_out_s:.2f} s for {args.subscriptions} pushes, all decrypted by the service")
    print(f"target: < {TARGET_S:.0f} s for 1,000 subscriptions: {verdict}")


if __name__ == "__main__":
    main()
