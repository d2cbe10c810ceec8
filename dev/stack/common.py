"""Shared plumbing for the local stack: paths, ports, pid files, detached processes, waiting.

Everything the stack owns lives under one state folder ($FNSHOP_STATE_DIR, default
<repo>/.state) so that a fresh folder means a fresh stack and deleting it resets everything.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STACK_DIR = Path(__file__).resolve().parent
STATE = Path(os.environ.get("FNSHOP_STATE_DIR") or ROOT / ".state").resolve()
LOGS = STATE / "logs"
HOST = "127.0.0.1"  # every service listens on loopback only

# Seconds to wait for one service to answer; CI machines can be slow, a dev machine is not.
TIMEOUT = float(os.environ.get("FNSHOP_STACK_TIMEOUT", "120"))


class StackError(Exception):
    """A failure worth a clear one-paragraph message rather than a traceback."""


def env_port(env: str, default: int) -> int:
    raw = os.environ.get(env, "")
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise StackError(f"{env}={raw!r} is not a port number") from None
    if not 0 < value < 65536:
        raise StackError(f"{env}={value} is out of range")
    return value


def say(msg: str) -> None:
    print(f"stack: {msg}", flush=True)


@contextmanager
def step(msg: str):
    """Announce a one-time, possibly slow step (installs, initdb, formatting) and time it."""
    say(f"{msg} ...")
    start = time.monotonic()
    yield
    say(f"{msg}: done in {time.monotonic() - start:.1f}s")


def ensure_state() -> None:
    LOGS.mkdir(parents=True, exist_ok=True)
    # The postgres OS user must be able to walk into the state folder (mkdtemp makes 0700).
    mode = STATE.stat().st_mode
    if mode & 0o011 != 0o011:
        STATE.chmod(mode | 0o011)


# ---- installing ------------------------------------------------------------------------------

_apt_updated = False


def apt_install(*packages: str) -> None:
    """Install Debian packages; the package lists are refreshed once per run (a fresh image has
    none). policy-rc.d on these images keeps the package's own system service from starting."""
    global _apt_updated
    if shutil.which("apt-get") is None:
        raise StackError(f"missing {' '.join(packages)} and no apt-get to install it")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    with step(f"installing {' '.join(packages)} with apt-get"):
        if not _apt_updated:
            run(["apt-get", "update", "-q"], env)
            _apt_updated = True
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages], env)


def run(argv: list[str], env: dict | None = None, cwd: Path | None = None) -> str:
    proc = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise StackError(f"`{' '.join(argv)}` failed (exit {proc.returncode}):\n"
                         + _last_lines(proc.stdout, 30))
    return proc.stdout


# ---- processes -------------------------------------------------------------------------------

def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def alive(pid: int | None, needle: str) -> bool:
    """True when pid is a live (not zombie) process whose command line contains needle.
    The needle check is what makes a stale pid file harmless: after a reboot or a kill -9 the
    number may belong to an unrelated process by now."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X") and needle in cmdline


def spawn(argv: list[str], log: Path, cwd: Path, env: dict | None = None) -> subprocess.Popen:
    """Start a long-running server detached from us: own session (so Ctrl-C or the end of the
    calling shell or task does not reach it), no stdin, stdout/stderr appended to its log."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)


def terminate(pid: int, needle: str, timeout: float, sig: int = signal.SIGTERM) -> bool:
    """Send sig and wait for the process to go; SIGKILL after timeout. Returns True when it
    exited by itself (a clean stop), False when it had to be killed."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return True
    if wait_gone(pid, needle, timeout):
        return True
    say(f"pid {pid} ignored {signal.Signals(sig).name} for {timeout:.0f}s: killing it")
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    wait_gone(pid, needle, 10)
    return False


def wait_gone(pid: int, needle: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid, needle):
        _reap(pid)
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _reap(pid: int) -> None:
    # A server we spawned in this very run stays a zombie until we wait for it.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def port_open(port_no: int) -> bool:
    try:
        socket.create_connection((HOST, port_no), timeout=0.5).close()
        return True
    except OSError:
        return False


def require_free(port_no: int, service: str, env: str) -> None:
    if port_open(port_no):
        raise StackError(f"{service}: port {HOST}:{port_no} is already taken by a process this "
                         f"stack does not know (another state dir?). Stop it or set {env}.")


def wait_ready(service: str, check, log: Path, is_alive, timeout: float = TIMEOUT) -> float:
    """Poll check() until it returns true. Fails fast when the process died, and with the log
    tail either way, because 'timed out' alone never tells why. Returns seconds waited."""
    start = time.monotonic()
    last_error = None
    while True:
        try:
            if check():
                return time.monotonic() - start
        except Exception as exc:  # noqa: BLE001 - any failure just means "not yet"
            last_error = exc
        if not is_alive():
            # One last look: the process may have just exec'd or daemonized.
            time.sleep(0.3)
            if not is_alive():
                raise StackError(f"{service} exited during start-up; last lines of {log}:\n"
                                 + tail(log))
        if time.monotonic() - start > timeout:
            why = f" (last error: {last_error})" if last_error else ""
            raise StackError(f"{service} did not answer within {timeout:.0f}s{why}; "
                             f"last lines of {log}:\n" + tail(log))
        time.sleep(0.1)


def tail(path: Path, lines: int = 30) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode(errors="replace")
    except OSError:
        return f"  ({path} does not exist)"
    # Java stack frames push the one line that says what went wrong out of view.
    kept = [line for line in text.splitlines()
            if not line.lstrip().startswith(("at ", "... ")) or not line[:1].isspace()]
    return _last_lines("\n".join(kept), lines)


def _last_lines(text: str, lines: int) -> str:
    return "\n".join("  | " + line for line in text.splitlines()[-lines:])


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def fail(msg: str) -> None:
    print(f"stack: ERROR: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)
