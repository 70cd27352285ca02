#!/usr/bin/env bash
# The real Argo Rollouts controller, run as a local process against the local Kubernetes API
# server (local/kube.sh, which installs the Argo Rollouts CRDs from ../shared/crds). It is built
# from its Go module (github.com/argoproj/argo-rollouts) and cached by version; no image, no
# in-cluster Deployment. AnalysisRuns reach Prometheus through the address written in each
# AnalysisTemplate, so nothing here points it at the local Prometheus. The `kubectl argo rollouts`
# plugin the runbook's procedures use is built from the same module and version beside it.
#
# Usage: local/rollouts.sh install|start|stop|status|env
#   install  build the controller and the plugin with Go (each cached by version; a no-op when done)
#   start    start it (needs the API server), wait until its healthz answers and its rollout
#            and analysis workers have started; says so and returns 0 when already running
#   stop     SIGTERM (then SIGKILL) exactly the recorded PID
#   status   running/stopped, PID and RSS; exit 3 when stopped
#   eval "$(local/rollouts.sh env)"   # ARGO_ROLLOUTS_METRICS_URL, ..._HEALTHZ_URL, ..._NAMESPACE, ..._LOG,
#                                     # ARGO_ROLLOUTS_PLUGIN (the plugin binary, run as `$ARGO_ROLLOUTS_PLUGIN get rollout ...`),
#                                     # ARGO_ROLLOUTS_CONTROLLER (the controller binary, for tests that start one of their own)
#
# Listen address: upstream hard-codes its healthz and metrics servers to all interfaces; the build
# compiles a copy of the module that listens on 127.0.0.1 (rollouts_listen_loopback in
# lib/workarounds.sh). pprof stays off (no --enable-pprof-address).
#
# Environment (all optional):
#   STREAMFORGE_CACHE   cache root (default ${XDG_CACHE_HOME:-~/.cache}/streamforge, shared by every clone); binaries in rollouts/<version>/bin, build logs in rollouts/<version>/logs
#   STREAMFORGE_STATE   state root (default <repo>/.local/state); pid file and controller log in rollouts/
#   STREAMFORGE_ROLLOUTS_METRICS_PORT   Prometheus metrics, /metrics (default 18090)
#   STREAMFORGE_ROLLOUTS_HEALTHZ_PORT   /healthz (default 18080)
#   STREAMFORGE_ROLLOUTS_NAMESPACE      the controller's own namespace (POD_NAMESPACE: where it reads
#                                       argo-rollouts-config and its notification ConfigMap/Secret;
#                                       default argo-rollouts, created at start)
#   STREAMFORGE_ROLLOUTS_START_TIMEOUT  seconds to wait for readiness (default 60)
#   STREAMFORGE_ROLLOUTS_STOP_TIMEOUT   seconds between SIGTERM and SIGKILL (default 15)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# ---- pinned versions -------------------------------------------------------
ROLLOUTS_VERSION="v1.10.2"
MODULE="github.com/argoproj/argo-rollouts"
MAIN_PKG="${MODULE}/cmd/rollouts-controller"
# The `kubectl argo rollouts` plugin: same module, same version (the runbook's procedures use it).
PLUGIN_PKG="${MODULE}/cmd/kubectl-argo-rollouts"

# ---- locations -------------------------------------------------------------
# shellcheck source=lib/piece.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/piece.sh"
# shellcheck source=lib/go-build.sh
source "${LOCAL}/lib/go-build.sh"
piece rollouts
CACHE_DIR="${CACHE}/rollouts/${ROLLOUTS_VERSION}"
BIN_DIR="${CACHE_DIR}/bin"
BIN="${BIN_DIR}/rollouts-controller"
LOG_DIR="${CACHE_DIR}/logs"          # build logs
BUILD_DIR="${CACHE_DIR}/build.partial"
PLUGIN_BIN="${BIN_DIR}/kubectl-argo-rollouts"
PLUGIN_BUILD_DIR="${CACHE_DIR}/plugin-build.partial"
# GO_BUILD_WHAT, GO_BUILD_DIR, GO_BUILD_LOG (for local/lib/go-build.sh): set by each install_*
PID_FILE="${STATE_DIR}/rollouts-controller.pid"
LOG_FILE="${STATE_DIR}/rollouts-controller.log"
TARGET_NAME="argo-rollouts-controller.json"   # file-based discovery entry for the local Prometheus

# ---- ports (bound to 127.0.0.1 by the patched build) -----------------------
METRICS_PORT="${STREAMFORGE_ROLLOUTS_METRICS_PORT:-18090}"
HEALTHZ_PORT="${STREAMFORGE_ROLLOUTS_HEALTHZ_PORT:-18080}"
NAMESPACE="${STREAMFORGE_ROLLOUTS_NAMESPACE:-argo-rollouts}"
START_TIMEOUT="${STREAMFORGE_ROLLOUTS_START_TIMEOUT:-60}"
STOP_TIMEOUT="${STREAMFORGE_ROLLOUTS_STOP_TIMEOUT:-15}"

# ============================================================================
# install (gomod, go_build_*, go_module_download: local/lib/go-build.sh)
# ============================================================================

# Workaround: the upstream go.mod carries replace directives (k8s.io/* pinned to v0.34.5, ...); the
# wrapper module repeats them (upstream_replaces, lib/go-build.sh).
# write_wrapper_module UPSTREAM_GOMOD [SRC]: go.mod and go.sum (from GO_MODULE_DIR) in GO_BUILD_DIR; with SRC, the
# module itself is replaced by that writable copy (the controller's patched one).
write_wrapper_module() {
  local upstream_mod="$1" src="${2:-}" gover replaces n
  gover="$(go mod edit -json "$upstream_mod" | jq -r .Go)"
  replaces="$(upstream_replaces "$upstream_mod" 2>>"$GO_BUILD_LOG")" ||
    go_build_fail "the upstream go.mod has a replace directive a wrapper module cannot repeat"
  n="$(grep -c '^replace ' <<<"$replaces" || true)"
  {
    printf 'module streamforge.local/rollouts-build\n\ngo %s\n\nrequire %s %s\n\n' "$gover" "$MODULE" "$ROLLOUTS_VERSION"
    if [[ -n "$src" ]]; then
      printf '// the module itself: a copy whose healthz/metrics servers listen on 127.0.0.1\n'
      printf 'replace %s => %s\n\n' "$MODULE" "$src"
    fi
    printf '// repeated from %s@%s/go.mod\n' "$MODULE" "$ROLLOUTS_VERSION"
    printf '%s\n' "$replaces"
  } >"${GO_BUILD_DIR}/go.mod"
  # The upstream go.sum covers its whole build list: saves re-fetching checksums.
  cp "${GO_MODULE_DIR}/go.sum" "${GO_BUILD_DIR}/go.sum" || go_build_fail "no go.sum in ${GO_MODULE_DIR}"
  log "wrapper module: go ${gover}, ${n} replace directives repeated from the upstream go.mod"
}

# build_main PKG OUT: go get and go build one main package of the module in the wrapper module.
build_main() {
  (cd "$GO_BUILD_DIR" && go get "$1@${ROLLOUTS_VERSION}") >>"$GO_BUILD_LOG" 2>&1 ||
    go_build_fail "'go get $1@${ROLLOUTS_VERSION}' failed"
  log "building ${GO_BUILD_WHAT} (this takes minutes on a cold cache; log ${GO_BUILD_LOG})"
  local ldflags="-s -w -X ${MODULE}/utils/version.version=${ROLLOUTS_VERSION#v}"
  # nice: the machine is shared with other builds (local/platform.sh runs them side by side).
  (cd "$GO_BUILD_DIR" && GOFLAGS="-trimpath -buildvcs=false -mod=mod" CGO_ENABLED=0 \
    nice -n 10 go build -ldflags "$ldflags" -o "$2" "$1") \
    >>"$GO_BUILD_LOG" 2>&1 || go_build_fail "'go build $1' failed"
}

# begin_build NAME SCRATCH_DIR LOG: go-build.sh's variables for one binary, a fresh scratch dir
# and build log, and the module downloaded (GO_MODULE_DIR, GO_MODULE_GOMOD).
begin_build() {
  GO_BUILD_WHAT="$1 ${ROLLOUTS_VERSION}"
  GO_BUILD_DIR="$2"
  GO_BUILD_LOG="$3"
  go_build_start
  log "resolving ${MODULE}@${ROLLOUTS_VERSION} for $1 (toolchain ${ROLLOUTS_GOTOOLCHAIN})"
  go_module_download "$MODULE" "$ROLLOUTS_VERSION"
}

# land_build BUILT DEST SINCE: only a finished, working build lands in bin/ (SINCE: SECONDS at its start).
land_build() {
  go_build_publish "$1" "$2"
  echo "built in $((SECONDS - $3))s" >>"$GO_BUILD_LOG"
  log "built ${GO_BUILD_WHAT} in $((SECONDS - $3))s ($(du -h "$2" | cut -f1)): $2"
}

# The module itself is replaced by a writable copy that listens on 127.0.0.1 only (see the header).
install_controller() {
  if [[ -x "$BIN" ]]; then
    log "rollouts-controller ${ROLLOUTS_VERSION} already built (${BIN})"
    return 0
  fi
  local t0=$SECONDS dir
  begin_build rollouts-controller "$BUILD_DIR" "${LOG_DIR}/build.log"
  dir="$GO_MODULE_DIR"

  # Writable copy of the module with the listen address patched; the patch must hit exactly one line.
  { cp -r "$dir" "${BUILD_DIR}/src" && chmod -R u+w "${BUILD_DIR}/src"; } || go_build_fail "could not copy ${dir}"
  rollouts_listen_loopback "${BUILD_DIR}/src" ||
    go_build_fail "controller/controller.go no longer has the one 'listenAddr = \"0.0.0.0:%d\"' line this build patches"

  write_wrapper_module "$GO_MODULE_GOMOD" ./src
  build_main "$MAIN_PKG" "${BUILD_DIR}/rollouts-controller"
  "${BUILD_DIR}/rollouts-controller" --version >>"$GO_BUILD_LOG" 2>&1 ||
    go_build_fail "the built rollouts-controller does not run"

  land_build "${BUILD_DIR}/rollouts-controller" "$BIN" "$t0"
}

# The plugin builds from the module as published: the controller's patch concerns only the
# controller's servers, and the plugin's one server (`dashboard`) already defaults to 127.0.0.1
# (server/server.go, defaultListenAddr). Its own scratch dir, so it can be built beside a
# controller that is already cached.
install_plugin() {
  if [[ -x "$PLUGIN_BIN" ]]; then
    log "kubectl-argo-rollouts ${ROLLOUTS_VERSION} already built (${PLUGIN_BIN})"
    return 0
  fi
  local t0=$SECONDS out
  begin_build kubectl-argo-rollouts "$PLUGIN_BUILD_DIR" "${LOG_DIR}/plugin-build.log"
  write_wrapper_module "$GO_MODULE_GOMOD"
  build_main "$PLUGIN_PKG" "${PLUGIN_BUILD_DIR}/kubectl-argo-rollouts"
  out="$("${PLUGIN_BUILD_DIR}/kubectl-argo-rollouts" version --short 2>>"$GO_BUILD_LOG")" ||
    go_build_fail "the built kubectl-argo-rollouts does not run"
  echo "$out" >>"$GO_BUILD_LOG"
  [[ "$out" == *"v${ROLLOUTS_VERSION#v}+"* ]] ||
    go_build_fail "the built kubectl-argo-rollouts reports '${out}', not ${ROLLOUTS_VERSION}"

  land_build "${PLUGIN_BUILD_DIR}/kubectl-argo-rollouts" "$PLUGIN_BIN" "$t0"
}

cmd_install() {
  command -v go >/dev/null || die "go is required to build Argo Rollouts"
  command -v jq >/dev/null || die "jq is required to read the upstream go.mod"
  export GOTOOLCHAIN="$ROLLOUTS_GOTOOLCHAIN"
  install_controller
  install_plugin
}

healthy() { curl -fs --max-time 2 "http://127.0.0.1:${HEALTHZ_PORT}/healthz" >/dev/null; }

# workers_started OFFSET: the log written since OFFSET shows both worker pools running.
workers_started() {
  local since
  since="$(tail -c "+$(($1 + 1))" "$LOG_FILE" 2>/dev/null)" || return 1
  grep -q 'Started rollout workers' <<<"$since" && grep -q 'Started [0-9]* analysis workers' <<<"$since"
}

controller_ready() { healthy && workers_started "$1"; }

# The local Prometheus scrapes what is listed in its targets dir (see local/prometheus.sh).
targets_dir() { "${LOCAL}/prometheus.sh" env | sed -n 's/^export PROMETHEUS_TARGETS_DIR=//p'; }

# ============================================================================
# start / stop / status / env
# ============================================================================

cmd_start() {
  already_running "$PID_FILE" && return 0
  [[ -x "$BIN" ]] || die "rollouts-controller not built: run '$0 install'"
  # KUBECONFIG (the local admin) and the kubectl built with the control plane.
  eval "$("${LOCAL}/kube.sh" env)"
  kubectl get --raw=/readyz >/dev/null 2>&1 ||
    die "the local Kubernetes API server does not answer (KUBECONFIG=${KUBECONFIG}): run local/kube.sh start first"
  kubectl get crd rollouts.argoproj.io analysisruns.argoproj.io analysistemplates.argoproj.io \
    clusteranalysistemplates.argoproj.io experiments.argoproj.io >/dev/null 2>&1 ||
    die "the Argo Rollouts CRDs are not installed: local/kube.sh start installs them from STREAMFORGE_CRDS_DIR"
  ports_free "$METRICS_PORT" "$HEALTHZ_PORT"
  mkdir -p "$STATE_DIR"
  # Its own namespace, where argo-rollouts-config and the notification ConfigMap/Secret would live.
  kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || kubectl create namespace "$NAMESPACE" >/dev/null ||
    die "could not create namespace ${NAMESPACE}"

  local offset t0=$SECONDS
  offset="$(stat -c %s "$LOG_FILE" 2>/dev/null || echo 0)"
  # Cluster-wide (no --namespaced, no --instance-id: it owns every Rollout of this cluster);
  # --leader-elect=false: one local instance, no Lease.
  spawn "$PID_FILE" "$LOG_FILE" env POD_NAMESPACE="$NAMESPACE" "$BIN" \
    --kubeconfig="$KUBECONFIG" --leader-elect=false \
    --metricsPort="$METRICS_PORT" --healthzPort="$HEALTHZ_PORT" --loglevel=info ||
    start_failed "rollouts-controller exited at once"
  # healthz answers as soon as the process runs; the workers start only once the informer
  # caches have synced, so wait for both.
  wait_until "rollouts-controller (healthz http://127.0.0.1:${HEALTHZ_PORT}/healthz and 'Started rollout workers' in its log)" \
    "$START_TIMEOUT" controller_ready "$offset" || start_failed

  local targets
  targets="$(targets_dir)"
  if [[ -n "$targets" ]]; then
    mkdir -p "$targets"
    printf '[{"targets": ["127.0.0.1:%s"], "labels": {"job": "argo-rollouts"}}]\n' "$METRICS_PORT" >"${targets}/${TARGET_NAME}"
  fi
  log "ready in $((SECONDS - t0))s: healthz 127.0.0.1:${HEALTHZ_PORT}, metrics http://127.0.0.1:${METRICS_PORT}/metrics"
}

# Controllers a test started (rollouts/test/controller-rbac.itest.ts records "PID STARTTIME" in
# scoped/<run>/rollouts-controller.pid) and did not stop because it died first.
stop_scoped() {
  local f
  for f in "${STATE_DIR}"/scoped/*/*.pid; do
    [[ -f "$f" ]] || continue
    stop_recorded "$STOP_TIMEOUT" "$f"
  done
}

cmd_stop() {
  stop_scoped
  local targets
  targets="$(targets_dir)"
  if [[ -n "$targets" ]]; then rm -f "${targets}/${TARGET_NAME}"; fi
  stop_recorded "$STOP_TIMEOUT" "$PID_FILE"
}

cmd_status() { status_line rollouts-controller "$PID_FILE" "healthz ${HEALTHZ_PORT} metrics ${METRICS_PORT}"; }

cmd_env() {
  echo "export ARGO_ROLLOUTS_METRICS_URL=http://127.0.0.1:${METRICS_PORT}/metrics"
  echo "export ARGO_ROLLOUTS_HEALTHZ_URL=http://127.0.0.1:${HEALTHZ_PORT}/healthz"
  echo "export ARGO_ROLLOUTS_NAMESPACE=${NAMESPACE}"
  echo "export ARGO_ROLLOUTS_LOG=${LOG_FILE}"
  echo "export ARGO_ROLLOUTS_PLUGIN=${PLUGIN_BIN}"
  echo "export ARGO_ROLLOUTS_CONTROLLER=${BIN}"
}

dispatch "$@"
