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

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
# proc_starttime, recorded_pid
# shellcheck source=lib/pids.sh
source "$HERE/lib/pids.sh"
# port_open, rss_of, jar_has, new_cluster_id, kafka_log4j_config, kafka_java_cmd
# shellcheck source=lib/kafka-common.sh
source "$HERE/lib/kafka-common.sh"

JMX_CACHE_DIR="${STREAMFORGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/streamforge}/jmx-exporter/$JMX_EXPORTER_VERSION"
JMX_JAR="$JMX_CACHE_DIR/jmx_prometheus_javaagent-$JMX_EXPORTER_VERSION.jar"
JMX_MARKER="$JMX_CACHE_DIR/.installed"

STATE_DIR="${STREAMFORGE_STATE:-$ROOT/.local/state}/kafka-cluster"
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

log() { echo "kafka-cluster: $*" >&2; }
die() { echo "kafka-cluster: error: $*" >&2; exit 1; }

require() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 ||
      die "prerequisite '$cmd' not found on PATH (needs: java 17+ to run the nodes, mvn to fetch the JMX exporter)"
  done
}

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
# agent into its own cache: fetched to a scratch dir, moved into place only when complete.
# ---------------------------------------------------------------------------------------------

install_jmx_exporter() {
  [ -f "$JMX_MARKER" ] && return 0
  require java mvn
  local parent tmp rc=0
  parent="$(dirname "$JMX_CACHE_DIR")"
  mkdir -p "$parent"
  # Parallel installs take turns; whoever waited finds the marker and is done.
  exec 8>"$parent/.lock"
  if command -v flock >/dev/null 2>&1; then flock 8; fi
  if [ -f "$JMX_MARKER" ]; then
    exec 8>&-
    return 0
  fi
  tmp="$(mktemp -d "$parent/.$JMX_EXPORTER_VERSION.partial.XXXXXX")"
  chmod 755 "$tmp"  # mktemp makes it 0700
  # shellcheck disable=SC2064  # expand $tmp now: it is local
  trap "rm -rf '$tmp'" EXIT

  log "fetching the JMX exporter agent $JMX_EXPORTER_VERSION with mvn"
  mvn -B "$DEPENDENCY_PLUGIN:copy" -Dartifact="$JMX_EXPORTER_ARTIFACT" \
    -DoutputDirectory="$tmp" >"$tmp/mvn.log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "kafka-cluster: error: install failed at step 'mvn dependency:copy $JMX_EXPORTER_ARTIFACT' (mvn exit code $rc). Its errors:" >&2
    grep -E '\[ERROR\]' "$tmp/mvn.log" | head -n 20 >&2 || tail -n 30 "$tmp/mvn.log" >&2
    cp "$tmp/mvn.log" "$parent/$JMX_EXPORTER_VERSION-failed-mvn.log"
    die "nothing was cached (full log: $parent/$JMX_EXPORTER_VERSION-failed-mvn.log); the registry may be unreachable or the version not published there"
  fi
  # -javaagent needs the agent's entry point: fail here, not at the first node start.
  [ -f "$tmp/$(basename "$JMX_JAR")" ] ||
    die "install failed: mvn did not write $(basename "$JMX_JAR")"
  jar_has "$tmp/$(basename "$JMX_JAR")" io/prometheus/jmx/JavaAgent.class ||
    die "install failed: io/prometheus/jmx/JavaAgent.class is not in $(basename "$JMX_JAR") (renamed in this version?)"

  rm -f "$tmp/mvn.log"
  rm -rf "$JMX_CACHE_DIR"
  mv "$tmp" "$JMX_CACHE_DIR"
  trap - EXIT
  rm -f "$parent/$JMX_EXPORTER_VERSION-failed-mvn.log"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$JMX_MARKER"
  exec 8>&-
  log "installed the JMX exporter agent $JMX_EXPORTER_VERSION in $JMX_CACHE_DIR"
}

cmd_install() {
  "$HERE/kafka.sh" install || die "installing Kafka's jars failed (local/kafka.sh install, output above)"
  install_jmx_exporter
}

# LIBS: Kafka's jars, where local/kafka.sh installed them.
set_libs() {
  local line
  line="$("$HERE/kafka.sh" env | grep '^export KAFKA_LIBS=')" ||
    die "could not read KAFKA_LIBS from 'local/kafka.sh env' (output above)"
  eval "$line"  # printf %q-quoted by kafka.sh
  LIBS="$KAFKA_LIBS"
  [ -d "$LIBS" ] || die "Kafka's jars are not in $LIBS: run local/kafka.sh install"
}

# ---------------------------------------------------------------------------------------------
# process bookkeeping: a node's pid file holds "PID STARTTIME" (local/lib/pids.sh), so only the
# process that wrote it is ever signalled.
# ---------------------------------------------------------------------------------------------

node_pid() { recorded_pid "$(pid_file "$1")"; }

# gone PID STARTTIME: that process has exited (a zombie counts as exited).
gone() {
  local now
  ! now="$(proc_starttime "$1")" || [ "$now" != "$2" ]
}

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

# launch_node ID: start the node's JVM in the background and record "PID STARTTIME".
launch_node() {
  local i="$1" pidf waited=0
  pidf="$(pid_file "$i")"
  rm -f "$pidf"
  # A fresh server.log (and kafka.out) per start, so readiness and a failure report only see
  # this run's lines.
  local f
  for f in "$(server_log "$i")" "$(stdout_log "$i")"; do
    if [ -f "$f" ]; then mv -f "$f" "$f.previous"; fi
  done
  # shellcheck disable=SC2086  # STREAMFORGE_KAFKA_CLUSTER_JAVA_OPTS is a list of options
  kafka_java_cmd "$LIBS" "$(node_dir "$i")/log4j2.properties" "$HEAP" \
    "-javaagent:$JMX_JAR=$HOST:$(metrics_port "$i"):$METRICS_CONFIG" ${STREAMFORGE_KAFKA_CLUSTER_JAVA_OPTS:-}
  # setsid + nohup: the node outlives this shell and its terminal. The child records its own PID
  # and start time (which exec keeps), then execs java: the record names exactly the JVM. It
  # must not inherit the lock fds (8, 9), or the locks would live as long as the node.
  # shellcheck disable=SC2016  # $$, $0 and $@ are for the child bash
  nohup setsid bash -c "$(declare -f proc_starttime)"'
    start="$(proc_starttime $$)" && echo "$$ $start" >"$0.tmp" && mv -f "$0.tmp" "$0" || exit 1
    exec "$@"' "$pidf" "${JAVA_CMD[@]}" kafka.Kafka "$(props_file "$i")" \
    >>"$(stdout_log "$i")" 2>&1 </dev/null 8>&- 9>&- &
  while [ ! -s "$pidf" ]; do
    [ "$waited" -lt 100 ] || return 1
    sleep 0.1
    waited=$((waited + 1))
  done
}

node_ready() {
  local i="$1"
  grep -q 'Kafka Server started' "$(server_log "$i")" 2>/dev/null &&
    port_open "$(plaintext_port "$i")" && port_open "$(proxied_port "$i")" &&
    port_open "$(metrics_port "$i")"
}

# stop_nodes ID...: SIGTERM the recorded PIDs, SIGKILL whatever is left after STOP_TIMEOUT.
stop_nodes() {
  local i pid start pids=() starts=() ids=()
  for i in "$@"; do
    pid="$(node_pid "$i")" || continue
    read -r _ start <"$(pid_file "$i")"
    ids+=("$i") pids+=("$pid") starts+=("$start")
  done
  [ "${#ids[@]}" -gt 0 ] || return 0
  local n t0=$SECONDS left
  log "stopping node(s) ${ids[*]} (PIDs ${pids[*]}; SIGTERM, up to $STOP_TIMEOUT s)"
  for n in "${!ids[@]}"; do kill -TERM "${pids[$n]}" 2>/dev/null || true; done
  while :; do
    left=()
    for n in "${!ids[@]}"; do gone "${pids[$n]}" "${starts[$n]}" || left+=("$n"); done
    if [ "${#left[@]}" -eq 0 ] || [ $((SECONDS - t0)) -ge "$STOP_TIMEOUT" ]; then break; fi
    sleep 0.2
  done
  for n in "${left[@]}"; do
    log "node ${ids[$n]} (PID ${pids[$n]}) still alive after $STOP_TIMEOUT s: SIGKILL"
    kill -KILL "${pids[$n]}" 2>/dev/null || true
    while ! gone "${pids[$n]}" "${starts[$n]}"; do sleep 0.1; done
  done
  for i in "${ids[@]}"; do rm -f "$(pid_file "$i")"; done
  log "stopped node(s) ${ids[*]} in $((SECONDS - t0)) s"
}

# start_nodes ID...: start those of the nodes that are not running and wait until every one of
# them serves. A node's startup completes only once a quorum of controllers runs, so a fresh
# cluster starts all three before waiting. On failure: the logs, then stop what this started.
start_nodes() {
  require java
  cmd_install
  set_libs
  mkdir -p "$STATE_DIR"
  local i pid port todo=()
  for i in "$@"; do
    if pid="$(node_pid "$i")"; then
      log "node $i: already running (PID $pid)"
    else
      todo+=("$i")
    fi
  done
  [ "${#todo[@]}" -gt 0 ] || return 0
  # Fail clearly if another process holds one of the ports. A node just SIGKILLed (the drill's
  # kill, then a restart at once) may still answer on its ports for a moment: up to 10 s are
  # given for them to close (seen once in CI: 19190 still open right after the kill).
  local deadline=$((SECONDS + 10))
  for i in "${todo[@]}"; do
    for port in "$(plaintext_port "$i")" "$(controller_port "$i")" "$(metrics_port "$i")" "$(proxied_port "$i")"; do
      while port_open "$port" && ((SECONDS < deadline)); do sleep 0.1; done
      ! port_open "$port" || die "node $i: port $HOST:$port is already in use by another process"
    done
  done

  ensure_cluster_id
  write_metrics_config
  for i in "${todo[@]}"; do
    mkdir -p "$(node_dir "$i")/data" "$(node_dir "$i")/logs"
    write_node_config "$i"
    format_node_once "$i"
  done

  local t0=$SECONDS started=() waiting=() n why=""
  for i in "${todo[@]}"; do
    log "node $i: starting Kafka (log: $(server_log "$i"))"
    if ! launch_node "$i"; then
      why="node $i: its JVM did not come up (no pid file after 10 s)"
      break
    fi
    started+=("$i")
  done
  # Ready = "Kafka Server started" in this run's log (the broker is unfenced and serves) and its
  # client and metrics ports accept TCP.
  if [ -z "$why" ]; then
    waiting=("${started[@]}")
    while [ "${#waiting[@]}" -gt 0 ]; do
      local still=()
      for i in "${waiting[@]}"; do
        if ! pid="$(node_pid "$i")"; then
          why="node $i exited during startup"
          break 2
        elif node_ready "$i"; then
          log "node $i: ready after $((SECONDS - t0)) s (PID $pid, PLAINTEXT $(plaintext_address "$i"), PROXIED $HOST:$(proxied_port "$i") as $(proxy_address "$i"), metrics $(metrics_address "$i"), RSS $(rss_of "$pid"))"
        else
          still+=("$i")
        fi
      done
      waiting=("${still[@]+"${still[@]}"}")
      [ "${#waiting[@]}" -gt 0 ] || break
      if [ $((SECONDS - t0)) -ge "$START_TIMEOUT" ]; then
        why="node(s) ${waiting[*]} not ready after $START_TIMEOUT s (a node finishes starting only while a quorum, two of the three nodes, runs)"
        break
      fi
      sleep 0.5
    done
  fi
  if [ -z "$why" ]; then
    log "node(s) ${started[*]} ready in $((SECONDS - t0)) s"
    return 0
  fi

  log "$why"
  for n in "${todo[@]}"; do
    node_ready "$n" && continue
    echo "---- node $n: last lines of $(server_log "$n") ----" >&2
    tail -n 30 "$(server_log "$n")" >&2 2>/dev/null || true
    echo "---- node $n: last lines of $(stdout_log "$n") ----" >&2
    tail -n 10 "$(stdout_log "$n")" >&2 2>/dev/null || true
  done
  stop_nodes "${started[@]+"${started[@]}"}"
  die "start failed"
}

# ---------------------------------------------------------------------------------------------
# subcommands
# ---------------------------------------------------------------------------------------------

cmd_kill_node() {
  local i="$1" pid start t0
  pid="$(node_pid "$i")" || die "node $i is not running (nothing to kill)"
  read -r _ start <"$(pid_file "$i")"
  t0="$(date +%s%N)"
  kill -KILL "$pid"
  while ! gone "$pid" "$start"; do sleep 0.05; done
  rm -f "$(pid_file "$i")"
  log "node $i: SIGKILLed PID $pid, gone after $((($(date +%s%N) - t0) / 1000000)) ms"
}

# Exit status 0 when all nodes run, 1 when only some do, 3 when none (LSB: not running).
cmd_status() {
  local i pid up=0
  for i in "${NODES[@]}"; do
    if pid="$(node_pid "$i")"; then
      up=$((up + 1))
      echo "node $i: running  pid $pid  rss $(rss_of "$pid")  plaintext $(plaintext_address "$i")  proxied $HOST:$(proxied_port "$i") (advertised $(proxy_address "$i"))  controller $HOST:$(controller_port "$i")  metrics http://$(metrics_address "$i")/metrics"
    else
      echo "node $i: stopped"
    fi
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
  printf 'export KAFKA_CLUSTER_SCRIPT=%q\n' "$HERE/$(basename "${BASH_SOURCE[0]}")"
}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

# Starts, stops and kills from parallel runners take turns. The nodes do not inherit the lock's
# fd (see 9>&- in launch_node), or the lock would live as long as they do.
lock_state() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
}

case "${1:-}" in
  install) cmd_install ;;
  start) lock_state; start_nodes "${NODES[@]}" ;;
  stop) lock_state; stop_nodes "${NODES[@]}"; log "all nodes stopped" ;;
  status) cmd_status ;;
  env) cmd_env ;;
  kill-node) check_node_id "${2:-}"; lock_state; cmd_kill_node "$2" ;;
  start-node) check_node_id "${2:-}"; lock_state; start_nodes "$2" ;;
  start-node-empty)
    check_node_id "${2:-}"; lock_state
    [ -z "$(node_pid "$2" 2>/dev/null)" ] || die "node $2 is running: kill-node it first"
    rm -rf "$(node_dir "$2")/data"
    start_nodes "$2" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
