#!/usr/bin/env bash
# A real three-node Apache Kafka cluster on 127.0.0.1: KRaft, every node broker and controller,
# a static 3-voter quorum, replication as in production (RF 3, min.insync.replicas 2). The
# "prod topology" of the local platform, for the chaos drill that SIGKILLs one broker mid-stream
# and brings it back. Node ids 0, 1, 2 match Strimzi's pod names <cluster>-<pool>-<id>. Each
# node runs the Prometheus JMX exporter as a java agent with the config the stack renders
# (JMX_EXPORTER_CONFIG in infra/kafka/cluster-spec.ts), so its series are a Strimzi pod's.
# TEST-ONLY: no listener authenticates anyone; everything binds to 127.0.0.1 only.
#
# Usage: local/kafka-cluster.sh install|start|stop|status|env|kill-node ID|start-node ID|start-node-empty ID
#   eval "$(local/kafka-cluster.sh env)"   # exports the KAFKA_CLUSTER_* addresses
#   status          exit status 0 when all three nodes run, 1 when only some do, 3 when none
#   kill-node ID    SIGKILL node ID (0, 1 or 2) and wait until it is gone (the drill's fault)
#   start-node ID   start node ID again on its data; wait until it serves
#   start-node-empty ID  start a stopped node ID on empty, freshly formatted storage, as a pod with
#                   ephemeral storage (Strimzi's emptyDir) comes back after a delete; wait until it serves
#
# Node i (0, 1, 2) listens on base + i:
#   PLAINTEXT  19190+i  clients, inter-broker replication, admin
#   CONTROLLER 19290+i  KRaft quorum
#   metrics    19390+i  JMX exporter, http://127.0.0.1:19390+i/metrics
#   PROXIED    19490+i  advertised as 127.0.0.1:19590+i, where a TCP proxy (Toxiproxy) listens
#                       and forwards to 19490+i: clients that bootstrap on 19590+i are sent back
#                       to the proxy for every leader, so all their traffic crosses it
#
# Environment (all optional):
#   STREAMFORGE_CACHE   cache root (default ${XDG_CACHE_HOME:-~/.cache}/streamforge); the JMX
#                       exporter in jmx-exporter/<version>, Kafka's jars as local/kafka.sh installs them
#   STREAMFORGE_STATE   state root (default <repo>/.local/state); node i in kafka-cluster/node-<i>/
#   STREAMFORGE_KAFKA_CLUSTER_PLAINTEXT_BASE   (default 19190)
#   STREAMFORGE_KAFKA_CLUSTER_CONTROLLER_BASE  (default 19290)
#   STREAMFORGE_KAFKA_CLUSTER_METRICS_BASE     (default 19390)
#   STREAMFORGE_KAFKA_CLUSTER_PROXIED_BASE     PROXIED bind ports (default 19490)
#   STREAMFORGE_KAFKA_CLUSTER_PROXY_BASE       PROXIED advertised (proxy) ports (default 19590)
#   STREAMFORGE_KAFKA_CLUSTER_START_TIMEOUT    seconds to wait for readiness (default 120)
#   STREAMFORGE_KAFKA_CLUSTER_JAVA_OPTS        extra JVM options for every node
set -euo pipefail

# The Prometheus JMX exporter agent. 1.0.1 is the newest on Maven Central: later agent releases
# are published on GitHub only (prometheus/jmx_exporter#1115). The rendered rules (write_metrics_config)
# produce the same Kafka metric names with any 1.x agent.
JMX_EXPORTER_VERSION=1.0.1
JMX_EXPORTER_ARTIFACT="io.prometheus.jmx:jmx_prometheus_javaagent:$JMX_EXPORTER_VERSION"
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

# shellcheck source=lib/piece.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/piece.sh"
# jar_has, new_cluster_id, kafka_log4j_config, kafka_java_cmd, maven_cache
# shellcheck source=lib/kafka-common.sh
source "$LOCAL/lib/kafka-common.sh"
piece kafka-cluster

JMX_CACHE_DIR="$CACHE/jmx-exporter/$JMX_EXPORTER_VERSION"
JMX_JAR="$JMX_CACHE_DIR/jmx_prometheus_javaagent-$JMX_EXPORTER_VERSION.jar"
CLUSTER_ID_FILE="$STATE_DIR/cluster.id"
METRICS_CONFIG="$STATE_DIR/jmx-exporter.yaml"

HOST=127.0.0.1
NODES=(0 1 2)
PLAINTEXT_BASE="${STREAMFORGE_KAFKA_CLUSTER_PLAINTEXT_BASE:-19190}"
CONTROLLER_BASE="${STREAMFORGE_KAFKA_CLUSTER_CONTROLLER_BASE:-19290}"
METRICS_BASE="${STREAMFORGE_KAFKA_CLUSTER_METRICS_BASE:-19390}"
PROXIED_BASE="${STREAMFORGE_KAFKA_CLUSTER_PROXIED_BASE:-19490}"
PROXY_BASE="${STREAMFORGE_KAFKA_CLUSTER_PROXY_BASE:-19590}"
START_TIMEOUT="${STREAMFORGE_KAFKA_CLUSTER_START_TIMEOUT:-120}"
# The last node of a stopping cluster has no quorum left and may wait for one until killed; its
# data is a test's, so 10 s is enough.
STOP_TIMEOUT=10
HEAP=384m
REQUIRE_WHY="needs: java 17+ to run the nodes, mvn to fetch the JMX exporter"

# Per-node ports and paths.
plaintext_port() { echo $((PLAINTEXT_BASE + $1)); }
controller_port() { echo $((CONTROLLER_BASE + $1)); }
metrics_port() { echo $((METRICS_BASE + $1)); }
proxied_port() { echo $((PROXIED_BASE + $1)); }
proxy_port() { echo $((PROXY_BASE + $1)); }
node_dir() { echo "$STATE_DIR/node-$1"; }
pid_file() { echo "$STATE_DIR/node-$1/kafka.pid"; }
props_file() { echo "$STATE_DIR/node-$1/server.properties"; }
server_log() { echo "$STATE_DIR/node-$1/logs/server.log"; }
stdout_log() { echo "$STATE_DIR/node-$1/logs/kafka.out"; }

# "a,b,c" from the words printed by FUNCTION for each node.
join_nodes() {
  local fn="$1" i out=""
  for i in "${NODES[@]}"; do out="${out:+$out,}$("$fn" "$i")"; done
  echo "$out"
}
plaintext_address() { echo "$HOST:$(plaintext_port "$1")"; }
proxy_address() { echo "$HOST:$(proxy_port "$1")"; }
proxy_upstream() { echo "$HOST:$(proxy_port "$1")=$HOST:$(proxied_port "$1")"; }
metrics_address() { echo "$HOST:$(metrics_port "$1")"; }
voter() { echo "$1@$HOST:$(controller_port "$1")"; }

check_node_id() {
  case "${1:-}" in
    0 | 1 | 2) ;;
    *) die "node id must be 0, 1 or 2 (got '${1:-}')" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# install: Kafka's jars through local/kafka.sh (one cache for both scripts), the JMX exporter
# agent into its own cache.
# ---------------------------------------------------------------------------------------------

# -javaagent needs the agent's entry point: fail at install, not at the first node start.
check_agent() {
  [ -f "$1/$(basename "$JMX_JAR")" ] || die "mvn did not write $(basename "$JMX_JAR")"
  jar_has "$1/$(basename "$JMX_JAR")" io/prometheus/jmx/JavaAgent.class ||
    die "io/prometheus/jmx/JavaAgent.class is not in $(basename "$JMX_JAR") (renamed in this version?)"
  rm -f "$1/mvn.log"
}

cmd_install() {
  "$LOCAL/kafka.sh" install || die "installing Kafka's jars failed (local/kafka.sh install, output above)"
  [ -f "$JMX_CACHE_DIR/.installed" ] && return 0
  require java mvn
  # Workaround: 1.0.1 is the newest agent on Maven Central; later ones are published on GitHub only.
  maven_cache "$JMX_CACHE_DIR" . "the JMX exporter agent $JMX_EXPORTER_VERSION" check_agent \
    "$DEPENDENCY_PLUGIN:copy" -Dartifact="$JMX_EXPORTER_ARTIFACT"
}

# LIBS: Kafka's jars, where local/kafka.sh installed them.
set_libs() {
  local line
  line="$("$LOCAL/kafka.sh" env | grep '^export KAFKA_LIBS=')" ||
    die "could not read KAFKA_LIBS from 'local/kafka.sh env' (output above)"
  eval "$line" # printf %q-quoted by kafka.sh
  LIBS="$KAFKA_LIBS"
  [ -d "$LIBS" ] || die "Kafka's jars are not in $LIBS: run local/kafka.sh install"
}

node_pid() { recorded_pid "$(pid_file "$1")"; }

# ---------------------------------------------------------------------------------------------
# config
# ---------------------------------------------------------------------------------------------

# One cluster id for all three nodes' storage. Kept in cluster.id; if that was lost, read back
# from a node that is already formatted, so the nodes never disagree.
ensure_cluster_id() {
  [ -s "$CLUSTER_ID_FILE" ] && return 0
  local i id=""
  for i in "${NODES[@]}"; do
    if [ -f "$(node_dir "$i")/data/meta.properties" ]; then
      id="$(sed -n 's/^cluster\.id=//p' "$(node_dir "$i")/data/meta.properties")"
      [ -n "$id" ] && break
    fi
  done
  mkdir -p "$STATE_DIR"
  if [ -n "$id" ]; then echo "$id" >"$CLUSTER_ID_FILE"; else new_cluster_id >"$CLUSTER_ID_FILE"; fi
}

# The exporter config the stack renders (JMX_EXPORTER_CONFIG in infra/kafka/cluster-spec.ts,
# Strimzi's example rules), so the series and their names are what a Strimzi broker pod exposes
# with this program's config. It is a String.raw template without interpolation: the text
# between its backquotes is the value, copied as is (observability/test/real-series.itest.ts
# checks the copy against the TypeScript value). No includeObjectNames: every MBean is read, as
# in the pods.
METRICS_CONFIG_SOURCE="$ROOT/infra/kafka/cluster-spec.ts"
write_metrics_config() {
  local rules
  rules="$(awk '
    /^export const JMX_EXPORTER_CONFIG = String\.raw`/ { found = 1; sub(/^.*String\.raw`/, "") }
    found && /^`;$/ { closed = 1; exit }
    found { print }
    END { if (!closed) exit 1 }' "$METRICS_CONFIG_SOURCE")" ||
    die "no JMX_EXPORTER_CONFIG = String.raw\`...\`; block in $METRICS_CONFIG_SOURCE"
  # shellcheck disable=SC2016  # a literal ${: an interpolation in the TypeScript
  case "$rules" in
    *'${'*) die "JMX_EXPORTER_CONFIG in $METRICS_CONFIG_SOURCE interpolates (\${...}): it cannot be copied as text" ;;
    *"rules:"*) ;;
    *) die "JMX_EXPORTER_CONFIG in $METRICS_CONFIG_SOURCE has no rules" ;;
  esac
  {
    echo "# Generated by local/kafka-cluster.sh on every start from JMX_EXPORTER_CONFIG in infra/kafka/cluster-spec.ts: edit that, not this file."
    printf '%s\n' "$rules"
  } >"$METRICS_CONFIG"
}

# Written on every start of the node, so port overrides take effect; the data does not depend
# on them.
write_node_config() {
  local i="$1" dir
  dir="$(node_dir "$i")"
  cat >"$(props_file "$i")" <<EOF
# Generated by local/kafka-cluster.sh on every start of this node: edit the script, not this file.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$(join_nodes voter)
controller.listener.names=CONTROLLER

# Loopback only, test-only: no listener authenticates (every client is User:ANONYMOUS).
# PROXIED is advertised at the proxy's address, so metadata sends a client that came in
# through the proxy back through it for every partition leader.
listeners=PLAINTEXT://$HOST:$(plaintext_port "$i"),PROXIED://$HOST:$(proxied_port "$i"),CONTROLLER://$HOST:$(controller_port "$i")
advertised.listeners=PLAINTEXT://$HOST:$(plaintext_port "$i"),PROXIED://$HOST:$(proxy_port "$i")
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,PROXIED:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT

log.dirs=$dir/data
auto.create.topics.enable=false
# Replication as in production.
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
offsets.topic.replication.factor=3
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
share.coordinator.state.topic.num.partitions=3
group.initial.rebalance.delay.ms=0

# Fence a SIGKILLed broker (and so drop it from every ISR, which is what the drill watches)
# 6 s after its last heartbeat instead of the default 9 s; heartbeats every 1 s (default 2 s)
# keep that margin at several missed heartbeats.
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1000
# The quorum's own timeouts stay at their defaults (election 1 s, fetch 2 s): losing a voter,
# even the active controller, already costs only seconds.

# Small footprint: three JVMs on a 2-core machine.
log.segment.bytes=16777216
log.retention.hours=24
num.network.threads=2
num.io.threads=2
num.replica.fetchers=1
# The log cleaner's dedupe buffer is on heap (128 MiB by default): too much for a 384 MiB heap.
log.cleaner.dedupe.buffer.size=33554432
EOF
  kafka_log4j_config "$dir/log4j2.properties" "$(server_log "$i")" local/kafka-cluster.sh
}

# KRaft needs formatted storage, once per node, every node with the same cluster id. With a
# static quorum (controller.quorum.voters) the plain format is right: no --standalone and no
# --initial-controllers, which are for a dynamic quorum.
format_node_once() {
  local i="$1" dir out
  dir="$(node_dir "$i")"
  [ -f "$dir/data/meta.properties" ] && return 0
  log "node $i: formatting storage (cluster id $(cat "$CLUSTER_ID_FILE"))"
  if ! out="$(java -Xmx256m "-Dlog4j2.configurationFile=$dir/log4j2.properties" -cp "$LIBS/*" \
      kafka.tools.StorageTool format --config "$(props_file "$i")" \
      --cluster-id "$(cat "$CLUSTER_ID_FILE")" 2>&1)"; then
    echo "$out" >&2
    die "node $i: storage format failed (kafka.tools.StorageTool, output above)"
  fi
}

# ---------------------------------------------------------------------------------------------
# start / stop
# ---------------------------------------------------------------------------------------------

# launch_node ID: start the node's JVM with a fresh server.log (and kafka.out), so readiness
# and a failure report only see this run's lines.
launch_node() {
  local i="$1" f
  for f in "$(server_log "$i")" "$(stdout_log "$i")"; do
    if [ -f "$f" ]; then mv -f "$f" "$f.previous"; fi
  done
  START_LOGS+=("$(server_log "$i")")
  # shellcheck disable=SC2086  # STREAMFORGE_KAFKA_CLUSTER_JAVA_OPTS is a list of options
  kafka_java_cmd "$LIBS" "$(node_dir "$i")/log4j2.properties" "$HEAP" \
    "-javaagent:$JMX_JAR=$HOST:$(metrics_port "$i"):$METRICS_CONFIG" ${STREAMFORGE_KAFKA_CLUSTER_JAVA_OPTS:-}
  spawn "$(pid_file "$i")" "$(stdout_log "$i")" "${JAVA_CMD[@]}" kafka.Kafka "$(props_file "$i")"
}

# Ready = "Kafka Server started" in this run's log (the broker is unfenced and serves) and its
# client and metrics ports accept TCP.
node_ready() {
  local i="$1"
  grep -q 'Kafka Server started' "$(server_log "$i")" 2>/dev/null &&
    port_open "$(plaintext_port "$i")" && port_open "$(proxied_port "$i")" &&
    port_open "$(metrics_port "$i")"
}
nodes_ready() {
  local i
  for i in "$@"; do node_ready "$i" || return 1; done
}

# stop_nodes ID...: all at once (one by one, the last would wait for a quorum until killed).
stop_nodes() {
  local i files=()
  for i in "$@"; do files+=("$(pid_file "$i")"); done
  stop_recorded "$STOP_TIMEOUT" "${files[@]}"
}

# start_nodes ID...: start those of the nodes that are not running and wait until every one of
# them serves. A node's startup completes only once a quorum of controllers runs, so a fresh
# cluster starts all three before waiting.
start_nodes() {
  lock_state
  require java
  cmd_install
  set_libs
  mkdir -p "$STATE_DIR"
  local i pid todo=()
  for i in "$@"; do
    if pid="$(node_pid "$i")"; then
      log "node $i: already running (PID $pid)"
    else
      todo+=("$i")
    fi
  done
  [ "${#todo[@]}" -gt 0 ] || return 0
  # Workaround: a node just SIGKILLed (the drill's kill, then a restart at once) may still answer
  # on its ports for a moment (seen once in CI: 19190 open right after the kill); 10 s to close.
  local ports=()
  for i in "${todo[@]}"; do
    ports+=("$(plaintext_port "$i")" "$(controller_port "$i")" "$(metrics_port "$i")" "$(proxied_port "$i")")
  done
  wait_until "ports ${ports[*]} to close" 10 ports_closed "${ports[@]}" || true
  ports_free "${ports[@]}"

  ensure_cluster_id
  write_metrics_config
  for i in "${todo[@]}"; do
    mkdir -p "$(node_dir "$i")/data" "$(node_dir "$i")/logs"
    write_node_config "$i"
    format_node_once "$i"
  done

  local t0=$SECONDS
  for i in "${todo[@]}"; do
    launch_node "$i" || start_failed "node $i: its JVM exited at once"
  done
  wait_until "node(s) ${todo[*]} (a node finishes starting only while a quorum, two of the three nodes, runs)" \
    "$START_TIMEOUT" nodes_ready "${todo[@]}" || start_failed
  for i in "${todo[@]}"; do
    pid="$(node_pid "$i")"
    log "node $i: ready (PID $pid, PLAINTEXT $(plaintext_address "$i"), PROXIED $HOST:$(proxied_port "$i") as $(proxy_address "$i"), metrics $(metrics_address "$i"), RSS $(rss_of "$pid"))"
  done
  log "node(s) ${todo[*]} ready in $((SECONDS - t0)) s"
}

ports_closed() {
  local p
  for p in "$@"; do ! port_open "$p" || return 1; done
}

# ---------------------------------------------------------------------------------------------
# verbs
# ---------------------------------------------------------------------------------------------

cmd_start() { start_nodes "${NODES[@]}"; }

cmd_stop() {
  lock_state
  stop_nodes "${NODES[@]}"
}

# kill-node ID: SIGKILL the node and wait until it is gone (the drill's fault).
cmd_kill_node() {
  local i="$1" pid t0
  check_node_id "$i"
  lock_state
  pid="$(node_pid "$i")" || die "node $i is not running (nothing to kill)"
  t0="$(date +%s%N)"
  kill -KILL "$pid"
  while recorded_pid "$(pid_file "$i")" >/dev/null; do sleep 0.05; done
  log "node $i: SIGKILLed PID $pid, gone after $((($(date +%s%N) - t0) / 1000000)) ms"
}

cmd_start_node() {
  check_node_id "${1:-}"
  start_nodes "$1"
}

# start-node-empty ID: as a pod with ephemeral storage (Strimzi's emptyDir) comes back.
cmd_start_node_empty() {
  check_node_id "${1:-}"
  lock_state
  ! node_pid "$1" >/dev/null || die "node $1 is running: kill-node it first"
  rm -rf "$(node_dir "$1")/data"
  start_nodes "$1"
}

# Exit status 0 when all nodes run, 1 when only some do, 3 when none (LSB: not running).
cmd_status() {
  local i up=0
  for i in "${NODES[@]}"; do
    status_line "node $i" "$(pid_file "$i")" "plaintext $(plaintext_address "$i") proxied $HOST:$(proxied_port "$i") (advertised $(proxy_address "$i")) controller $HOST:$(controller_port "$i") metrics http://$(metrics_address "$i")/metrics" &&
      up=$((up + 1))
  done
  echo "state: $STATE_DIR"
  [ "$up" -eq "${#NODES[@]}" ] && return 0
  [ "$up" -eq 0 ] && return 3
  return 1
}

# The address lists hold only [0-9.:,=], so they need no quoting (%q would escape the commas).
cmd_env() {
  echo "export KAFKA_CLUSTER_BOOTSTRAP_SERVERS=$(join_nodes plaintext_address)"
  echo "export KAFKA_CLUSTER_PROXIED_SERVERS=$(join_nodes proxy_address)"
  echo "export KAFKA_CLUSTER_PROXY_UPSTREAMS=$(join_nodes proxy_upstream)"
  echo "export KAFKA_CLUSTER_METRICS_ADDRESSES=$(join_nodes metrics_address)"
  printf 'export KAFKA_CLUSTER_SCRIPT=%q\n' "$LOCAL/kafka-cluster.sh"
}

dispatch "$@"
