#!/usr/bin/env bash
# The local platform on one machine, all on 127.0.0.1: a real Kafka broker, a real Kubernetes
# control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok) with the
# upstream CRDs, the Argo Rollouts controller against it, Prometheus, and the Pulumi CLI with its
# plugins and a local file backend. The operator's image is built from its Dockerfile with buildah
# and run with podman (local/operator-image.sh). actionlint (local/actionlint.sh) is built with
# them for the test tier that lints .github/workflows; it starts nothing. So is local/podmonitor-config.sh:
# prometheus-operator's config generation and Prometheus's Kubernetes discovery, with which the
# canary tests start Prometheus instances of their own that scrape through the PodMonitors.
# Each piece is a script beside this one that records its PIDs; `down` stops exactly those.
#
# Usage: local/platform.sh install | up | down | status | env | deploy | outputs
#   install  build or fetch what is missing, cached by version in ~/.cache/streamforge
#   up       install, then start everything
#   down     stop everything this platform started (also after a crash)
#   deploy   pulumi up --stack local into the running platform, then print the outputs
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/.." && pwd)"
STATE="${STREAMFORGE_STATE:-${ROOT}/.local/state}"
# Start order (down walks it backwards): the Rollouts controller needs the API server.
SERVICES=(kafka kube rollouts prometheus)
# Installed with the platform, started by the chaos drill (npm run drill) for its run only: the
# three-broker Kafka (the prod topology) and Toxiproxy in front of it. `down` stops them too, in
# case a drill was killed.
DRILL_PIECES=(kafka-cluster toxiproxy)
# The only provider plugin the local stack uses; pulumi-kafka and pulumi-random cannot be built
# from the registries here (see local/pulumi.sh), which is why Pulumi.local.yaml owns topics by CRs.
export STREAMFORGE_PULUMI_PROVIDERS="${STREAMFORGE_PULUMI_PROVIDERS:-kubernetes}"

log() { printf '[local] %s\n' "$*" >&2; }

platform_env() {
  for s in "${SERVICES[@]}"; do "${HERE}/${s}.sh" env; done
  "${HERE}/pulumi.sh" env
  "${HERE}/faketime.sh" env 2>/dev/null || true
  "${HERE}/podmonitor-config.sh" env 2>/dev/null || true
}

install() {
  local t0=$SECONDS failed=0
  # The Go builds are the long part on a cold machine; they run side by side (each uses both
  # cores only in its link steps), the broker's jars and Prometheus come from their registries.
  "${HERE}/kube.sh" install &
  local kube_build=$!
  "${HERE}/pulumi.sh" install &
  local pulumi_build=$!
  "${HERE}/rollouts.sh" install &
  local rollouts_build=$!
  "${HERE}/toxiproxy.sh" install &
  local toxiproxy_build=$!
  "${HERE}/actionlint.sh" install &
  local actionlint_build=$!
  # prometheus-operator's config generation, for the tests' Prometheus scraping through the PodMonitors.
  "${HERE}/podmonitor-config.sh" install &
  local podmonitor_build=$!
  # build, not only install: the image's npm ci layers are then warm for the test tier.
  "${HERE}/operator-image.sh" build >/dev/null &
  local image_build=$!
  "${HERE}/kafka.sh" install || failed=1
  "${HERE}/prometheus.sh" install || failed=1
  "${HERE}/kafka-cluster.sh" install || failed=1
  "${HERE}/faketime.sh" install || failed=1
  # The promql CLI Litmus's promProbes run (chaos/test/probe-shell.itest.ts and the drill): the
  # real one from a git clone named by STREAMFORGE_PROMQL_GIT, else its model (local/promql.sh).
  "${HERE}/promql.sh" install || failed=1
  wait "${kube_build}" || { log "building the Kubernetes control plane failed (see above)"; failed=1; }
  wait "${pulumi_build}" || { log "building the Pulumi CLI and its kubernetes plugin failed (see above)"; failed=1; }
  wait "${rollouts_build}" || { log "building the Argo Rollouts controller failed (see above)"; failed=1; }
  wait "${toxiproxy_build}" || { log "building Toxiproxy failed (see above)"; failed=1; }
  wait "${actionlint_build}" || { log "building actionlint failed (see above)"; failed=1; }
  wait "${podmonitor_build}" || { log "building podmonitor-config failed (see above)"; failed=1; }
  wait "${image_build}" || { log "building the operator image (buildah) failed (see above)"; failed=1; }
  ((failed == 0)) || return 1
  log "everything installed in $((SECONDS - t0)) s"
}

up() {
  install
  local started=() t0=$SECONDS
  # Whatever fails, stop what this call started: nothing is left half-started.
  trap 'log "start failed; stopping what was started"; for s in "${started[@]}"; do "${HERE}/${s}.sh" stop || true; done' ERR
  for s in "${SERVICES[@]}"; do
    "${HERE}/${s}.sh" start
    started+=("${s}")
  done
  trap - ERR
  log "local platform up in $((SECONDS - t0)) s (installs not counted)"
}

down() {
  local status=0
  "${HERE}/operator-image.sh" stop || status=1
  for s in "${DRILL_PIECES[@]}"; do "${HERE}/${s}.sh" stop || status=1; done
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do "${HERE}/${SERVICES[i]}.sh" stop || status=1; done
  return "${status}"
}

status() {
  for s in "${SERVICES[@]}"; do "${HERE}/${s}.sh" status || true; done
  "${HERE}/operator-image.sh" status || true
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
  install) install ;;
  up) up ;;
  down) down ;;
  status) status ;;
  env) platform_env ;;
  deploy) deploy ;;
  outputs)
    eval "$(platform_env)"
    cd "${ROOT}" && pulumi stack output --stack local --json
    ;;
  *) echo "usage: $0 install|up|down|status|env|deploy|outputs" >&2; exit 2 ;;
esac
