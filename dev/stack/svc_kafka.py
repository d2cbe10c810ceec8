"""Apache Kafka 4.1.1: one KRaft node acting as broker and controller.

The jars come from Maven Central through pom.xml (no tarball download), copied into the
state folder. The log directory is formatted once with the StorageTool (standalone: this node
is the whole controller quorum) and keeps topics and offsets across restarts.
"""
from __future__ import annotations

import base64
import hashlib
import os
import shutil
import signal
import uuid
from pathlib import Path

from common import (HOST, LOGS, STACK_DIR, STATE, StackError, alive, apt_install, env_port,
                    port_open, read_pid, require_free, run, spawn, step, terminate, wait_ready,
                    write_atomic)

NAME = "kafka"
PORT_ENV = "FNSHOP_KAFKA_PORT"
CONTROLLER_PORT_ENV = "FNSHOP_KAFKA_CONTROLLER_PORT"
POM = STACK_DIR / "pom.xml"
HOME = STATE / "kafka"
LIBS = HOME / "libs"
DATA = HOME / "data"
PIDFILE = HOME / "kafka.pid"
CLUSTER_ID = HOME / "cluster.id"
PROPERTIES = HOME / "server.properties"
LOG4J = HOME / "log4j2.properties"
LOG = LOGS / "kafka.log"
MAIN = "kafka.Kafka"

# Small heap for a 2-core test machine. Serial GC: the JVM starts ~0.5 s sooner than with G1
# and a 512 MB heap has short pauses anyway.
JVM_OPTS = ["-Xms256m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true", "-Xlog:cds*=off"]


def port() -> int:
    return env_port(PORT_ENV, 59092)


def controller_port() -> int:
    return env_port(CONTROLLER_PORT_ENV, 59093)


def url() -> str:
    return f"{HOST}:{port()}"


def pid() -> int | None:
    # Our broker is the java process started with our server.properties.
    found = read_pid(PIDFILE)
    return found if alive(found, str(PROPERTIES)) else None


def ensure_installed() -> None:
    if shutil.which("java") is None:
        apt_install("openjdk-17-jre-headless")
    if shutil.which("mvn") is None:
        apt_install("maven")
    _fetch_jars()


def start() -> bool:
    if pid():
        return False
    ensure_installed()
    require_free(port(), NAME, PORT_ENV)
    require_free(controller_port(), NAME, CONTROLLER_PORT_ENV)
    _write_config()
    _format_if_needed()
    proc = spawn([_java(), *JVM_OPTS, *_cds_opts(), f"-Dlog4j2.configurationFile={LOG4J}",
                  "-cp", f"{LIBS}/*", MAIN, str(PROPERTIES)], LOG, cwd=HOME)
    write_atomic(PIDFILE, f"{proc.pid}\n")
    return True


def wait() -> float:
    def check() -> bool:
        # A cheap TCP probe first: the admin client's bootstrap blocks for seconds otherwise.
        if not port_open(port()):
            return False
        client = admin()
        try:
            client.list_topics()  # a real metadata round trip
            return True
        finally:
            client.close()
    return wait_ready(NAME, check, LOG, lambda: pid() is not None)


def stop() -> bool:
    running = pid()
    if not running:
        PIDFILE.unlink(missing_ok=True)
        return False
    # SIGTERM = controlled shutdown: logs are flushed, the next start needs no recovery.
    # 60 s covers the one-time class archive dump (a few seconds) on top of that.
    clean = terminate(running, str(PROPERTIES), 60, signal.SIGTERM)
    _finish_cds(clean)
    PIDFILE.unlink(missing_ok=True)
    return True


def admin():
    from kafka.admin import KafkaAdminClient
    return KafkaAdminClient(bootstrap_servers=url(), client_id="fnshop-stack",
                            bootstrap_timeout_ms=3000, request_timeout_ms=10000)


# ---- internals -------------------------------------------------------------------------------


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    return str(Path(home) / "bin" / "java") if home else "java"


def _pom_hash() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()[:16]


def _fetch_jars() -> None:
    """Resolve the broker's jars with Maven (cached in ~/.m2) when pom.xml changed."""
    stamp = HOME / "libs.sha"
    if LIBS.is_dir() and stamp.exists() and stamp.read_text().strip() == _pom_hash():
        return
    HOME.mkdir(parents=True, exist_ok=True)
    fresh = HOME / "libs.new"
    shutil.rmtree(fresh, ignore_errors=True)
    with step("resolving the Kafka jars with Maven (first run, or pom.xml changed)"):
        run(["mvn", "-B", "-q", "-f", str(POM), "dependency:copy-dependencies",
             f"-DoutputDirectory={fresh}", "-DincludeScope=runtime"], cwd=STACK_DIR)
    if not list(fresh.glob("kafka_2.13-*.jar")):
        raise StackError(f"Maven ran but put no kafka_2.13 jar into {fresh}")
    shutil.rmtree(LIBS, ignore_errors=True)
    fresh.rename(LIBS)
    for archive in HOME.glob("kafka-*.jsa*"):  # a class archive is only valid for its jars
        archive.unlink()
    stamp.write_text(_pom_hash() + "\n")


def _write_config() -> None:
    # Rewritten on every start so changed ports take effect (the data stays valid).
    HOME.mkdir(parents=True, exist_ok=True)
    PROPERTIES.write_text(f"""\
# Single KRaft node: broker and controller in one JVM.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers={HOST}:{controller_port()}
listeners=PLAINTEXT://{HOST}:{port()},CONTROLLER://{HOST}:{controller_port()}
advertised.listeners=PLAINTEXT://{HOST}:{port()}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={DATA}

# One broker: every internal topic has one replica. Fewer partitions than the defaults (50)
# make the first consumer group or transaction come up faster.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=2
num.partitions=1
default.replication.factor=1

# Topics come from the KafkaSink manifests in eventing/, like Knative creates them; a typo in a
# topic name must fail instead of silently creating a new topic.
auto.create.topics.enable=false

# Tests: consumers join at once and may use short session timeouts to notice failures fast.
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000

# After a kill -9 the controller refuses the restarted broker ("duplicate registration") until
# the dead incarnation's session expires: 4 s instead of 9 s. Heartbeats are in-process.
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000

# A 2-core machine: fewer threads and a smaller compaction buffer than the defaults.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
""")
    # Kafka 4 logs through log4j2; without this file it logs nothing useful. Config dumps
    # (1000+ lines per start) and per-partition state changes only at WARN.
    LOG4J.write_text(f"""\
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {LOG}
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
""")


def _format_if_needed() -> None:
    if (DATA / "meta.properties").exists():
        return
    # No meta.properties: never formatted, or formatting was interrupted. Nothing to keep.
    shutil.rmtree(DATA, ignore_errors=True)
    if not CLUSTER_ID.exists():
        CLUSTER_ID.write_text(_random_cluster_id() + "\n")
    cluster_id = CLUSTER_ID.read_text().strip()
    with step(f"formatting the KRaft log dir {DATA} (cluster id {cluster_id})"):
        run([_java(), "-Xmx256m", "-XX:+UseSerialGC", f"-Dlog4j2.configurationFile={LOG4J}",
             "-cp", f"{LIBS}/*", "kafka.tools.StorageTool", "format", "--standalone",
             "-t", cluster_id, "-c", str(PROPERTIES)], cwd=HOME)


def _random_cluster_id() -> str:
    # What `kafka-storage.sh random-uuid` prints: 16 random bytes, URL-safe base64, no padding
    # (Kafka rejects ids that start with '-').
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


# ---- class data sharing ----------------------------------------------------------------------
# Loading and verifying ~45 jars' classes is most of the broker's start-up. The first broker
# run records the classes it loaded into an archive when it exits (-XX:ArchiveClassesAtExit);
# later runs map that archive (-XX:SharedArchiveFile) and answer in ~1.5 s instead of ~3 s.
# The JVM writes the archive under a temporary name, renamed only after a clean exit, so a
# broker killed mid-dump never leaves a broken archive behind (a stale one is just ignored).

def _cds_archive() -> Path:
    java = os.path.realpath(shutil.which(_java()) or _java())  # a JDK update = a new archive
    key = hashlib.sha256(f"{java}:{_pom_hash()}".encode())
    return HOME / f"kafka-{key.hexdigest()[:12]}.jsa"


def _cds_opts() -> list[str]:
    archive = _cds_archive()
    if archive.exists():
        return [f"-XX:SharedArchiveFile={archive}"]
    Path(f"{archive}.tmp").unlink(missing_ok=True)
    return [f"-XX:ArchiveClassesAtExit={archive}.tmp"]


def _finish_cds(clean_exit: bool) -> None:
    archive = _cds_archive()
    pending = Path(f"{archive}.tmp")
    if pending.exists():
        if clean_exit and pending.stat().st_size > 0:
            pending.replace(archive)
        else:
            pending.unlink()
