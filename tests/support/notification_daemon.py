"""A desktop notification server on a private D-Bus session bus: what Chromium on Linux shows
its notifications through, and where a person's click comes from.

``NotificationDaemon`` starts ``dbus-daemon --session`` on a socket of its own, takes the name
``org.freedesktop.Notifications`` and answers the Desktop Notifications Specification (1.2)
as a notification server does: ``GetCapabilities`` (actions, body, persistence),
``GetServerInformation``, ``Notify`` (recorded as a ``Shown``, answered with its id) and
``CloseNotification`` (recorded, answered with ``NotificationClosed``). ``click(id, key)``
emits ``ActionInvoked`` as a user's click would, until Chromium closes the notification:
``"default"`` for the body, or the key of a button (Chromium numbers its buttons ``"0"``,
``"1"``, … in the notification's order).

A browser started with ``env={"DBUS_SESSION_BUS_ADDRESS": daemon.address}`` uses it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jeepney import (
    DBusAddress,
    HeaderFields,
    Message,
    MessageType,
    message_bus,
    new_method_return,
    new_signal,
)
from jeepney.io.blocking import DBusConnection, open_dbus_connection

from lib.clock import monotonic

NAME = "org.freedesktop.Notifications"
PATH = DBusAddress("/org/freedesktop/Notifications", interface=NAME)
CAPABILITIES = ["actions", "body", "persistence", "icon-static"]
URGENCY = {0: "low", 1: "normal", 2: "critical"}


@dataclass(frozen=True)
class Shown:
    """One ``Notify`` call."""

    id: int
    app: str
    summary: str
    body: str
    actions: dict[str, str]
    """Action key → label, in the order given."""
    hints: dict[str, Any]
    expire_timeout: int

    @property
    def urgency(self) -> str | None:
        value = self.hints.get("urgency")
        return URGENCY.get(value[1]) if value else None


class NotificationDaemon:
    """The bus and the notification server on it; use as a context manager."""

    def __init__(self) -> None:
        binary = shutil.which("dbus-daemon")
        if binary is None:
            raise RuntimeError("dbus-daemon not found; `make system-deps` installs dbus-daemon")
        self._dir = tempfile.mkdtemp(prefix="om-dbus-")
        self._process = subprocess.Popen(
            [
                binary,
                "--session",
                "--nofork",
                "--print-address=1",
                f"--address=unix:path={Path(self._dir) / 'bus'}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self._process.stdout is not None
        self.address = self._process.stdout.readline().strip()
        self._conn: DBusConnection = open_dbus_connection(bus=self.address)
        reply = self._conn.send_and_get_reply(message_bus.RequestName(NAME))
        if reply.body != (1,):  # DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
            raise RuntimeError(f"could not own {NAME}: {reply.body}")
        self._sending = threading.Lock()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self.shown: list[Shown] = []
        self.closed: list[int] = []
        self._next_id = 0
        self._thread = threading.Thread(target=self._serve, name="notifications", daemon=True)
        self._thread.start()

    def __enter__(self) -> NotificationDaemon:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=5)
        self._conn.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    # -- what the tests use ----------------------------------------------------------------

    def wait_shown(self, count: int = 1, timeout_s: float = 5.0) -> list[Shown]:
        """The notifications shown so far, once there are at least ``count``."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.shown) >= count, timeout_s):
                raise AssertionError(f"{len(self.shown)} notification(s) shown, not {count}")
            return list(self.shown)

    def wait_closed(self, id: int, timeout_s: float = 5.0) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: id in self.closed, timeout_s):
                raise AssertionError(f"notification {id} was not closed")

    def click(self, id: int, key: str = "default", timeout_s: float = 10.0) -> None:
        """What a person clicking the notification (``"default"``) or a button does.

        Chromium learns a notification's id from the answer to ``Notify`` and ignores a click
        on an id it has not learnt yet; it closes the notification once it has taken a click.
        So the click is repeated, as a person whose first click came too early would, until
        the notification is closed.
        """
        deadline = monotonic() + timeout_s
        with self._changed:
            while id not in self.closed:
                if monotonic() >= deadline:
                    raise AssertionError(f"notification {id} did not take the click")
                self._send(new_signal(PATH, "ActionInvoked", "us", (id, key)))
                self._changed.wait(0.5)

    # -- the server --------------------------------------------------------------------------

    def _send(self, message: Message) -> None:
        """Send from either thread (jeepney's connection does not serialise writers)."""
        with self._sending:
            self._conn.send(message)

    def _serve(self) -> None:
        while True:
            try:
                message = self._conn.receive()
            except (OSError, ValueError):  # the bus went away: stopped
                return
            if message.header.message_type != MessageType.method_call:
                continue
            member = message.header.fields.get(HeaderFields.member)
            if member == "GetCapabilities":
                self._send(new_method_return(message, "as", (CAPABILITIES,)))
            elif member == "GetServerInformation":
                info = ("openmanager-tests", "openmanager", "1", "1.2")
                self._send(new_method_return(message, "ssss", info))
            elif member == "Notify":
                self._send(new_method_return(message, "u", (self._notify(message.body),)))
            elif member == "CloseNotification":
                (id,) = message.body
                self._send(new_method_return(message))
                # Reason 3: closed by a call to CloseNotification.
                self._send(new_signal(PATH, "NotificationClosed", "uu", (id, 3)))
                with self._changed:
                    self.closed.append(id)
                    self._changed.notify_all()
            else:
                self._send(new_method_return(message))

    def _notify(self, body: tuple[Any, ...]) -> int:
        app, replaces, _icon, summary, text, actions, hints, timeout = body
        with self._changed:
            if replaces:
                id = replaces
            else:
                self._next_id += 1
                id = self._next_id
            pairs = dict(zip(actions[::2], actions[1::2], strict=True))
            self.shown.append(Shown(id, app, summary, text, pairs, dict(hints), timeout))
            self._changed.notify_all()
        return int(id)
