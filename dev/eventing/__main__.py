"""`python -m dev.eventing dispatch|ingest`: the local eventing processes (see docs/events.md).

    dispatch   every KafkaSource of eventing/ (consume, deliver, retry, dead-letter) and every
               PingSource schedule, delivering to the local runtime's gateway
    ingest     every KafkaSink of eventing/ at POST /<namespace>/<name> (CloudEvents -> Kafka)

Both run in the foreground until SIGTERM or Ctrl-C. KAFKA_BOOTSTRAP_SERVERS comes from the
environment (`dev/with-stack-env`); the gateway defaults to the runtime's own
FNSHOP_GATEWAY_HOST/FNSHOP_GATEWAY_PORT, so the runtime can start them as extras unchanged.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from fnkit import logs

from .manifests import EVENTING_DIR, EventingError, load


def _gateway() -> str:
    return os.environ.get("FNSHOP_GATEWAY_URL") or (
        f"http://{os.environ.get('FNSHOP_GATEWAY_HOST', '127.0.0.1')}:{os.environ.get('FNSHOP_GATEWAY_PORT', '8080')}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dev.eventing", description=__doc__.splitlines()[0])
    parser.add_argument("--eventing", type=Path, default=Path(os.environ.get("FNSHOP_EVENTING_DIR") or EVENTING_DIR),
                        help="folder of the eventing manifests (default: eventing/)")
    commands = parser.add_subparsers(dest="command", required=True)
    dispatch = commands.add_parser("dispatch", help="run the KafkaSources and PingSources")
    dispatch.add_argument("--gateway", default=_gateway(), help="the local runtime's gateway URL")
    dispatch.add_argument("--service", action="append", default=[], metavar="NAME=URL",
                          help="deliver to this URL instead of the gateway for Knative Service NAME")
    dispatch.add_argument("--source", action="append", default=[], metavar="NAME", help="only these KafkaSources")
    dispatch.add_argument("--no-schedules", action="store_true", help="do not run the PingSources")
    ingest = commands.add_parser("ingest", help="accept CloudEvents for the KafkaSinks over HTTP")
    ingest.add_argument("--host", default=os.environ.get("FNSHOP_INGEST_HOST", "127.0.0.1"))
    ingest.add_argument("--port", type=int, default=int(os.environ.get("FNSHOP_INGEST_PORT", "8090")))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.configure(component=f"event-{args.command}")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        eventing = load(args.eventing)
    except (EventingError, OSError, KeyError) as exc:
        print(f"eventing: {exc}", file=sys.stderr)
        return 2
    if args.command == "ingest":
        from .ingest import Ingest

        server = Ingest(eventing, args.host, args.port).start()
        print(f"eventing: ingest on {server.url} for {', '.join(sorted(server.topics))}", file=sys.stderr, flush=True)
        stop.wait()
        server.stop()
        return 0
    from fnkit.config import env_list

    from .dispatcher import Dispatcher
    from .pinger import Pinger

    services = dict(item.split("=", 1) for item in args.service)
    dispatcher = Dispatcher(eventing, env_list("KAFKA_BOOTSTRAP_SERVERS"), args.gateway, services,
                            set(args.source) or None).start()
    if not args.no_schedules:
        Pinger(eventing, args.gateway, services, stop).start()
    print(f"eventing: dispatching {len(dispatcher.sources)} KafkaSource(s) to {args.gateway}", file=sys.stderr, flush=True)
    stop.wait()
    dispatcher.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
