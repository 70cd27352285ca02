#!/usr/bin/env bash
# Local Kubernetes control plane without containers: etcd + kube-apiserver +
# kube-controller-manager built from source with Go, plus kwok (Kubernetes
# WithOut Kubelet) which plays the kubelet for one fake Node so Pods reach
# Running/Ready and Job pods complete. kube-scheduler is built and run too:
# without it no Pod is ever bound to a node.
#
# Usage: local/kube.sh install|start|stop|status|env
#   install  build the binaries with Go (cached by version; a no-op when done)
#   start    start all daemons, wait for /readyz, create the kwok node, install
#            the upstream CRDs; says so and returns 0 when already running
#   stop     SIGTERM (then SIGKILL) exactly the recorded PIDs, newest first
#   status   running/stopped, PID and RSS per daemon; exit 3 if any is down
#   eval "$(local/kube.sh env)"   # exports KUBECONFIG and KUBE_AUDIT_LOG, puts the built kubectl on PATH
#
# The API server keeps an audit log (KUBE_AUDIT_LOG, JSON lines, level Metadata) of the requests
# of ServiceAccounts outside kube-system only: what an operator run with its own token did.
#
# Environment (all optional):
#   STREAMFORGE_CACHE      cache root (default ${XDG_CACHE_HOME:-~/.cache}/streamforge, shared by every clone); binaries in kube/<version>/bin
#   STREAMFORGE_STATE      state root (default <repo>/.local/state); pki, etcd data, logs, pids in kube/
#   STREAMFORGE_CRDS_DIR   upstream CRDs (default <repo>/../shared/crds)
#   STREAMFORGE_KUBE_APISERVER_PORT           (default 16443)
#   STREAMFORGE_KUBE_ETCD_CLIENT_PORT         (default 12379)
#   STREAMFORGE_KUBE_ETCD_PEER_PORT           (default 12380)
#   STREAMFORGE_KUBE_CONTROLLER_MANAGER_PORT  healthz of kube-controller-manager (default 16257)
#   STREAMFORGE_KUBE_SCHEDULER_PORT           healthz of kube-scheduler (default 16259)
#   STREAMFORGE_KUBE_KWOK_PORT                healthz/metrics of kwok (default 16080)
#   STREAMFORGE_KUBE_START_TIMEOUT  seconds to wait for readiness (default 120)
#   STREAMFORGE_KUBE_STOP_TIMEOUT   seconds between SIGTERM and SIGKILL (default 15)
#   STREAMFORGE_KUBE_JOB_RUN_MS     how long kwok keeps a Job's pod Running before it
#                                   Succeeds (default 3600000: StreamForge workers run until
#                                   stopped, and a Job Complete after a second would hide
#                                   whether it got stuck; read at start)
set -euo pipefail

# ---- pinned versions -------------------------------------------------------
KUBE_VERSION="v1.37.2"   # k8s.io/kubernetes (apiserver, controller-manager, scheduler, kubectl)
ETCD_VERSION="v3.7.3"    # go.etcd.io/etcd/server/v3 (the etcd server main package)
KWOK_VERSION="v0.8.0"    # sigs.k8s.io/kwok/cmd/kwok (the kwok controller)

# ---- locations -------------------------------------------------------------
# shellcheck source=lib/piece.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/piece.sh"
piece kube
CACHE_DIR="${CACHE}/kube/${KUBE_VERSION}"
BIN_DIR="${CACHE_DIR}/bin"
SRC_DIR="${CACHE_DIR}/src"          # generated wrapper Go modules
CRDS_DIR="${STREAMFORGE_CRDS_DIR:-${ROOT}/../shared/crds}"
PKI_DIR="${STATE_DIR}/pki"
LOG_DIR="${STATE_DIR}/logs"
RUN_DIR="${STATE_DIR}/run"
KUBECONFIG_FILE="${STATE_DIR}/kubeconfig"
AUDIT_POLICY="${STATE_DIR}/audit-policy.yaml"
AUDIT_LOG="${LOG_DIR}/audit.log"

# ---- ports (all bound to 127.0.0.1) ----------------------------------------
APISERVER_PORT="${STREAMFORGE_KUBE_APISERVER_PORT:-16443}"
ETCD_CLIENT_PORT="${STREAMFORGE_KUBE_ETCD_CLIENT_PORT:-12379}"
ETCD_PEER_PORT="${STREAMFORGE_KUBE_ETCD_PEER_PORT:-12380}"
KCM_PORT="${STREAMFORGE_KUBE_CONTROLLER_MANAGER_PORT:-16257}"
SCHED_PORT="${STREAMFORGE_KUBE_SCHEDULER_PORT:-16259}"
KWOK_PORT="${STREAMFORGE_KUBE_KWOK_PORT:-16080}"
START_TIMEOUT="${STREAMFORGE_KUBE_START_TIMEOUT:-120}"
STOP_TIMEOUT="${STREAMFORGE_KUBE_STOP_TIMEOUT:-15}"

KWOK_NODE="kwok-node-0"
# Start order; stop walks it backwards.
DAEMONS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

# shellcheck source=lib/go-build.sh
source "${LOCAL}/lib/go-build.sh" # upstream_replaces
# shellcheck source=lib/kube-build.sh
source "${LOCAL}/lib/kube-build.sh"
cmd_install() { kube_build; }

# ============================================================================
# state: certificates, kubeconfigs, kwok config
# ============================================================================

# issue_cert NAME SUBJECT EXT: key + cert signed by the local CA (kept across
# restarts so kubeconfigs handed out earlier stay valid).
issue_cert() {
  local name="$1" subj="$2" ext="$3"
  [[ -f "${PKI_DIR}/${name}.crt" && -f "${PKI_DIR}/${name}.key" ]] && return 0
  openssl req -new -newkey rsa:2048 -nodes -subj "$subj" \
    -keyout "${PKI_DIR}/${name}.key" -out "${PKI_DIR}/${name}.csr" 2>/dev/null
  printf '%s\n' "$ext" >"${PKI_DIR}/${name}.ext"
  openssl x509 -req -in "${PKI_DIR}/${name}.csr" -CA "${PKI_DIR}/ca.crt" -CAkey "${PKI_DIR}/ca.key" \
    -CAcreateserial -days 3650 -sha256 -extfile "${PKI_DIR}/${name}.ext" \
    -out "${PKI_DIR}/${name}.crt" 2>/dev/null
  rm -f "${PKI_DIR}/${name}.csr" "${PKI_DIR}/${name}.ext"
}

# write_kubeconfig FILE CERT_NAME: kubeconfig authenticating with a client cert.
write_kubeconfig() {
  local file="$1" cert="$2"
  local ca crt key
  ca="$(base64 -w0 <"${PKI_DIR}/ca.crt")"
  crt="$(base64 -w0 <"${PKI_DIR}/${cert}.crt")"
  key="$(base64 -w0 <"${PKI_DIR}/${cert}.key")"
  (umask 077 && cat >"$file" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: streamforge-local
  cluster:
    server: https://127.0.0.1:${APISERVER_PORT}
    certificate-authority-data: ${ca}
users:
- name: ${cert}
  user:
    client-certificate-data: ${crt}
    client-key-data: ${key}
contexts:
- name: streamforge-local
  context:
    cluster: streamforge-local
    user: ${cert}
current-context: streamforge-local
KCFG
  )
}

prepare_state() {
  command -v openssl >/dev/null || die "openssl is required to generate certificates"
  mkdir -p "$PKI_DIR" "$LOG_DIR" "$RUN_DIR" "${STATE_DIR}/etcd"
  chmod 700 "$STATE_DIR" "$PKI_DIR" "${STATE_DIR}/etcd"
  # Who asked for what, for ServiceAccounts outside kube-system (the controller-manager's own
  # controllers run as kube-system ServiceAccounts): verb, resource, namespace, name, status.
  cat >"$AUDIT_POLICY" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    userGroups: ["system:serviceaccounts:kube-system"]
  - level: Metadata
    userGroups: ["system:serviceaccounts"]
  - level: None
POLICY

  if [[ ! -f "${PKI_DIR}/ca.crt" ]]; then
    log "generating CA, certificates and service-account key in ${PKI_DIR}"
    openssl req -x509 -new -newkey rsa:2048 -nodes -days 3650 -sha256 \
      -subj "/CN=streamforge-local-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -keyout "${PKI_DIR}/ca.key" -out "${PKI_DIR}/ca.crt" 2>/dev/null
  fi
  # Service-account token signing key pair (apiserver signs, controller-manager too).
  if [[ ! -f "${PKI_DIR}/sa.key" ]]; then
    openssl genrsa -out "${PKI_DIR}/sa.key" 2048 2>/dev/null
    openssl rsa -in "${PKI_DIR}/sa.key" -pubout -out "${PKI_DIR}/sa.pub" 2>/dev/null
  fi

  local client_ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
  # One serving cert for every local endpoint; 10.0.0.1 is the in-cluster
  # "kubernetes" Service IP (first address of the service range).
  issue_cert serving "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  # Cluster admin: group system:masters bypasses RBAC.
  issue_cert admin "/O=system:masters/CN=streamforge-admin" "$client_ext"
  # Built-in identities that the bootstrap RBAC policy already grants rights to.
  issue_cert controller-manager "/CN=system:kube-controller-manager" "$client_ext"
  issue_cert scheduler "/CN=system:kube-scheduler" "$client_ext"
  # kwok stands in for every kubelet and updates any pod/node status: admin rights.
  issue_cert kwok "/O=system:masters/CN=kwok-controller" "$client_ext"

  write_kubeconfig "$KUBECONFIG_FILE" admin
  write_kubeconfig "${STATE_DIR}/controller-manager.kubeconfig" controller-manager
  write_kubeconfig "${STATE_DIR}/scheduler.kubeconfig" scheduler
  write_kubeconfig "${STATE_DIR}/kwok.kubeconfig" kwok
  write_kwok_config
}

# kwok needs Stage definitions to move nodes/pods through their lifecycle; it
# has no built-in default. We use upstream's "fast" stages (copied from the
# kwok module at install time): node-initialize + node heartbeat with a lease,
# pod-ready (Pending -> Running/Ready), pod-complete (Job pods -> Succeeded
# after STREAMFORGE_KUBE_JOB_RUN_MS), pod-delete (finish deletions, as a kubelet would).
write_kwok_config() {
  local stages="${CACHE_DIR}/kwok-stages" f run_ms="${STREAMFORGE_KUBE_JOB_RUN_MS:-3600000}"
  [[ -d "$stages" ]] || die "kwok stages missing in ${stages}: run '$0 install'"
  {
    for f in node-initialize.yaml node-heartbeat-with-lease.yaml pod-ready.yaml pod-complete.yaml pod-delete.yaml; do
      echo '---'
      if [[ "$f" == pod-complete.yaml ]]; then
        # Keep Job pods Running for a moment so the Running phase is observable.
        sed "s/^spec:\$/spec:\n  delay:\n    durationMilliseconds: ${run_ms}/" "${stages}/${f}"
      else
        cat "${stages}/${f}"
      fi
    done
  } >"${STATE_DIR}/kwok.yaml"
}

daemon_pid() { recorded_pid "${RUN_DIR}/$1.pid"; }

# launch NAME ARGS...: start the daemon NAME (a binary of BIN_DIR), recorded in run/NAME.pid.
launch() {
  local name="$1"
  shift
  spawn "${RUN_DIR}/${name}.pid" "${LOG_DIR}/${name}.log" "${BIN_DIR}/${name}" "$@" || start_failed "${name} exited at once"
}

kubectl_() { "${BIN_DIR}/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# ready NAME CHECK...: wait for NAME with what is left of START_TIMEOUT; on failure stop what
# this start launched.
ready() {
  local name="$1"
  shift
  wait_until "$name" $((DEADLINE - SECONDS)) "$@" || start_failed
}

healthy() { curl -fsk --max-time 2 "$1" >/dev/null; }

node_managed() {
  [[ -n "$(kubectl_ get lease -n kube-node-lease "$KWOK_NODE" -o 'jsonpath={.spec.holderIdentity}')" ]] &&
    kubectl_ wait --for=condition=Ready "node/${KWOK_NODE}" --timeout=2s
}

# ============================================================================
# start / stop / status / env
# ============================================================================

cmd_start() {
  local name running=() missing=()
  for name in "${DAEMONS[@]}"; do
    if daemon_pid "$name" >/dev/null; then running+=("$name"); else missing+=("$name"); fi
  done
  if ((${#missing[@]} == 0)); then
    log "already running (KUBECONFIG=${KUBECONFIG_FILE})"
    return 0
  fi
  if ((${#running[@]} > 0)); then
    log "partially running (${running[*]} up, ${missing[*]} down): restarting all"
    cmd_stop
  fi

  for name in "${DAEMONS[@]}" kubectl; do [[ -x "${BIN_DIR}/${name}" ]] || die "${name} not built: run '$0 install'"; done
  ports_free "$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$KCM_PORT" "$SCHED_PORT" "$KWOK_PORT"
  prepare_state
  local t0=$SECONDS
  DEADLINE=$((SECONDS + START_TIMEOUT))
  # A Ctrl-C stops what this start launched too.
  trap 'start_failed "interrupted"' INT TERM

  # etcd over plain HTTP: it only listens on loopback and only the apiserver talks to it.
  launch etcd --name=streamforge --data-dir="${STATE_DIR}/etcd" \
    --listen-client-urls="http://127.0.0.1:${ETCD_CLIENT_PORT}" \
    --advertise-client-urls="http://127.0.0.1:${ETCD_CLIENT_PORT}" \
    --listen-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-advertise-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster="streamforge=http://127.0.0.1:${ETCD_PEER_PORT}" \
    --log-level=warn
  ready etcd healthy "http://127.0.0.1:${ETCD_CLIENT_PORT}/health"

  # Workaround: --endpoint-reconciler-type=none: the "kubernetes" Endpoints may not hold a
  # loopback IP, and nothing in-cluster can reach the host anyway.
  # GenericWorkload (beta, off by default in v1.37: pkg/features/kube_features.go) keeps a pod's
  # schedulingGroup, which the API server drops while it is off (pkg/api/pod/util.go
  # dropDisabledSchedulingGroup): the attack tier tries the field as a cluster that turns it on.
  launch kube-apiserver \
    --bind-address=127.0.0.1 --secure-port="${APISERVER_PORT}" --advertise-address=127.0.0.1 \
    --endpoint-reconciler-type=none \
    --feature-gates=GenericWorkload=true \
    --etcd-servers="http://127.0.0.1:${ETCD_CLIENT_PORT}" \
    --client-ca-file="${PKI_DIR}/ca.crt" \
    --tls-cert-file="${PKI_DIR}/serving.crt" --tls-private-key-file="${PKI_DIR}/serving.key" \
    --authorization-mode=Node,RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="${PKI_DIR}/sa.pub" \
    --service-account-signing-key-file="${PKI_DIR}/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --allow-privileged=true \
    --audit-policy-file="$AUDIT_POLICY" --audit-log-path="$AUDIT_LOG" --audit-log-format=json \
    --audit-log-maxsize=100 --audit-log-maxbackup=2 \
    --profiling=false
  ready kube-apiserver kubectl_ get --raw=/readyz

  # No --authentication/--authorization-kubeconfig for controller-manager and
  # scheduler: their ports only serve /healthz (always allowed) to this host,
  # and delegated auth would want a front-proxy CA we do not need.
  launch kube-controller-manager \
    --kubeconfig="${STATE_DIR}/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="${KCM_PORT}" \
    --tls-cert-file="${PKI_DIR}/serving.crt" --tls-private-key-file="${PKI_DIR}/serving.key" \
    --controllers='*' --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="${PKI_DIR}/sa.key" --root-ca-file="${PKI_DIR}/ca.crt" \
    --cluster-signing-cert-file="${PKI_DIR}/ca.crt" --cluster-signing-key-file="${PKI_DIR}/ca.key" \
    --profiling=false

  # Without a scheduler, Pods never get a node, so kwok would never see them.
  launch kube-scheduler \
    --kubeconfig="${STATE_DIR}/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="${SCHED_PORT}" \
    --tls-cert-file="${PKI_DIR}/serving.crt" --tls-private-key-file="${PKI_DIR}/serving.key" \
    --leader-elect=false --profiling=false

  kwok_drop_lease "$KWOK_NODE" kubectl_ || start_failed "could not delete the stale node lease"

  # Workaround: options go on the command line: kwok v0.8.0 skips its defaults (all the
  # parallelism settings) for a KwokConfiguration read from a file, so that
  # file holds only the Stages. Pod IPs are fake, away from the 10.0.0.0/24
  # service range; nothing listens on them.
  launch kwok --kubeconfig="${STATE_DIR}/kwok.kubeconfig" --config="${STATE_DIR}/kwok.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds=40 --cidr=10.244.0.1/16 \
    --server-address="127.0.0.1:${KWOK_PORT}"

  ready kube-controller-manager healthy "https://127.0.0.1:${KCM_PORT}/healthz"
  ready kube-scheduler healthy "https://127.0.0.1:${SCHED_PORT}/healthz"
  ready kwok healthy "http://127.0.0.1:${KWOK_PORT}/healthz"

  # One fake node, managed by kwok (selected by annotation). No taint: it is the
  # only node, so ordinary workloads should land on it without tolerations.
  kubectl_ apply -f - >/dev/null <<NODE || start_failed "could not create node ${KWOK_NODE}"
apiVersion: v1
kind: Node
metadata:
  name: ${KWOK_NODE}
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: ${KWOK_NODE}
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
NODE
  # The node's status may be left over from an earlier run: wait for the new
  # kwok to hold the lease too.
  ready "kwok to manage ${KWOK_NODE}" node_managed

  install_crds || start_failed "installing CRDs from ${CRDS_DIR} failed"
  trap - INT TERM
  log "ready in $((SECONDS - t0))s; use: eval \"\$($0 env)\""
}

# Upstream CRDs the platform's manifests rely on (Strimzi, Argo Rollouts, Litmus).
install_crds() {
  # The platform is defined as having them: without them every Strimzi object would be refused.
  if [[ ! -d "$CRDS_DIR" ]]; then
    log "no CRD directory ${CRDS_DIR}: set STREAMFORGE_CRDS_DIR to the upstream CRD YAML (shared/crds)"
    return 1
  fi
  local f files=()
  # litmus/faults holds ChaosExperiment objects, not CRDs: skip it. Apply only
  # files that define CRDs, so stray resources never need CRDs to exist first.
  while IFS= read -r f; do
    grep -q '^kind: CustomResourceDefinition' "$f" && files+=("$f")
  done < <(find "$CRDS_DIR" -path '*/litmus/faults' -prune -o -type f \( -name '*.yaml' -o -name '*.yml' \) -print | sort)
  ((${#files[@]})) || { log "no CustomResourceDefinition found under ${CRDS_DIR}"; return 1; }
  for f in "${files[@]}"; do
    kubectl_ apply --server-side --force-conflicts -f "$f" >/dev/null || { log "kubectl apply failed: ${f}"; return 1; }
  done
  local args=()
  for f in "${files[@]}"; do args+=(-f "$f"); done
  kubectl_ wait --for=condition=Established "${args[@]}" --timeout=60s >/dev/null || return 1
  log "installed ${#files[@]} CRD files from ${CRDS_DIR}"
}

cmd_stop() {
  local i
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do stop_recorded "$STOP_TIMEOUT" "${RUN_DIR}/${DAEMONS[i]}.pid"; done
}

cmd_status() {
  local name all=0
  for name in "${DAEMONS[@]}"; do status_line "$name" "${RUN_DIR}/${name}.pid" || all=3; done
  return "$all"
}

cmd_env() {
  echo "export KUBECONFIG=${KUBECONFIG_FILE}"
  echo "export KUBE_AUDIT_LOG=${AUDIT_LOG}"
  # The kubectl built with the control plane, matching its version.
  echo "export PATH=${BIN_DIR}:\$PATH"
}

dispatch "$@"
