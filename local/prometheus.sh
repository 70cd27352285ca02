#!/usr/bin/env bash
# Local Prometheus (Debian's package, extracted rather than installed so that no system
# service starts and nothing listens beyond 127.0.0.1). It scrapes the targets listed in
# <state>/prometheus/targets/*.json (file-based discovery): the operator processes and
# whatever else the local platform runs write themselves there.
#
# Usage: local/prometheus.sh install|start|stop|status|env|promtool|binary (the last two print
# promtool's or prometheus's path; the tests start Prometheus instances of their own with it:
# test/integration/operated-prometheus.ts)
set -euo pipefail

# shellcheck source=lib/piece.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/piece.sh"
# shellcheck source=lib/debian-package.sh
source "${LOCAL}/lib/debian-package.sh"
piece prometheus
PKG="prometheus"
CACHE_DIR="${CACHE}/prometheus"
PORT="${STREAMFORGE_PROMETHEUS_PORT:-19090}"
PID_FILE="${STATE_DIR}/prometheus.pid"
LOG_FILE="${STATE_DIR}/prometheus.log"
STOP_TIMEOUT=15

# shellcheck disable=SC2012  # paths under our cache: version-sorted ls is enough
binary() { ls "${CACHE_DIR}"/*/root/usr/bin/prometheus 2>/dev/null | sort -V | tail -n 1; }
# promtool ships in the same Debian package (rule checks and rule unit tests: observability/test).
# shellcheck disable=SC2012
promtool_binary() { ls "${CACHE_DIR}"/*/root/usr/bin/promtool 2>/dev/null | sort -V | tail -n 1; }

cmd_install() { install_debian_package "$PKG" "$CACHE_DIR" binary; }

write_config() {
  mkdir -p "${STATE_DIR}/targets" "${STATE_DIR}/data"
  cat >"${STATE_DIR}/prometheus.yml" <<YAML
global:
  scrape_interval: 2s
  evaluation_interval: 2s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:${PORT}"]
  - job_name: streamforge
    file_sd_configs:
      - files: ["${STATE_DIR}/targets/*.json"]
        refresh_interval: 2s
    relabel_configs:
      # A broker's JMX exporter reads all of its MBeans per scrape (the stack's config has no
      # includeObjectNames), ~0.7 s of the broker's CPU: every 5 s, not every 2 s.
      - source_labels: [job]
        regex: kafka
        target_label: __scrape_interval__
        replacement: 5s
      - source_labels: [job]
        regex: kafka
        target_label: __scrape_timeout__
        replacement: 4s
YAML
}

cmd_start() {
  cmd_install
  already_running "$PID_FILE" && return 0
  ports_free "$PORT"
  write_config
  # A fresh log per start, as before: it only ever shows this run.
  : >"$LOG_FILE"
  spawn "$PID_FILE" "$LOG_FILE" "$(binary)" --config.file="${STATE_DIR}/prometheus.yml" --storage.tsdb.path="${STATE_DIR}/data" \
    --web.listen-address="127.0.0.1:${PORT}" --storage.tsdb.retention.time=2h || start_failed "Prometheus exited at once"
  wait_until Prometheus 30 curl -fsS "http://127.0.0.1:${PORT}/-/ready" || start_failed
  log "ready on 127.0.0.1:${PORT} (pid $(recorded_pid "$PID_FILE"))"
}

# Processes a test started (test/integration/operated-prometheus.ts records "PID STARTTIME" in
# operated/<name>/{prometheus,discover}.pid) and did not stop because it died first.
stop_operated() {
  local f
  for f in "${STATE_DIR}"/operated/*/*.pid; do
    [[ -f "$f" ]] || continue
    stop_recorded 15 "$f"
  done
}

cmd_stop() {
  stop_operated
  stop_recorded "$STOP_TIMEOUT" "$PID_FILE"
}

cmd_status() { status_line prometheus "$PID_FILE" "port ${PORT}"; }

cmd_env() {
  echo "export PROMETHEUS_URL=http://127.0.0.1:${PORT}"
  echo "export PROMETHEUS_TARGETS_DIR=${STATE_DIR}/targets"
}

cmd_promtool() {
  cmd_install
  [[ -n "$(promtool_binary)" ]] || die "Debian's ${PKG} package in ${CACHE_DIR} has no usr/bin/promtool"
  promtool_binary
}

cmd_binary() {
  cmd_install
  binary
}

dispatch "$@"
