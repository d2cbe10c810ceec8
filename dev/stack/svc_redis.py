"""Redis from Debian's redis-server package: own config, own port, no persistence (a cache).

Not daemonized by Redis itself: we start it in its own session and keep its pid, which is
the same thing with one less pid file written by someone else.
"""
from __future__ import annotations

import shutil
import signal

from common import (HOST, LOGS, STATE, StackError, alive, apt_install, env_port, read_pid,
                    require_free, spawn, terminate, wait_gone, wait_ready, write_atomic)

NAME = "redis"
PORT_ENV = "FNSHOP_REDIS_PORT"
HOME = STATE / "redis"
PIDFILE = HOME / "redis.pid"
CONF = HOME / "redis.conf"
LOG = LOGS / "redis.log"


def port() -> int:
    return env_port(PORT_ENV, 56379)


def url() -> str:
    return f"redis://{HOST}:{port()}/0"


def pid() -> int | None:
    found = read_pid(PIDFILE)
    return found if alive(found, "redis-server") else None


def binary() -> str | None:
    return shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin")


def ensure_installed() -> None:
    if binary() is None:
        apt_install("redis-server")
    if binary() is None:
        raise StackError("redis-server is still missing after installing the Debian package")


def start() -> bool:
    if pid():
        return False
    ensure_installed()
    HOME.mkdir(parents=True, exist_ok=True)
    require_free(port(), NAME, PORT_ENV)
    # Rewritten on every start so a changed FNSHOP_REDIS_PORT takes effect.
    CONF.write_text(f"""\
bind {HOST}
port {port()}
daemonize no
dir {HOME}
logfile {LOG}
# A cache for tests and local runs: nothing to keep across restarts.
save ""
appendonly no
""")
    proc = spawn([binary(), str(CONF)], LOG, cwd=HOME)
    write_atomic(PIDFILE, f"{proc.pid}\n")
    return True


def wait() -> float:
    import redis

    def check() -> bool:
        return redis.Redis(host=HOST, port=port(), socket_timeout=2).ping()
    return wait_ready(NAME, check, LOG, lambda: pid() is not None)


def stop() -> bool:
    running = pid()
    if not running:
        PIDFILE.unlink(missing_ok=True)
        return False
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    try:
        # NOSAVE: there is no persistence to flush; the server exits and drops the connection.
        # No retries: redis-py would otherwise reconnect to the departed server for seconds.
        # The port comes from the running server's config, not from the environment: a
        # different FNSHOP_REDIS_PORT now must not shut down somebody else's Redis.
        redis.Redis(host=HOST, port=_running_port(), socket_timeout=5,
                    retry=Retry(NoBackoff(), 0)).shutdown(nosave=True)
    except redis.exceptions.ConnectionError:
        pass  # expected: the server closed the connection while going down
    except (redis.exceptions.RedisError, OSError, ValueError):
        pass  # fall through to SIGTERM below (Redis shuts down the same way on SIGTERM)
    if not wait_gone(running, "redis-server", 10):
        terminate(running, "redis-server", 10, signal.SIGTERM)
    PIDFILE.unlink(missing_ok=True)
    return True


def _running_port() -> int:
    for line in CONF.read_text().splitlines():
        if line.startswith("port "):
            return int(line.split()[1])
    raise ValueError(f"no port in {CONF}")
