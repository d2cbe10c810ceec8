#!/usr/bin/env python3
"""fnshop local data stack: PostgreSQL, Redis and Kafka as plain processes, no containers.

    stack.py up [SERVICE...]      install what is missing, start what is not running, wait until
                                  each answers, create the KafkaSink topics, write stack.env
    stack.py down                 stop everything (data is kept)
    stack.py start SERVICE...     start one service (e.g. after a fallback test stopped it)
    stack.py stop SERVICE...      stop one service
    stack.py status               one line per service
    stack.py logs [SERVICE...] [-f] [-n N]
    stack.py env                  print the KEY=VALUE lines of stack.env
    stack.py topics               list the topics the KafkaSink manifests declare (name partitions)

SERVICE is postgres, redis or kafka. State (data, logs, pids, jars) lives in $FNSHOP_STATE_DIR
(default <repo>/.state). Ports: FNSHOP_PG_PORT, FNSHOP_REDIS_PORT, FNSHOP_KAFKA_PORT,
FNSHOP_KAFKA_CONTROLLER_PORT.
"""
from __future__ import annotations

import argparse
import fcntl
import os
import sys
import time
from contextlib import contextmanager

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
import svc_kafka  # noqa: E402
import svc_postgres  # noqa: E402
import svc_redis  # noqa: E402
import topics  # noqa: E402
from common import STATE, StackError, say  # noqa: E402

SERVICES = {"postgres": svc_postgres, "redis": svc_redis, "kafka": svc_kafka}
ENV_FILE = STATE / "stack.env"


def env_lines() -> list[str]:
    return [f"DATABASE_URL={svc_postgres.url()}",
            f"REDIS_URL={svc_redis.url()}",
            f"KAFKA_BOOTSTRAP_SERVERS={svc_kafka.url()}"]


@contextmanager
def locked():
    """One stack command at a time per state folder (two `up`s racing would start twice)."""
    common.ensure_state()
    with open(STATE / "stack.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("waiting for another stack command on this state folder")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def bring_up(names: list[str]) -> None:
    t0 = time.monotonic()
    # Installs first (apt, Maven) so that the start-ups below can overlap: the broker's JVM
    # boots while postgres and redis start.
    for name in names:
        SERVICES[name].ensure_installed()
    started, since = {}, {}
    for name in [n for n in ("kafka", "redis", "postgres") if n in names]:
        since[name] = time.monotonic()
        started[name] = SERVICES[name].start()
    for name in names:
        SERVICES[name].wait()
        what = "started" if started[name] else "already running"
        took = time.monotonic() - since[name]
        say(f"{name:<8} {what}, answers after {took:.1f}s   {SERVICES[name].url()}")
    if "kafka" in names:
        topics.ensure_topics(svc_kafka.admin)
    common.write_atomic(ENV_FILE, "\n".join(env_lines()) + "\n")
    say(f"ready in {time.monotonic() - t0:.1f}s; wrote {ENV_FILE}:")
    for line in env_lines():
        print(line)


def cmd_up(args) -> None:
    with locked():
        bring_up(args.services or list(SERVICES))


def cmd_start(args) -> None:
    with locked():
        bring_up(args.services)


def cmd_stop(args, names=None) -> None:
    with locked():
        for name in names or args.services:
            t0 = time.monotonic()
            if SERVICES[name].stop():
                say(f"{name:<8} stopped ({time.monotonic() - t0:.1f}s)")
            else:
                say(f"{name:<8} was not running")


def cmd_down(args) -> None:
    cmd_stop(args, names=["kafka", "redis", "postgres"])  # clients first, database last


def cmd_status(args) -> None:
    for name, svc in SERVICES.items():
        pid = svc.pid()
        if pid is None:
            state = "stopped"
        elif common.port_open(svc.port()):
            state = "running"
        else:
            state = "starting"  # process up, port not (yet) open
        print(f"{name:<8} {state:<8} pid {pid or '-':<7} {svc.url()}")
    print(f"state: {STATE}" + ("" if ENV_FILE.exists() else "  (no stack.env yet: run up)"))


def cmd_logs(args) -> None:
    files = [str(SERVICES[name].LOG) for name in (args.services or list(SERVICES))]
    files = [f for f in files if os.path.exists(f)]
    if not files:
        raise StackError(f"no logs yet in {common.LOGS}")
    argv = ["tail", "-n", str(args.lines)] + (["-F"] if args.follow else []) + files
    os.execvp("tail", argv)


def cmd_topics(args) -> None:
    folder = topics.eventing_dir()
    declared = topics.declared_topics(folder)
    for name, partitions in sorted(declared.items()):
        print(f"{name} {partitions}")
    if not declared:
        say(f"no KafkaSink topics declared under {folder}")


def cmd_env(args) -> None:
    print("\n".join(env_lines()))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="stack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    # (no argparse `choices`: with nargs="*" it rejects the empty list in Python 3.11)
    service = {"metavar": "SERVICE", "help": " | ".join(SERVICES)}
    sub.add_parser("up").add_argument("services", nargs="*", **service)
    sub.add_parser("down")
    sub.add_parser("start").add_argument("services", nargs="+", **service)
    sub.add_parser("stop").add_argument("services", nargs="+", **service)
    sub.add_parser("status")
    logs = sub.add_parser("logs")
    logs.add_argument("services", nargs="*", **service)
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("-n", "--lines", type=int, default=40)
    sub.add_parser("env")
    sub.add_parser("topics")
    args = parser.parse_args(argv)
    unknown = [s for s in getattr(args, "services", []) if s not in SERVICES]
    if unknown:
        parser.error(f"unknown service {', '.join(unknown)} (choose from {', '.join(SERVICES)})")
    handler = globals()[f"cmd_{args.command}"]
    try:
        handler(args)
    except StackError as exc:
        common.fail(str(exc))
    except BrokenPipeError:  # `stack.py status | head -1`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except KeyboardInterrupt:
        common.fail("interrupted (servers already started keep running; `down` stops them)")


if __name__ == "__main__":
    main(sys.argv[1:])
