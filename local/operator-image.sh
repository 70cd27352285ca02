#!/usr/bin/env bash
# The self-healing operator's real image: operator/Dockerfile built with `buildah bud` and run
# with podman, without a Docker engine and without a container registry.
#
# The Dockerfile takes its base images as build arguments (BUILD_BASE, RUNTIME_BASE), pinned by
# digest to the public node and distroless images. Those cannot be pulled here, so `install`
# makes local stand-ins for them (lib/operator-image-bases.sh says how).
#
# Usage: local/operator-image.sh install|build|run|stop|status|env
#   install  buildah, podman, runc and debootstrap (apt-get, when missing; needs root) and the two
#            base stand-ins (cached by version; a no-op when done)
#   build    install, then build operator/Dockerfile from the repository root, tagged
#            localhost/streamforge/self-healing-operator:<hash of the inputs>; skipped when that
#            tag exists. Prints the image reference on stdout (everything else goes to stderr)
#            and its size
#   run      build, then run the image detached (container streamforge-operator) against the local
#            Kafka (TLS + SCRAM) and API server, as production runs it (read-only root, /tmp a
#            small tmpfs, no capabilities, user from the image), as the ServiceAccount the
#            deployed local stack created (a TokenRequest token, never the admin); waits for /readyz.
#            First the relaunch guard from the same image (container streamforge-relaunch-guard,
#            dist/relaunch-guard.js) as its own ServiceAccount, at the URL the stack's webhook
#            configuration names; waits until it has written its CA there
#   stop     podman stop (SIGTERM to the operator, PID 1 in the container), print its exit code,
#            remove the container
#   status   the image for the current inputs (present or not, size) and the container's state
#   eval "$(local/operator-image.sh env)"   # OPERATOR_IMAGE (when built), the bases, the container
#
# Everything runs as root with podman's default storage (/var/lib/containers/storage). Builds and
# containers use the host network, with what this machine needs (BUILDAH_BUD, PODMAN_RUN in
# lib/workarounds.sh), so the operator is told to bind 127.0.0.1 (BIND_ADDRESS): nothing listens
# beyond it.
#
# Environment (all optional):
#   STREAMFORGE_CACHE   cache root (default ${XDG_CACHE_HOME:-~/.cache}/streamforge, shared by every
#                       clone); rootfs, Node, npm, npm cache and logs in operator-image/
#   STREAMFORGE_STATE   state root (default <repo>/.local/state); the run's env file and mounted
#                       credentials in operator-image/
#   STREAMFORGE_DEBIAN_MIRROR   Debian mirror for debootstrap (default: read from /etc/apt/sources.list*)
#   STREAMFORGE_OPERATOR_HEALTH_PORT    run: /healthz, /readyz (default 18981)
#   STREAMFORGE_OPERATOR_METRICS_PORT   run: /metrics (default 18980)
#   STREAMFORGE_OPERATOR_NAMESPACE      run: WATCH_NAMESPACE, created when missing (default stf)
#   STREAMFORGE_OPERATOR_TOPIC          run: KAFKA_TOPIC (default queue-events)
#   STREAMFORGE_OPERATOR_START_TIMEOUT  run: seconds to wait for /readyz (default 60)
#   STREAMFORGE_OPERATOR_STOP_TIMEOUT   stop: seconds between SIGTERM and SIGKILL (default 15)
#   STREAMFORGE_OPERATOR_CONTAINER      run, stop: the container's name (default streamforge-operator)
#   STREAMFORGE_RELAUNCH_GUARD_CONTAINER  run, stop: the relaunch guard's (default streamforge-relaunch-guard)
set -euo pipefail

# ---- pinned versions -------------------------------------------------------
NODE_VERSION="22.23.3"   # as scripts/toolchain.sh and the Dockerfile's node:<V>-bookworm-slim
NPM_VERSION="10.9.9"     # the npm that Node 22.23.3 bundles (its CHANGELOG)
DEBIAN_SUITE="bookworm"  # debian12, as both public bases
# Bump when the stand-ins' recipe below changes: images of another revision are rebuilt.
STANDIN_REVISION="1"
NONROOT_UID=65532

# ---- locations -------------------------------------------------------------
# shellcheck source=lib/piece.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/piece.sh"
piece operator-image
CACHE_DIR="${CACHE}/operator-image"
ROOTFS_DIR="${CACHE_DIR}/debian-${DEBIAN_SUITE}-minbase-r${STANDIN_REVISION}"
NODE_DIR="${CACHE_DIR}/node-${NODE_VERSION}"
NPM_DIR="${CACHE_DIR}/npm-${NPM_VERSION}"
NPM_CACHE="${CACHE_DIR}/npm-cache"   # /root/.npm of the build's RUN steps: warm rebuilds
LOG_DIR="${CACHE_DIR}/logs"

BUILD_BASE="localhost/streamforge/build-base:node${NODE_VERSION}"
RUNTIME_BASE="localhost/streamforge/runtime-base:node${NODE_VERSION}"
IMAGE_REPO="localhost/streamforge/self-healing-operator"
DOCKERFILE="operator/Dockerfile"
RECIPE_LABEL="org.streamforge.standin"
RECIPE="debian-${DEBIAN_SUITE}-node${NODE_VERSION}-npm${NPM_VERSION}-r${STANDIN_REVISION}"
CONTAINER="${STREAMFORGE_OPERATOR_CONTAINER:-streamforge-operator}"
GUARD_CONTAINER="${STREAMFORGE_RELAUNCH_GUARD_CONTAINER:-streamforge-relaunch-guard}"
# The operator's Deployment as the stack names it (infra/self-healing/manifests.ts): its ServiceAccount is the one run as.
OPERATOR_DEPLOYMENT="streamforge-self-healing-operator"
# The relaunch guard's Deployment (infra/self-healing/relaunch-guard-spec.ts): its settings and ServiceAccount are the ones run with.
GUARD_DEPLOYMENT="streamforge-relaunch-guard"

HEALTH_PORT="${STREAMFORGE_OPERATOR_HEALTH_PORT:-18981}"
METRICS_PORT="${STREAMFORGE_OPERATOR_METRICS_PORT:-18980}"
RUN_NAMESPACE="${STREAMFORGE_OPERATOR_NAMESPACE:-stf}"
RUN_TOPIC="${STREAMFORGE_OPERATOR_TOPIC:-queue-events}"
START_TIMEOUT="${STREAMFORGE_OPERATOR_START_TIMEOUT:-60}"
STOP_TIMEOUT="${STREAMFORGE_OPERATOR_STOP_TIMEOUT:-15}"

# Every podman run here is PODMAN_RUN and every build BUILDAH_BUD (lib/workarounds.sh).

# ---- steps: every failure names its step and shows its log -----------------
STEP=""
STEP_LOG=""
# step NAME LOG: the step that runs now, and the log its commands append to.
step() {
  STEP="$1"
  STEP_LOG="$2"
  mkdir -p "$(dirname "$STEP_LOG")"
  printf '\n== %s (%s)\n' "$STEP" "$(date -u +%FT%TZ)" >>"$STEP_LOG"
}
# fail WHY: the current step failed.
fail() {
  if [[ -s "$STEP_LOG" ]]; then
    log "last lines of ${STEP_LOG}:"
    tail -n 25 "$STEP_LOG" >&2
  fi
  die "step '${STEP}' failed: $1 (full log: ${STEP_LOG})"
}
# logged CMD...: run CMD with its output appended to the step's log.
logged() { "$@" >>"$STEP_LOG" 2>&1; }

# One install or build at a time per machine (platform.sh installs in the background while a test
# may build): the cache and the image store are shared. Containers must not inherit the lock (8>&-).
lock() { lock_cache "$CACHE_DIR"; }

# shellcheck source=lib/operator-image-bases.sh
source "${LOCAL}/lib/operator-image-bases.sh"

image_exists() { buildah inspect --type image "$1" >/dev/null 2>&1; }
image_id() { buildah inspect --type image --format '{{.FromImageID}}' "$1"; }
image_label() { buildah inspect --type image --format "{{index .OCIv1.Config.Labels \"$2\"}}" "$1" 2>/dev/null; }
image_size() { podman image inspect --format '{{.Size}}' "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.0f MiB", b / 1048576 }'; }

need_root() {
  ((EUID == 0)) || die "the operator image is built and run as root (podman's default storage, debootstrap): run as root"
}

cmd_install() {
  need_root
  mkdir -p "$LOG_DIR"
  lock
  install_tools
  if standin_current "$BUILD_BASE" && standin_current "$RUNTIME_BASE"; then
    log "base stand-ins already committed (${BUILD_BASE}, ${RUNTIME_BASE})"
    return 0
  fi
  install_bases
}

# ============================================================================
# build
# ============================================================================

# The Dockerfile's inputs: what its COPY lines read (with the ignore file that filters them), the
# build arguments, and the base images' ids.
inputs_hash() {
  local build_id runtime_id
  build_id="$(image_id "$BUILD_BASE")" && runtime_id="$(image_id "$RUNTIME_BASE")" || return 1
  (
    cd "$ROOT"
    {
      sha256sum "$DOCKERFILE" package.json package-lock.json operator/package.json operator/tsconfig.json operator/tsconfig.build.json
      [[ -f .dockerignore ]] && sha256sum .dockerignore
      find operator/src -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
      echo "BUILD_BASE=${BUILD_BASE} ${build_id}"
      echo "RUNTIME_BASE=${RUNTIME_BASE} ${runtime_id}"
    } | sha256sum | cut -c1-16
  )
}

current_image() {
  local hash
  hash="$(inputs_hash 2>/dev/null)" || return 1
  echo "${IMAGE_REPO}:${hash}"
}

cmd_build() {
  cmd_install
  lock
  local image t0=$SECONDS size
  image="$(current_image)" || die "step 'hash the inputs' failed: the base stand-ins are not in the image store"
  if image_exists "$image"; then
    log "${image} is up to date with its inputs ($(mib "$(image_size "$image")"))"
    echo "$image"
    return 0
  fi
  step "buildah bud ${DOCKERFILE}" "${LOG_DIR}/build.log"
  : >"$STEP_LOG"
  mkdir -p "$NPM_CACHE"
  log "building ${image} from ${DOCKERFILE} (log ${STEP_LOG})"
  # --layers: a change in operator/src reuses the npm ci layers; --jobs 2: the build and deps
  # stages side by side; the npm cache mount keeps downloads out of the layers and warm.
  local mounts=(--volume "${NPM_CACHE}:/root/.npm")
  # Workaround: a machine whose egress goes through a TLS-inspecting proxy trusts its CA through a bundle
  # (NODE_EXTRA_CA_CERTS, or npm's cafile): npm ci in the RUN steps gets the same trust, mounted
  # for the build only, so nothing of it lands in a layer.
  local cafile="${NODE_EXTRA_CA_CERTS:-}"
  if [[ -z "$cafile" ]]; then cafile="$(cd "$CACHE_DIR" && npm config get cafile 2>/dev/null)" || cafile=""; fi
  if [[ -n "$cafile" && "$cafile" != null && "$cafile" != undefined && -f "$cafile" ]]; then
    printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n' >"${CACHE_DIR}/build-npmrc"
    mounts+=(--volume "${cafile}:/etc/ssl/certs/ca-certificates.crt:ro" --volume "${CACHE_DIR}/build-npmrc:/root/.npmrc:ro")
    log "npm in the build trusts the machine's CA bundle ${cafile}"
  fi
  # nice: the machine is shared with other builds (local/platform.sh runs them side by side);
  # --force-rm: a failed step leaves no working container behind.
  (cd "$ROOT" && logged nice -n 10 "${BUILDAH_BUD[@]}" --layers --jobs 2 --force-rm \
    --build-arg "BUILD_BASE=${BUILD_BASE}" --build-arg "RUNTIME_BASE=${RUNTIME_BASE}" "${mounts[@]}" \
    -f "$DOCKERFILE" -t "$image" .) || fail "buildah bud -f ${DOCKERFILE}"
  size="$(image_size "$image")"
  # Older builds of the operator go (their shared layers stay with the current one).
  podman images --noheading --format '{{.Repository}}:{{.Tag}}' "$IMAGE_REPO" 2>/dev/null |
    while read -r old; do [[ "$old" == "$image" ]] || podman rmi "$old" >/dev/null 2>&1 || true; done
  log "built ${image} in $((SECONDS - t0)) s: image size $(mib "$size") (${size} bytes)"
  echo "$image"
}

# ============================================================================
# run / stop / status / env
# ============================================================================

# run_failed: the container's last lines, then exit.
run_failed() {
  podman logs --tail 25 "$CONTAINER" >&2 || true
  die "${CONTAINER} failed to start"
}
container_running() { [[ "$(container_state "${1:-$CONTAINER}" || true)" == running ]]; }
consuming() { curl -fs --max-time 2 "http://127.0.0.1:${METRICS_PORT}/metrics" | grep -q '^streamforge_operator_event_source_healthy 1'; }

container_state() { podman container inspect --format '{{.State.Status}}' "${1:-$CONTAINER}" 2>/dev/null; }

# sa_kubeconfig <namespace> <serviceaccount> <out>: the admin kubeconfig's cluster (server, CA)
# with a bound token of that ServiceAccount (TokenRequest API, one day) as its only user.
sa_kubeconfig() {
  local token
  token="$(kubectl create token "$2" -n "$1" --duration=24h)" || die "no token for ServiceAccount $1/$2 (TokenRequest refused)"
  (
    umask 077
    kubectl config view --raw --minify --flatten -o json |
      jq --arg token "$token" --arg user "system:serviceaccount:$1:$2" '
        .users = [{name: $user, user: {token: $token}}]
        | .contexts[0].context.user = $user' >"$3"
  ) || die "could not write the ServiceAccount's kubeconfig"
}

# deployment_namespace <name>: the one namespace holding a Deployment of that name (empty when
# none); more than one is refused: another namespace's copy must never be the one run.
deployment_namespace() {
  local found
  found="$(kubectl get deployments -A --field-selector "metadata.name=$1" -o jsonpath='{range .items[*]}{.metadata.namespace}{"\n"}{end}')" ||
    die "could not list the Deployments named $1"
  [[ "$(grep -c . <<<"$found")" -le 1 ]] ||
    die "Deployments named $1 in more than one namespace ($(paste -sd, <<<"$found")): expected only the local stack's"
  printf '%s' "$found"
}

# run_guard <image> <run dir>: the relaunch guard, when the stack's webhook configuration calls
# it at a URL on this machine (kwok runs no pods), with the settings of the stack's Deployment of
# it and its ServiceAccount, in the guard's own namespace; returns once the API server's
# configuration trusts its CA.
run_guard() {
  local image="$1" run="$2" namespace settings configuration url port
  namespace="$(deployment_namespace "$GUARD_DEPLOYMENT")"
  if [[ -z "$namespace" ]]; then
    log "no relaunch guard to run: the stack declared no ${GUARD_DEPLOYMENT}"
    return 0
  fi
  # Only the guard's own settings (operator/src/contract.ts relaunchGuardSettingSchemas), never
  # whatever else a Deployment's env holds (NODE_OPTIONS would run code in the container).
  settings="$(kubectl get deployment "$GUARD_DEPLOYMENT" -n "$namespace" -o json |
    jq -r '.spec.template.spec.containers[0].env[]
      | select(.value != null and (.name | IN("OPERATOR_USER", "CERT_STORE", "SERVING_HOSTS", "WEBHOOK_CONFIGURATION", "WEBHOOK_NAME", "SYNC_INTERVAL_MS", "LOG_LEVEL")))
      | "\(.name)=\(.value)"')" ||
    die "could not read the settings of ${namespace}/${GUARD_DEPLOYMENT}"
  configuration="$(sed -n 's/^WEBHOOK_CONFIGURATION=//p' <<<"$settings")"
  url="$(kubectl get validatingwebhookconfiguration "$configuration" -o jsonpath='{.webhooks[0].clientConfig.url}')"
  [[ "$url" =~ ^https://127\.0\.0\.1:([0-9]+)/ ]] ||
    die "${configuration} calls ${url:-its Service}: expected https://127.0.0.1:<port>/... (streamforge:operator.relaunchGuard.url)"
  port="${BASH_REMATCH[1]}"
  if container_running "$GUARD_CONTAINER"; then
    log "${GUARD_CONTAINER} already running"
    return 0
  fi
  podman rm -f "$GUARD_CONTAINER" >/dev/null 2>&1 || true
  sa_kubeconfig "$namespace" "$GUARD_DEPLOYMENT" "${run}/guard-kubeconfig"
  chown "$NONROOT_UID:$NONROOT_UID" "${run}/guard-kubeconfig"
  chmod 0400 "${run}/guard-kubeconfig"
  (
    umask 077
    printf '%s\n' "$settings" "KUBECONFIG=/etc/streamforge/kubeconfig" "LISTEN_HOST=127.0.0.1" "PORT=${port}" >"${run}/guard-env"
  )
  "${PODMAN_RUN[@]}" -d --name "$GUARD_CONTAINER" --read-only --read-only-tmpfs=false \
    --cap-drop ALL --security-opt no-new-privileges --env-file "${run}/guard-env" \
    -v "${run}/guard-kubeconfig:/etc/streamforge/kubeconfig:ro" \
    "$image" dist/relaunch-guard.js >/dev/null 8>&- || die "podman run ${image} dist/relaunch-guard.js failed"
  trusted() { [[ -n "$(kubectl get validatingwebhookconfiguration "$configuration" -o jsonpath='{.webhooks[0].clientConfig.caBundle}')" ]]; }
  WAIT_ALIVE="container_running ${GUARD_CONTAINER}"
  wait_until "${GUARD_CONTAINER} (its CA in ${configuration})" "$START_TIMEOUT" trusted || {
    podman logs --tail 25 "$GUARD_CONTAINER" >&2 || true
    die "${GUARD_CONTAINER} failed to start"
  }
  log "${GUARD_CONTAINER} serving ${url}, trusted by ${configuration}; logs: podman logs ${GUARD_CONTAINER}"
}

cmd_run() {
  local image
  image="$(cmd_build)"
  if [[ "$(container_state || true)" == running ]]; then
    log "${CONTAINER} already running"
    return 0
  fi
  podman rm -f "$CONTAINER" >/dev/null 2>&1 || true
  eval "$("${LOCAL}/kafka.sh" env)"
  eval "$("${LOCAL}/kube.sh" env)"
  kubectl get --raw=/readyz >/dev/null 2>&1 || die "the local API server does not answer (KUBECONFIG=${KUBECONFIG}): run local/kube.sh start first"
  (exec 3<>"/dev/tcp/127.0.0.1/${KAFKA_SASL_SSL_BOOTSTRAP_SERVERS##*:}") 2>/dev/null ||
    die "the local Kafka does not answer on ${KAFKA_SASL_SSL_BOOTSTRAP_SERVERS}: run local/kafka.sh start first"
  kubectl get namespace "$RUN_NAMESPACE" >/dev/null 2>&1 || kubectl create namespace "$RUN_NAMESPACE" >/dev/null ||
    die "could not create namespace ${RUN_NAMESPACE}"
  # The broker does not create topics on use; the operator stops when its topic is missing.
  java -Xmx128m -cp "${KAFKA_LIBS}/*" org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS" \
    --create --if-not-exists --topic "$RUN_TOPIC" --partitions 3 --replication-factor 1 >/dev/null 2>&1 ||
    die "could not create topic ${RUN_TOPIC} on ${KAFKA_BOOTSTRAP_SERVERS}"
  # Its own identity: the ServiceAccount of the operator's Deployment that `pulumi up --stack local`
  # created, never the admin: what the API server allows it is the stack's Role and admission guard.
  local sa_namespace sa_name=""
  sa_namespace="$(deployment_namespace "$OPERATOR_DEPLOYMENT")"
  [[ -z "$sa_namespace" ]] ||
    sa_name="$(kubectl get deployment "$OPERATOR_DEPLOYMENT" -n "$sa_namespace" -o jsonpath='{.spec.template.spec.serviceAccountName}')"
  [[ -n "${sa_name:-}" ]] ||
    die "the local stack's ${OPERATOR_DEPLOYMENT} is not deployed, so its ServiceAccount does not exist: run local/platform.sh deploy first"
  # The credentials the container reads, owned by its user (65532), not readable by others; the
  # env file keeps the password off podman's command line.
  local run="${STATE_DIR}/run"
  rm -rf "$run"
  mkdir -p "$run"
  chmod 0700 "$run"
  sa_kubeconfig "$sa_namespace" "$sa_name" "${run}/kubeconfig"
  chown "$NONROOT_UID:$NONROOT_UID" "${run}/kubeconfig"
  chmod 0400 "${run}/kubeconfig"
  run_guard "$image" "$run"
  install -m 0400 -o "$NONROOT_UID" -g "$NONROOT_UID" "$KAFKA_CA_PATH" "${run}/ca.crt"
  (
    umask 077
    printf '%s\n' "KUBECONFIG=/etc/streamforge/kubeconfig" "KAFKA_BROKERS=${KAFKA_SASL_SSL_BOOTSTRAP_SERVERS}" \
      "KAFKA_TLS=true" "KAFKA_CA_PATH=/etc/kafka-ca/ca.crt" "KAFKA_SASL_MECHANISM=scram-sha-512" \
      "KAFKA_USERNAME=${KAFKA_ADMIN_USER}" "KAFKA_PASSWORD=${KAFKA_ADMIN_PASSWORD}" "KAFKA_TOPIC=${RUN_TOPIC}" \
      "WATCH_NAMESPACE=${RUN_NAMESPACE}" "LEASE_NAMESPACE=${sa_namespace}" "POD_NAME=${CONTAINER}" "BIND_ADDRESS=127.0.0.1" \
      "HEALTH_PORT=${HEALTH_PORT}" "METRICS_PORT=${METRICS_PORT}" >"${run}/env"
  )
  local t0
  t0="$(date +%s%N)"
  "${PODMAN_RUN[@]}" -d --name "$CONTAINER" --read-only --read-only-tmpfs=false --tmpfs /tmp:rw,size=16m,mode=1777 \
    --cap-drop ALL --security-opt no-new-privileges --env-file "${run}/env" \
    -v "${run}/kubeconfig:/etc/streamforge/kubeconfig:ro" -v "${run}/ca.crt:/etc/kafka-ca/ca.crt:ro" \
    "$image" >/dev/null 8>&- || die "podman run ${image} failed"
  local deadline=$((SECONDS + START_TIMEOUT)) ready_ns
  WAIT_ALIVE="container_running ${CONTAINER}"
  wait_until "${CONTAINER} (http://127.0.0.1:${HEALTH_PORT}/readyz)" "$START_TIMEOUT" \
    curl -fs --max-time 2 "http://127.0.0.1:${HEALTH_PORT}/readyz" || run_failed
  ready_ns=$(($(date +%s%N) - t0))
  # Ready is not yet leading: wait until it holds the Lease and its consumer fetches.
  if ! wait_until "${CONTAINER} to consume" $((deadline - SECONDS)) consuming; then
    container_running "$CONTAINER" || run_failed
    log "${CONTAINER} ready but not consuming (another replica may hold the Lease in ${RUN_NAMESPACE})"
  fi
  log "${CONTAINER} (${image}) ready in $(awk -v ns="$ready_ns" 'BEGIN { printf "%.1f", ns / 1e9 }') s, consuming after $(awk -v ns="$(($(date +%s%N) - t0))" 'BEGIN { printf "%.1f", ns / 1e9 }') s: health http://127.0.0.1:${HEALTH_PORT}/readyz, metrics http://127.0.0.1:${METRICS_PORT}/metrics, namespace ${RUN_NAMESPACE}; logs: podman logs ${CONTAINER}"
}

# stop_container <name>: SIGTERM, then remove.
stop_container() {
  local state
  state="$(container_state "$1")" || { log "$1 is not there"; return 0; }
  if [[ "$state" == running ]]; then
    local t0=$SECONDS
    podman stop -t "$STOP_TIMEOUT" "$1" >/dev/null
    log "stopped $1 in $((SECONDS - t0)) s: exit code $(podman container inspect --format '{{.State.ExitCode}}' "$1")"
  fi
  podman rm "$1" >/dev/null
}

cmd_stop() {
  stop_container "$CONTAINER"
  stop_container "$GUARD_CONTAINER"
  rm -rf "${STATE_DIR}/run"
}

cmd_status() {
  local image state
  if image="$(current_image)" && image_exists "$image"; then
    printf '%-24s built    %s  %s\n' operator-image "$image" "$(mib "$(image_size "$image")")"
  else
    printf '%-24s not built for the current inputs\n' operator-image
  fi
  local guard_state
  guard_state="$(container_state "$GUARD_CONTAINER")" || guard_state=absent
  printf '%-24s %s\n' "$GUARD_CONTAINER" "$guard_state"
  state="$(container_state)" || state=absent
  printf '%-24s %s\n' "$CONTAINER" "$state"
  [[ "$state" == running ]] || return 3
}

cmd_env() {
  local image
  if command -v buildah >/dev/null && image="$(current_image)" && image_exists "$image"; then
    echo "export OPERATOR_IMAGE=${image}"
  else
    echo "# OPERATOR_IMAGE: not built for the current inputs (local/operator-image.sh build)"
  fi
  echo "export OPERATOR_IMAGE_BUILD_BASE=${BUILD_BASE}"
  echo "export OPERATOR_IMAGE_RUNTIME_BASE=${RUNTIME_BASE}"
  echo "export OPERATOR_IMAGE_CONTAINER=${CONTAINER}"
  echo "export OPERATOR_IMAGE_RUNTIME=${RUNC}"
}

dispatch "$@"
