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

# shellcheck source=lib/piece.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/piece.sh"
piece local
# Start order (down walks it backwards): the Rollouts controller needs the API server.
SERVICES=(kafka kube rollouts prometheus)
# Installed with the platform, started by the chaos drill (npm run drill) for its run only: the
# three-broker Kafka (the prod topology) and Toxiproxy in front of it. `down` stops them too, in
# case a drill was killed.
DRILL_PIECES=(kafka-cluster toxiproxy)
# Workaround: the only provider plugin the local stack uses; pulumi-kafka and pulumi-random cannot be
# built from the registries here (see local/pulumi.sh), which is why Pulumi.local.yaml owns topics by CRs.
export STREAMFORGE_PULUMI_PROVIDERS="${STREAMFORGE_PULUMI_PROVIDERS:-kubernetes}"

cmd_env() {
  for s in "${SERVICES[@]}"; do "${LOCAL}/${s}.sh" env; done
  "${LOCAL}/pulumi.sh" env
  "${LOCAL}/faketime.sh" env 2>/dev/null || true
  "${LOCAL}/podmonitor-config.sh" env 2>/dev/null || true
}

cmd_install() {
  local t0=$SECONDS failed=0
  # The Go builds are the long part on a cold machine; they run side by side (each uses both
  # cores only in its link steps), the broker's jars and Prometheus come from their registries.
  "${LOCAL}/kube.sh" install &
  local kube_build=$!
  "${LOCAL}/pulumi.sh" install &
  local pulumi_build=$!
  "${LOCAL}/rollouts.sh" install &
  local rollouts_build=$!
  "${LOCAL}/toxiproxy.sh" install &
  local toxiproxy_build=$!
  "${LOCAL}/actionlint.sh" install &
  local actionlint_build=$!
  # prometheus-operator's config generation, for the tests' Prometheus scraping through the PodMonitors.
  "${LOCAL}/podmonitor-config.sh" install &
  local podmonitor_build=$!
  # build, not only install: the image's npm ci layers are then warm for the test tier.
  "${LOCAL}/operator-image.sh" build >/dev/null &
  local image_build=$!
  "${LOCAL}/kafka.sh" install || failed=1
  "${LOCAL}/prometheus.sh" install || failed=1
  "${LOCAL}/kafka-cluster.sh" install || failed=1
  "${LOCAL}/faketime.sh" install || failed=1
  # The promql CLI Litmus's promProbes run (chaos/test/probe-shell.itest.ts and the drill): the
  # real one from a git clone named by STREAMFORGE_PROMQL_GIT, else its model (local/promql.sh).
  "${LOCAL}/promql.sh" install || failed=1
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

cmd_up() {
  cmd_install
  local started=() t0=$SECONDS
  # Whatever fails, stop what this call started: nothing is left half-started.
  trap 'log "start failed; stopping what was started"; for s in "${started[@]}"; do "${LOCAL}/${s}.sh" stop || true; done' ERR
  for s in "${SERVICES[@]}"; do
    "${LOCAL}/${s}.sh" start
    started+=("${s}")
  done
  trap - ERR
  log "local platform up in $((SECONDS - t0)) s (installs not counted)"
}

cmd_down() {
  local status=0
  "${LOCAL}/operator-image.sh" stop || status=1
  for s in "${DRILL_PIECES[@]}"; do "${LOCAL}/${s}.sh" stop || status=1; done
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do "${LOCAL}/${SERVICES[i]}.sh" stop || status=1; done
  return "${status}"
}

cmd_status() {
  for s in "${SERVICES[@]}"; do "${LOCAL}/${s}.sh" status || true; done
  "${LOCAL}/operator-image.sh" status || true
}

cmd_deploy() {
  eval "$(cmd_env)"
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

cmd_outputs() {
  eval "$(cmd_env)"
  cd "${ROOT}" && pulumi stack output --stack local --json
}

dispatch "$@"
