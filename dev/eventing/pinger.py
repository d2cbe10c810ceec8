"""The local PingSource: on every minute its cron `schedule` matches, POST the ping CloudEvent
(type dev.knative.sources.ping, the manifest's `data` as the body) to its sink, as Knative's
ping adapter does. One attempt per tick: a schedule simply comes round again.

Cron syntax: five fields (minute hour day-of-month month day-of-week), each `*`, a number, a
range `a-b`, a list `a,b` or a step `*/n` / `a-b/n`; times are UTC.
"""
from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timezone

from fnkit import logs

from .delivery import Event, HttpSender
from .manifests import Eventing, PingSource

log = logs.get("dev.eventing.pinger")
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))  # day of week: 0 and 7 are Sunday


def _field(spec: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in spec.split(","):
        body, _, step = part.partition("/")
        if body == "*":
            start, end = low, high
        elif "-" in body:
            start, end = (int(x) for x in body.split("-", 1))
        else:
            start = end = int(body)
        if not (low <= start <= end <= high):
            raise ValueError(f"{part!r} is outside {low}-{high}")
        values |= set(range(start, end + 1, int(step) if step else 1))
    return values


def matcher(schedule: str):
    """`schedule` -> function(datetime) -> whether that minute is due. ValueError if malformed."""
    fields = schedule.split()
    if len(fields) != 5:
        raise ValueError(f"{schedule!r} needs five fields")
    minutes, hours, days, months, weekdays = (_field(f, lo, hi) for f, (lo, hi) in zip(fields, _RANGES))
    if 7 in weekdays:
        weekdays.add(0)

    def due(moment: datetime) -> bool:
        weekday = (moment.weekday() + 1) % 7  # cron counts from Sunday = 0
        return (moment.minute in minutes and moment.hour in hours and moment.day in days
                and moment.month in months and weekday in weekdays)

    return due


class Pinger:
    def __init__(self, eventing: Eventing, gateway: str, service_urls: dict[str, str], stop: threading.Event):
        self.stop, self.sender = stop, HttpSender()
        self.pings = [(ping, matcher(ping.schedule), eventing.resolve(ping.sink, ping.namespace, gateway, service_urls))
                      for ping in eventing.pings]
        self.thread = threading.Thread(target=self._run, name="pinger", daemon=True)

    def start(self) -> "Pinger":
        for ping, _, destination in self.pings:
            log.info("schedule", extra={"ping_source": ping.name, "schedule": ping.schedule, "sink": str(destination)})
        if self.pings:
            self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop.wait(60 - time.time() % 60 + 0.01):  # just after each minute turns
            moment = datetime.now(timezone.utc).replace(second=0, microsecond=0)
            for ping, due, destination in self.pings:
                if due(moment):
                    self.fire(ping, destination.url, moment)
        self.sender.close()

    def fire(self, ping: PingSource, url: str, moment: datetime) -> int | None:
        event = Event({"specversion": "1.0", "type": "dev.knative.sources.ping", "id": str(uuid.uuid4()),
                       "source": f"/apis/v1/namespaces/{ping.namespace}/pingsources/{ping.name}",
                       "time": moment.isoformat()}, ping.content_type, ping.data.encode())
        outcome = self.sender.post(url, event, timeout=60)
        (log.info if outcome.ok else log.warning)("ping sent", extra={
            "ping_source": ping.name, "status": outcome.status, "error": outcome.error})
        return outcome.status
