"""PostgreSQL 15: a cluster of the project's own (data folder, port and unix socket under the
state folder), never the system cluster.

initdb and postgres refuse to run as root, so every server command goes through
`runuser -u postgres` and the folders the server writes belong to that OS user.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

from common import (HOST, LOGS, STATE, TIMEOUT, StackError, apt_install, env_port,
                    read_pid, require_free, run, say, step, tail, terminate, wait_ready)

NAME = "postgres"
BIN = Path("/usr/lib/postgresql/15/bin")
PORT_ENV = "FNSHOP_PG_PORT"
HOME = STATE / "postgres"
DATA = HOME / "data"
SOCKETS = HOME / "run"  # unix socket (and its lock file), kept out of /var/run/postgresql
LOG = LOGS / "postgres.log"
USER = PASSWORD = DB = "fnshop"


def port() -> int:
    return env_port(PORT_ENV, 55432)


def url() -> str:
    return f"postgresql://{USER}:{PASSWORD}@{HOST}:{port()}/{DB}"


def pid() -> int | None:
    # postmaster.pid is postgres's own lock file; its first line is the postmaster's pid.
    # Every process of a cluster runs in its data folder: that tells ours from any other.
    found = read_pid(DATA / "postmaster.pid")
    return found if found in _cluster_processes() else None


def _cluster_processes() -> list[int]:
    """Live processes whose working directory is our data folder: the postmaster and its
    children, including backends orphaned by a postmaster that was kill -9'd."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "cwd") == str(DATA):
                    pids.append(int(entry.name))
            except OSError:
                continue  # gone, or a zombie (no cwd)
    return pids


def _clear_stale_locks() -> None:
    """After a postmaster was killed, postgres refuses to start while its lock files name a
    pid that still exists (a zombie not yet reaped, or a number reused by another process)
    or while orphaned backends still hold the old shared memory. Wait for the orphans (they
    exit on their own once the postmaster is gone); then no process uses the folder and the
    lock files are stale by definition."""
    deadline = time.monotonic() + 15
    while _cluster_processes():
        if time.monotonic() > deadline:
            raise StackError(f"processes {_cluster_processes()} still run in {DATA} without a "
                             "postmaster; stop them, then run up again")
        time.sleep(0.1)
    stale = [p for p in [DATA / "postmaster.pid", *SOCKETS.glob(".s.PGSQL.*")] if p.exists()]
    if stale:
        say(f"removing {', '.join(p.name for p in stale)} left by a postgres that did not "
            "stop cleanly")
        for path in stale:
            path.unlink(missing_ok=True)


def ensure_installed() -> None:
    if not (BIN / "postgres").exists():
        apt_install("postgresql")
    if not (BIN / "postgres").exists():
        raise StackError(f"PostgreSQL 15 is not in {BIN} even after installing `postgresql`")


def start() -> bool:
    """Start the cluster unless it runs; returns True when it had to be started."""
    if pid():
        _bootstrap()  # cheap, and repairs a run that died between initdb and CREATE DATABASE
        return False
    ensure_installed()
    _prepare_dirs()
    _initdb_if_needed()
    _clear_stale_locks()
    _write_config()
    require_free(port(), NAME, PORT_ENV)
    # -w: pg_ctl itself waits until the server accepts connections (and says why not).
    # New session: the postmaster must outlive the shell or task that started it.
    proc = subprocess.run(_as_postgres("pg_ctl", "-D", str(DATA), "-l", str(LOG), "-w",
                                       "-t", str(int(TIMEOUT)), "start"),
                          cwd=HOME, env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, start_new_session=True)
    if proc.returncode != 0:
        raise StackError(f"postgres did not start: {proc.stdout.strip()}\n"
                         f"last lines of {LOG}:\n{tail(LOG)}")
    _bootstrap()
    return True


def wait() -> float:
    """The real check: `select 1` over TCP with the credentials handed to the app."""
    import psycopg2

    def check() -> bool:
        conn = psycopg2.connect(url(), connect_timeout=2)
        try:
            with conn.cursor() as cur:
                cur.execute("select 1")
                return cur.fetchone() == (1,)
        finally:
            conn.close()
    return wait_ready(NAME, check, LOG, lambda: pid() is not None)


def stop() -> bool:
    """Stop the cluster if it runs; returns True when there was something to stop."""
    running = pid()
    if not running:
        return False
    # fast = roll back open transactions, disconnect clients, checkpoint, exit.
    proc = subprocess.run(_as_postgres("pg_ctl", "-D", str(DATA), "-m", "fast", "-w",
                                       "-t", "60", "stop"),
                          cwd=HOME, env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0 and pid():
        say(f"pg_ctl stop failed ({proc.stdout.strip()}); sending SIGQUIT")
        terminate(running, "postgres", 10, signal.SIGQUIT)
    return True


# ---- internals -------------------------------------------------------------------------------

def _as_postgres(tool: str, *args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", str(BIN / tool), *args]


def _env() -> dict:
    # PG* variables of the caller (PGPORT, PGHOST, PGDATA...) would point the tools elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C.UTF-8"
    return env


def _prepare_dirs() -> None:
    owner = pwd.getpwnam("postgres")
    for folder in (HOME, DATA, SOCKETS):
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    DATA.chmod(0o700)  # postgres refuses a data folder others can read
    LOG.touch()
    os.chown(LOG, owner.pw_uid, owner.pw_gid)  # pg_ctl opens the log as the postgres user
    _let_postgres_through()
    # A unix socket path is limited to 107 bytes (sun_path).
    if len(f"{SOCKETS}/.s.PGSQL.{port()}.lock") > 107:
        raise StackError(f"socket folder {SOCKETS} is too long a path for a unix socket; "
                         "use a shorter FNSHOP_STATE_DIR")


def _as_postgres_ok(*test_args: str) -> bool:
    return subprocess.run(["runuser", "-u", "postgres", "--", "test", *test_args]).returncode == 0


def _let_postgres_through() -> None:
    """The postgres OS user must walk down to the data folder. A clone under /root (0700)
    blocks it: grant search permission (o+x, which lists nothing) on the folders in the way."""
    if _as_postgres_ok("-w", str(DATA)):
        return
    for folder in reversed(DATA.parents):
        if not _as_postgres_ok("-x", str(folder)):
            say(f"granting search permission (o+x) on {folder} so the postgres user can "
                "reach its data folder")
            folder.chmod(folder.stat().st_mode | 0o001)
    if not _as_postgres_ok("-w", str(DATA)):
        raise StackError(f"the postgres OS user still cannot write {DATA}; "
                         "set FNSHOP_STATE_DIR to a folder it can reach")


def _initdb_if_needed() -> None:
    if (DATA / "PG_VERSION").exists():
        return
    # No PG_VERSION means initdb never finished: whatever is there is a half-made cluster.
    for child in DATA.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    # Local socket: trust (only root and postgres can reach the socket folder).
    # TCP: scram passwords, so DATABASE_URL exercises real authentication.
    with step(f"initdb {DATA}"):
        run(_as_postgres("initdb", "-D", str(DATA), "-U", "postgres", "-E", "UTF8",
                         "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256",
                         "--no-sync"), env=_env(), cwd=HOME)
    with open(DATA / "postgresql.conf", "a") as conf:
        conf.write("\n# fnshop dev stack: settings rewritten on every start\n"
                   "include_if_exists = 'fnshop.conf'\n")


def _write_config() -> None:
    # Rewritten on every start so a changed FNSHOP_PG_PORT takes effect.
    text = f"""\
listen_addresses = '{HOST}'
port = {port()}
unix_socket_directories = '{SOCKETS}'
max_connections = 200
shared_buffers = 128MB
# A throwaway dev/CI database: durability against an OS crash buys nothing here, speed does.
# (A killed server still recovers: only a crash of the whole machine could lose data.)
fsync = off
synchronous_commit = off
full_page_writes = off
log_line_prefix = '%m [%p] %q%u@%d '
"""
    conf = DATA / "fnshop.conf"
    conf.write_text(text)
    owner = pwd.getpwnam("postgres")
    os.chown(conf, owner.pw_uid, owner.pw_gid)


def _bootstrap() -> None:
    """Create the app's role and database (idempotent), as the superuser over the socket."""
    import psycopg2

    conn = psycopg2.connect(host=str(SOCKETS), port=port(), user="postgres", dbname="postgres",
                            connect_timeout=5)
    try:
        conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_roles where rolname = %s", (USER,))
            if cur.fetchone() is None:
                cur.execute(f"create role {USER} login password %s", (PASSWORD,))
            cur.execute("select 1 from pg_database where datname = %s", (DB,))
            if cur.fetchone() is None:
                cur.execute(f"create database {DB} owner {USER}")
    finally:
        conn.close()
