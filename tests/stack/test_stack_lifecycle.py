"""The local stack from scratch: a fresh state folder and free ports, so the stack the rest of
the suite uses is never touched. Proves initdb, KRaft formatting, topic creation, stack.env,
stop/start of one service, restart after kill -9 (stale pid files) and down/up cycles.

Needs root (runuser postgres), Java and Maven, like `task stack:up`. Takes about half a minute.
Set FNSHOP_SKIP_STACK_LIFECYCLE=1 to skip it.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "dev" / "stack" / "stack.py"

pytestmark = pytest.mark.skipif(
    os.environ.get("FNSHOP_SKIP_STACK_LIFECYCLE") == "1" or os.geteuid() != 0
    or shutil.which("java") is None or shutil.which("mvn") is None,
    reason="needs root, java and mvn (or FNSHOP_SKIP_STACK_LIFECYCLE=1)")

SINKS = """\
apiVersion: eventing.knative.dev/v1alpha1
kind: KafkaSink
metadata: {name: lifecycle-a}
spec: {topic: lifecycle-a, numPartitions: 2, bootstrapServers: [x:9092]}
---
apiVersion: eventing.knative.dev/v1alpha1
kind: KafkaSink
metadata: {name: lifecycle-b}
spec: {topic: lifecycle-b, bootstrapServers: [x:9092]}
"""


def free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Stack:
    def __init__(self, state: Path, eventing: Path):
        self.state = state
        pg, rd, kf, kc = free_ports(4)
        self.ports = {"pg": pg, "redis": rd, "kafka": kf}
        self.env = dict(os.environ, FNSHOP_STATE_DIR=str(state), FNSHOP_EVENTING_DIR=str(eventing),
                        FNSHOP_PG_PORT=str(pg), FNSHOP_REDIS_PORT=str(rd),
                        FNSHOP_KAFKA_PORT=str(kf), FNSHOP_KAFKA_CONTROLLER_PORT=str(kc))

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, str(STACK), *args], env=self.env, text=True,
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=240)
        if ok:
            assert proc.returncode == 0, f"stack {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
        return proc

    def status(self) -> dict[str, str]:
        lines = self.run("status").stdout.splitlines()
        return {line.split()[0]: line.split()[1] for line in lines if not line.startswith("state:")}

    def pid(self, service: str) -> int:
        path = {"redis": "redis/redis.pid", "kafka": "kafka/kafka.pid",
                "postgres": "postgres/data/postmaster.pid"}[service]
        return int((self.state / path).read_text().split()[0])

    def topics(self) -> dict[str, int]:
        from kafka.admin import KafkaAdminClient
        admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{self.ports['kafka']}",
                                 bootstrap_timeout_ms=10000)
        try:
            return {t["name"]: len(t["partitions"]) for t in admin.describe_topics()}
        finally:
            admin.close()


@pytest.fixture(scope="module")
def stack():
    # Not pytest's tmp_path: its parent folders are 0700 and the postgres user must get through.
    state = Path(tempfile.mkdtemp(prefix="fnshop-stack-"))
    eventing = state.parent / f"{state.name}-eventing"
    (eventing / "nested").mkdir(parents=True)
    (eventing / "nested" / "sinks.yaml").write_text(SINKS)
    s = Stack(state, eventing)
    yield s
    s.run("down", ok=False)
    for pidfile in ("redis/redis.pid", "kafka/kafka.pid"):  # belt and braces: nothing leaks
        try:
            os.kill(int((state / pidfile).read_text()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    shutil.rmtree(state, ignore_errors=True)
    shutil.rmtree(eventing, ignore_errors=True)


def test_up_from_scratch(stack):
    started = time.monotonic()
    out = stack.run("up").stdout
    print(f"cold up took {time.monotonic() - started:.1f}s\n{out}")
    assert "initdb" in out and "formatting the KRaft log dir" in out
    p = stack.ports
    expected = [f"DATABASE_URL=postgresql://fnshop:fnshop@127.0.0.1:{p['pg']}/fnshop",
                f"REDIS_URL=redis://127.0.0.1:{p['redis']}/0",
                f"KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{p['kafka']}"]
    assert (stack.state / "stack.env").read_text().splitlines() == expected
    for line in expected:
        assert line in out
    assert stack.status() == {"postgres": "running", "redis": "running", "kafka": "running"}
    for service in ("postgres", "redis", "kafka"):
        assert (stack.state / "logs" / f"{service}.log").stat().st_size > 0


def test_services_answer_with_the_advertised_urls(stack):
    env = dict(line.split("=", 1) for line in (stack.state / "stack.env").read_text().splitlines())
    with psycopg2.connect(env["DATABASE_URL"]) as conn, conn.cursor() as cur:
        cur.execute("select current_user, current_database(), inet_server_addr()::text")
        assert cur.fetchone() == ("fnshop", "fnshop", "127.0.0.1/32")
        cur.execute("create table if not exists lifecycle (v int)")
    client = redis.Redis.from_url(env["REDIS_URL"])
    assert client.ping()
    client.close()
    assert stack.topics() == {"lifecycle-a": 2, "lifecycle-b": 1}


def test_servers_run_detached(stack):
    for service in ("postgres", "redis", "kafka"):
        pid = stack.pid(service)
        assert os.getsid(pid) == pid, f"{service} is not the leader of its own session"


def test_up_again_is_a_no_op(stack):
    pids = {s: stack.pid(s) for s in ("postgres", "redis", "kafka")}
    out = stack.run("up").stdout
    assert out.count("already running") == 3
    assert {s: stack.pid(s) for s in pids} == pids


def test_stop_and_start_redis(stack):
    stack.run("stop", "redis")
    assert stack.status()["redis"] == "stopped"
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    client = redis.Redis(port=stack.ports["redis"], socket_connect_timeout=1,
                         retry=Retry(NoBackoff(), 0))
    with pytest.raises(redis.exceptions.ConnectionError):
        client.ping()
    stack.run("start", "redis")
    assert client.ping()
    client.close()


def test_kafka_restart_keeps_topics_and_data(stack):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    bootstrap = f"127.0.0.1:{stack.ports['kafka']}"
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    producer.send("lifecycle-b", b"kept").get(timeout=30)
    producer.close()
    stack.run("stop", "kafka")
    assert stack.status()["kafka"] == "stopped"
    stack.run("start", "kafka")
    assert stack.topics() == {"lifecycle-a": 2, "lifecycle-b": 1}
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=10000)
    consumer.assign([TopicPartition("lifecycle-b", 0)])
    consumer.seek_to_beginning()
    assert [m.value for m in consumer] == [b"kept"]
    consumer.close()


def test_up_after_kill_9_ignores_stale_pid_files(stack):
    for service in ("kafka", "redis", "postgres"):
        os.kill(stack.pid(service), signal.SIGKILL)
    time.sleep(0.5)
    assert set(stack.status().values()) == {"stopped"}
    out = stack.run("up").stdout
    assert out.count(" started,") == 3, out
    assert stack.topics() == {"lifecycle-a": 2, "lifecycle-b": 1}
    with psycopg2.connect(host="127.0.0.1", port=stack.ports["pg"], user="fnshop",
                          password="fnshop", dbname="fnshop") as conn, conn.cursor() as cur:
        cur.execute("select count(*) from lifecycle")  # the table survived crash recovery
        assert cur.fetchone() == (0,)


def test_down_then_warm_up(stack):
    stack.run("down")
    assert set(stack.status().values()) == {"stopped"}
    started = time.monotonic()
    out = stack.run("up").stdout
    print(f"warm up took {time.monotonic() - started:.1f}s\n{out}")
    assert out.count(" started,") == 3
    assert "initdb" not in out and "formatting" not in out and "Maven" not in out


def test_a_taken_port_is_reported_clearly(stack):
    stack.run("stop", "redis")
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # redis left TIME_WAITs
        squatter.bind(("127.0.0.1", stack.ports["redis"]))
        squatter.listen()
        proc = stack.run("start", "redis", ok=False)
    assert proc.returncode == 1
    assert f"port 127.0.0.1:{stack.ports['redis']} is already taken" in proc.stderr
    stack.run("start", "redis")
