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
  local s
  for s in "${SERVICES[@]}"; do "${LOCAL}/${s}.sh" env; done
  "${LOCAL}/pulumi.sh" env
  "${LOCAL}/faketime.sh" env 2>/dev/null || true
  "${LOCAL}/podmonitor-config.sh" env 2>/dev/null || true
}

# The Go builds are the long part on a cold machine; they run side by side (each uses both cores
# only in its link steps) while the broker's jars, Prometheus and the small tools install in turn.
# `operator-image.sh build`, not only install: the image's npm ci layers are then warm for the tests;
# podmonitor-config is prometheus-operator's config generation, for the tests' Prometheus; promql
# is the CLI Litmus's promProbes run (the real one from STREAMFORGE_PROMQL_GIT, else its model).
BUILDS=(kube pulumi rollouts toxiproxy actionlint podmonitor-config operator-image)
INSTALLS=(kafka prometheus kafka-cluster faketime promql)

cmd_install() {
  local t0=$SECONDS failed=0 s builds=()
  for s in "${BUILDS[@]}"; do
    if [[ "$s" == operator-image ]]; then
      "${LOCAL}/${s}.sh" build >/dev/null &
    else
      "${LOCAL}/${s}.sh" install &
    fi
    builds+=($!)
  done
  for s in "${INSTALLS[@]}"; do "${LOCAL}/${s}.sh" install || failed=1; done
  for s in "${!BUILDS[@]}"; do
    wait "${builds[s]}" || { log "building ${BUILDS[s]} failed (see above)"; failed=1; }
  done
  ((failed == 0)) || return 1
  log "everything installed in $((SECONDS - t0)) s"
}

cmd_up() {
  cmd_install
  local started=() t0=$SECONDS s i
  for s in "${SERVICES[@]}"; do
    if ! "${LOCAL}/${s}.sh" start; then
      # Nothing is left half-started: stop what this call started.
      log "start failed; stopping what was started"
      for ((i = ${#started[@]} - 1; i >= 0; i--)); do "${LOCAL}/${started[i]}.sh" stop || true; done
      return 1
    fi
    started+=("${s}")
  done
  log "local platform up in $((SECONDS - t0)) s (installs not counted)"
}

cmd_down() {
  local status=0 s i
  "${LOCAL}/operator-image.sh" stop || status=1
  for s in "${DRILL_PIECES[@]}"; do "${LOCAL}/${s}.sh" stop || status=1; done
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do "${LOCAL}/${SERVICES[i]}.sh" stop || status=1; done
  return "${status}"
}

cmd_status() {
  local s
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
  # The policy pack tells prod from the rest by this tag (policy/README.md), not by the stack's name.
  bash "${ROOT}/scripts/tag-stack-environment.sh" local
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
