#!/usr/bin/env bash
# The local platform on one machine, all on 127.0.0.1: a real Kafka broker, a real Kubernetes
# control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok) with the
# upstream CRDs, Prometheus, and the Pulumi CLI with its plugins and a local file backend.
# Each piece is a script beside this one that records its PIDs; `down` stops exactly those.
#
# Usage: local/platform.sh up | down | status | env | deploy | outputs
#   up       install what is missing (cached by version) and start everything
#   down     stop everything this platform started (also after a crash)
#   deploy   pulumi up --stack local into the running platform, then print the outputs
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/.." && pwd)"
STATE="${STREAMFORGE_STATE:-${ROOT}/.local/state}"
SERVICES=(kafka kube prometheus)
# The only provider plugin the local stack uses; pulumi-kafka and pulumi-random cannot be built
# from the registries here (see local/pulumi.sh), which is why Pulumi.local.yaml owns topics by CRs.
export STREAMFORGE_PULUMI_PROVIDERS="${STREAMFORGE_PULUMI_PROVIDERS:-kubernetes}"

log() { printf '[local] %s\n' "$*" >&2; }

platform_env() {
  for s in "${SERVICES[@]}"; do "${HERE}/${s}.sh" env; done
  "${HERE}/pulumi.sh" env
}

up() {
  local started=()
  # Whatever fails, stop what this call started: nothing is left half-started.
  trap 'log "start failed; stopping what was started"; for s in "${started[@]}"; do "${HERE}/${s}.sh" stop || true; done' ERR
  local t0=$SECONDS
  # The Go builds are the long part on a cold machine: run them while the broker starts.
  "${HERE}/kube.sh" install &
  local kube_build=$!
  "${HERE}/pulumi.sh" install &
  local pulumi_build=$!
  "${HERE}/kafka.sh" start && started+=(kafka)
  "${HERE}/prometheus.sh" start && started+=(prometheus)
  wait "${kube_build}" || { log "building the Kubernetes control plane failed (see above)"; false; }
  "${HERE}/kube.sh" start && started+=(kube)
  wait "${pulumi_build}" || { log "building the Pulumi CLI and plugins failed (see above)"; false; }
  trap - ERR
  log "local platform up in $((SECONDS - t0)) s"
}

down() {
  local status=0
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do "${HERE}/${SERVICES[i]}.sh" stop || status=1; done
  return "${status}"
}

status() {
  for s in "${SERVICES[@]}"; do "${HERE}/${s}.sh" status || true; done
}

deploy() {
  eval "$(platform_env)"
  source "${ROOT}/scripts/toolchain.sh"
  cd "${ROOT}"
  mkdir -p "${PULUMI_BACKEND_URL#file://}"
  pulumi login "${PULUMI_BACKEND_URL}" >/dev/null
  pulumi stack select local >/dev/null 2>&1 || pulumi stack init local >/dev/null
  local t0=$SECONDS
  pulumi up --stack local --yes --skip-preview --suppress-progress
  log "pulumi up --stack local took $((SECONDS - t0)) s"
  pulumi stack output --stack local --json
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) platform_env ;;
  deploy) deploy ;;
  outputs)
    eval "$(platform_env)"
    cd "${ROOT}" && pulumi stack output --stack local --json
    ;;
  *) echo "usage: $0 up|down|status|env|deploy|outputs" >&2; exit 2 ;;
esac
