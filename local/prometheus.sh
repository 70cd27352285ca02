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

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
PKG="prometheus"
CACHE_DIR="${STREAMFORGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/streamforge}/prometheus"
STATE_DIR="${STREAMFORGE_STATE:-${REPO_ROOT}/.local/state}/prometheus"
PORT="${STREAMFORGE_PROMETHEUS_PORT:-19090}"
PID_FILE="${STATE_DIR}/prometheus.pid"
LOG_FILE="${STATE_DIR}/prometheus.log"

log() { printf '[prometheus] %s\n' "$*" >&2; }
die() { printf '[prometheus] ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/debian-package.sh
source "${SCRIPT_DIR}/lib/debian-package.sh"
# shellcheck source=lib/pids.sh
source "${SCRIPT_DIR}/lib/pids.sh"

binary() { ls "${CACHE_DIR}"/*/root/usr/bin/prometheus 2>/dev/null | sort -V | tail -n 1; }
# promtool ships in the same Debian package (rule checks and rule unit tests: observability/test).
promtool_binary() { ls "${CACHE_DIR}"/*/root/usr/bin/promtool 2>/dev/null | sort -V | tail -n 1; }

install() {
  if [[ -n "$(binary)" ]]; then return 0; fi
  local version
  version="$(unpack_debian_package "${PKG}" "${CACHE_DIR}")"
  log "installed Prometheus ${version} into ${CACHE_DIR}/${version}"
}

running() { [[ -f "${PID_FILE}" ]] && kill -0 "$(cat "${PID_FILE}")" 2>/dev/null; }

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

start() {
  install
  if running; then log "already running (pid $(cat "${PID_FILE}"))"; return 0; fi
  rm -f "${PID_FILE}"
  write_config
  local bin; bin="$(binary)"
  setsid nohup "${bin}" --config.file="${STATE_DIR}/prometheus.yml" --storage.tsdb.path="${STATE_DIR}/data" \
    --web.listen-address="127.0.0.1:${PORT}" --storage.tsdb.retention.time=2h >"${LOG_FILE}" 2>&1 &
  echo $! >"${PID_FILE}"
  for _ in $(seq 1 60); do
    if curl -fsS "http://127.0.0.1:${PORT}/-/ready" >/dev/null 2>&1; then log "ready on 127.0.0.1:${PORT} (pid $(cat "${PID_FILE}"))"; return 0; fi
    running || break
    sleep 0.5
  done
  tail -n 20 "${LOG_FILE}" >&2 || true
  stop
  die "Prometheus did not become ready"
}

# Processes a test started (test/integration/operated-prometheus.ts records "PID STARTTIME" in
# operated/<name>/{prometheus,discover}.pid) and did not stop because it died first.
stop_operated() {
  local f
  for f in "${STATE_DIR}"/operated/*/*.pid; do
    [[ -f "$f" ]] || continue
    stop_recorded "$f" "$(basename "$f" .pid) of $(basename "$(dirname "$f")")" 15 || true
  done
}

stop() {
  stop_operated
  if ! [[ -f "${PID_FILE}" ]]; then return 0; fi
  local pid; pid="$(cat "${PID_FILE}")"
  if kill -0 "${pid}" 2>/dev/null; then
    kill -TERM "${pid}"
    for _ in $(seq 1 30); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.5; done
    kill -0 "${pid}" 2>/dev/null && kill -KILL "${pid}"
  fi
  rm -f "${PID_FILE}"
  log "stopped"
}

status() {
  if running; then
    local pid; pid="$(cat "${PID_FILE}")"
    echo "prometheus: running pid ${pid} rss $(awk '/VmRSS/ {print $2 " kB"}' "/proc/${pid}/status") port ${PORT}"
  else
    echo "prometheus: stopped"
  fi
}

case "${1:-}" in
  install) install ;;
  promtool)
    install
    [[ -n "$(promtool_binary)" ]] || die "Debian's ${PKG} package in ${CACHE_DIR} has no usr/bin/promtool"
    promtool_binary
    ;;
  binary)
    install
    binary
    ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  env)
    echo "export PROMETHEUS_URL=http://127.0.0.1:${PORT}"
    echo "export PROMETHEUS_TARGETS_DIR=${STATE_DIR}/targets"
    ;;
  *) echo "usage: $0 install|start|stop|status|env|promtool|binary" >&2; exit 2 ;;
esac
