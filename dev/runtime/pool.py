"""The instances of one revision, scaled the way Knative's autoscaler and activator do it.

- From zero: the first request starts an instance and is held until /healthz answers.
- Up: desired instances = ceil(requests in flight / target), counting requests still waiting
  for an instance (the activator's buffer counts too), within [min-scale, max-scale].
- containerConcurrency is a hard limit: a full instance gets no more requests; they wait.
- Down: an instance idle for the grace period is stopped while more than needed remain; the
  last one also waits out the revision's scale-to-zero-pod-retention-period. min-scale never
  goes below.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable

from .instance import Instance, StartFailed
from .services import Revision

CRASH_BACKOFF_SECONDS = 1.0  # after a failed start, fail fast instead of crash-looping per request


@dataclass(frozen=True)
class ScalingSettings:
    grace_seconds: float = 30.0
    scale_to_zero: bool = True
    max_scale_cap: int = 4  # what max-scale 0 ("unlimited") means on a laptop
    start_timeout: float = 30.0


class RevisionPool:
    def __init__(self, revision: Revision, settings: ScalingSettings,
                 new_instance: Callable[[str], Instance], start_instance: Callable[[Instance], None],
                 on_change: Callable[["RevisionPool"], None], label: str | None = None):
        self.revision, self.settings = revision, settings
        self.label = label or revision.service  # what its instances and status lines are called
        self._new_instance, self._start_instance, self._on_change = new_instance, start_instance, on_change
        self._cond = threading.Condition()
        self.instances: list[Instance] = []
        self.waiting = 0
        self.peak_instances = 0
        self.started_total = 0
        self.last_activity = time.monotonic()
        self._last_failure: tuple[float, str] | None = None
        self._closed = False

    @property
    def min_scale(self) -> int:
        return max(self.revision.min_scale, 0 if self.settings.scale_to_zero else 1)

    @property
    def max_scale(self) -> int:
        limit = self.revision.max_scale or self.settings.max_scale_cap
        return max(limit, self.min_scale, 1)

    @property
    def in_flight(self) -> int:
        return self.waiting + sum(i.in_flight for i in self.instances)

    def warm_up(self) -> None:
        """Start min-scale instances (at start, and whenever a crash took one away)."""
        with self._cond:
            self._scale_up_locked()

    def acquire(self, deadline: float) -> Instance:
        """An instance to send one request to; holds the caller while none is ready."""
        with self._cond:
            began = time.monotonic()
            self.waiting += 1
            self.last_activity = began
            try:
                while True:
                    if self._closed:
                        raise StartFailed("the runtime is stopping")
                    self._scale_up_locked()
                    chosen = self._pick_locked()
                    if chosen is not None:
                        chosen.in_flight += 1
                        chosen.picked += 1
                        return chosen
                    failure = self._last_failure
                    if failure and failure[0] >= began - CRASH_BACKOFF_SECONDS and not self._live():
                        raise StartFailed(failure[1])
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError(f"no instance of {self.revision.name} was free in time")
                    self._cond.wait(min(remaining, 0.5))
            finally:
                self.waiting -= 1

    def release(self, instance: Instance) -> None:
        with self._cond:
            instance.in_flight -= 1
            now = time.monotonic()
            self.last_activity = now
            if instance.in_flight == 0:
                instance.idle_since = now
            self._cond.notify_all()

    def reap(self) -> None:
        """Stop instances idle past the grace period, down to what is still needed."""
        now = time.monotonic()
        with self._cond:
            live = self._live()
            floor = max(self.min_scale, self._desired_locked())
            idle = sorted((i for i in live if i.state == "ready" and i.in_flight == 0
                           and now - i.idle_since >= self.settings.grace_seconds), key=lambda i: i.idle_since)
            count = len(live)
            for instance in idle:
                if count <= floor:
                    break
                if count == 1 and now - self.last_activity < self.settings.grace_seconds + self.revision.retention_seconds:
                    break
                count -= 1
                self._stop_locked(instance)

    def instance_exited(self, instance: Instance) -> None:
        """A process ended on its own (crash, or killed from outside): forget it; keep min-scale."""
        with self._cond:
            if instance.state in ("ready", "starting") and instance in self.instances:
                instance.state = "failed"
                self.instances.remove(instance)
                self._changed_locked()
                if self.min_scale and not self._closed:
                    self._scale_up_locked()

    def close(self) -> list[Instance]:
        with self._cond:
            self._closed = True
            for instance in list(self.instances):
                if instance.state != "stopping":
                    instance.state = "stopping"
            self._changed_locked()
            self._cond.notify_all()
            return list(self.instances)

    def state(self) -> str:
        states = {i.state for i in self.instances}
        for name in ("ready", "starting", "stopping"):
            if name in states:
                return name
        if self._last_failure and time.monotonic() - self._last_failure[0] < CRASH_BACKOFF_SECONDS:
            return "failed"
        return "cold"

    def snapshot(self) -> dict:
        with self._cond:
            return {
                "revision": self.revision.name, "state": self.state(),
                "instances": len([i for i in self.instances if i.state in ("ready", "starting")]),
                "ready": len([i for i in self.instances if i.state == "ready"]),
                "stopping": len([i for i in self.instances if i.state == "stopping"]),
                "in_flight": self.in_flight, "peak_instances": self.peak_instances,
                "started_total": self.started_total,
                "min_scale": self.min_scale, "max_scale": self.max_scale,
                "target": self.revision.target_concurrency,
                "container_concurrency": self.revision.container_concurrency,
                "instance_urls": [i.url for i in self.instances if i.state == "ready"],
                "last_failure": self._last_failure[1] if self._last_failure else None,
            }

    # -- under the lock ------------------------------------------------------------------
    def _live(self) -> list[Instance]:
        return [i for i in self.instances if i.state in ("starting", "ready")]

    def _desired_locked(self) -> int:
        in_flight = self.in_flight
        wanted = math.ceil(in_flight / self.revision.target_concurrency) if in_flight else 0
        return min(max(wanted, self.min_scale), self.max_scale)

    def _scale_up_locked(self) -> None:
        if self._closed:
            return
        failure = self._last_failure
        if failure and time.monotonic() - failure[0] < CRASH_BACKOFF_SECONDS:
            return
        while len(self._live()) < self._desired_locked():
            self.started_total += 1
            instance = self._new_instance(f"{self.label}-{self.started_total}")
            self.instances.append(instance)
            self.peak_instances = max(self.peak_instances, len(self._live()))
            threading.Thread(target=self._bring_up, args=(instance,), name=f"start-{instance.label}", daemon=True).start()
            self._changed_locked()

    def _pick_locked(self) -> Instance | None:
        limit = self.revision.container_concurrency
        ready = [i for i in self.instances if i.state == "ready" and (not limit or i.in_flight < limit)]
        return min(ready, key=lambda i: (i.in_flight, i.picked), default=None)

    def _bring_up(self, instance: Instance) -> None:
        try:
            self._start_instance(instance)
            instance.wait_ready(self.settings.start_timeout)
        except Exception as exc:  # spawn error, early exit or no /healthz: fail the waiting requests
            with self._cond:
                self._last_failure = (time.monotonic(), str(exc))
                if instance in self.instances:
                    self.instances.remove(instance)
                instance.state = "failed"
                self._changed_locked()
                self._cond.notify_all()
            threading.Thread(target=instance.stop, daemon=True).start()
            return
        with self._cond:
            if instance.state != "starting":  # closed while starting
                return
            instance.state = "ready"
            instance.idle_since = time.monotonic()
            self._last_failure = None
            self._changed_locked()
            self._cond.notify_all()

    def _stop_locked(self, instance: Instance) -> None:
        instance.state = "stopping"
        self._changed_locked()

        def stop() -> None:
            instance.stop()
            with self._cond:
                instance.state = "stopped"
                if instance in self.instances:
                    self.instances.remove(instance)
                self._changed_locked()

        threading.Thread(target=stop, name=f"stop-{instance.label}", daemon=True).start()

    def _changed_locked(self) -> None:
        self._on_change(self)
