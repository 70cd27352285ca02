# shellcheck shell=bash
# The build of local/kube.sh's binaries from their Go modules, cached by version (sourced by
# it, after its settings; its `install` is kube_build).

# Workaround: k8s.io/kubernetes replaces its staging modules (k8s.io/api, ...) with local
# paths; the wrapper module replaces each with its published v0.X.Y tag (upstream_replaces,
# lib/go-build.sh).
# build_module NAME MAIN_MODULE VERSION LDFLAGS REPLACES PKG... -- BIN...
build_module() {
  local name="$1" module="$2" version="$3" ldflags="$4" replaces="$5"
  shift 5
  local pkgs=() bins=()
  while (($#)) && [[ "$1" != "--" ]]; do pkgs+=("$1"); shift; done
  shift
  bins=("$@")

  local stamp="${BIN_DIR}/.${name}.built"
  local want="${module}@${version}"
  local missing=0 b
  for b in "${bins[@]}"; do [[ -x "${BIN_DIR}/${b}" ]] || missing=1; done
  if ((missing == 0)) && [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "${name}: ${bins[*]} ${version} already built"
    return 0
  fi

  local dir="${SRC_DIR}/${name}"
  local out="${BIN_DIR}/.tmp-${name}"
  rm -rf "$dir" "$out" "$stamp"
  mkdir -p "$dir" "$out"
  {
    printf 'module streamforge.local/build/%s\n\ngo %s\n\n' "$name" "$(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1.0/')"
    printf '%s\n' "$replaces"
  } >"${dir}/go.mod"

  local t0=$SECONDS
  log "${name}: resolving ${want} (${pkgs[*]})"
  local get_args=() p
  for p in "${pkgs[@]}"; do get_args+=("${p}@${version}"); done
  if ! (cd "$dir" && go get "${get_args[@]}") >"${dir}/get.log" 2>&1; then
    tail -n 30 "${dir}/get.log" >&2
    rm -rf "$out"
    die "${name}: 'go get' failed for ${bins[*]} (${want}); full log: ${dir}/get.log"
  fi

  # One go build per module so the binaries share compilation. With a single
  # package the output file is named explicitly (etcd's main is the module root "v3").
  local target="${out}/"
  ((${#pkgs[@]} == 1)) && target="${out}/${bins[0]}"
  log "${name}: building ${bins[*]} (one go build; this takes minutes on a cold cache)"
  # nice: the machine is shared with other builds.
  if ! (cd "$dir" && GOFLAGS="-trimpath -buildvcs=false" CGO_ENABLED=0 \
        nice -n 10 go build -ldflags "-s -w ${ldflags}" -o "$target" "${pkgs[@]}") \
        >"${dir}/build.log" 2>&1; then
    tail -n 30 "${dir}/build.log" >&2
    rm -rf "$out"
    die "${name}: 'go build' failed for ${bins[*]} (${want}); full log: ${dir}/build.log"
  fi
  for b in "${bins[@]}"; do
    [[ -x "${out}/${b}" ]] || { rm -rf "$out"; die "${name}: go build produced no ${b}"; }
    mv -f "${out}/${b}" "${BIN_DIR}/${b}"
  done
  rm -rf "$out"
  # The stamp is written last: only a fully successful build counts as done.
  printf '%s' "$want" >"$stamp"
  log "${name}: built ${bins[*]} in $((SECONDS - t0))s"
}

kube_build() {
  command -v go >/dev/null || die "go is required to build the control plane"
  mkdir -p "$BIN_DIR" "$SRC_DIR"

  # --- kube-apiserver, kube-controller-manager, kubectl ---
  local kube_mod kube_replaces minor patch
  kube_mod="$(cd "$SRC_DIR" && go mod download -json "k8s.io/kubernetes@${KUBE_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [[ -f "$kube_mod" ]] || die "could not download k8s.io/kubernetes@${KUBE_VERSION}"
  minor="$(cut -d. -f2 <<<"$KUBE_VERSION")"
  patch="$(cut -d. -f3 <<<"$KUBE_VERSION")"
  # Every "k8s.io/x => ./staging/src/k8s.io/x" becomes "k8s.io/x => k8s.io/x v0.<minor>.<patch>".
  kube_replaces="$(upstream_replaces "$kube_mod" "v0.${minor}.${patch}")" || die "could not read the replaces of k8s.io/kubernetes@${KUBE_VERSION}"
  local vpkg vflags=""
  for vpkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    vflags+=" -X ${vpkg}.gitVersion=${KUBE_VERSION} -X ${vpkg}.gitMajor=1 -X ${vpkg}.gitMinor=${minor}"
    vflags+=" -X ${vpkg}.gitTreeState=clean -X ${vpkg}.buildDate=1970-01-01T00:00:00Z"
  done
  build_module kubernetes k8s.io/kubernetes "$KUBE_VERSION" "$vflags" "$kube_replaces" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl \
    -- kube-apiserver kube-controller-manager kube-scheduler kubectl

  # --- etcd: the server module's root package is the etcd main ---
  build_module etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "" "" \
    go.etcd.io/etcd/server/v3 -- etcd

  # --- kwok controller ---
  build_module kwok sigs.k8s.io/kwok "$KWOK_VERSION" \
    "-X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" "" \
    sigs.k8s.io/kwok/cmd/kwok -- kwok
  install_kwok_stages

  log "binaries in ${BIN_DIR}: $(cd "$BIN_DIR" && echo *)"
}

install_kwok_stages() {
  [[ -d "${CACHE_DIR}/kwok-stages" ]] && return 0
  local dir
  dir="$(cd "$SRC_DIR" && go mod download -json "sigs.k8s.io/kwok@${KWOK_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "${dir}/kustomize/stage" ]] || die "kwok: stage manifests not found in module ${dir}"
  rm -rf "${CACHE_DIR}/kwok-stages"
  mkdir -p "${CACHE_DIR}/kwok-stages.tmp"
  cp "${dir}/kustomize/stage/node/fast/node-initialize.yaml" \
     "${dir}/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
     "${dir}/kustomize/stage/pod/fast/pod-ready.yaml" \
     "${dir}/kustomize/stage/pod/fast/pod-complete.yaml" \
     "${dir}/kustomize/stage/pod/fast/pod-delete.yaml" "${CACHE_DIR}/kwok-stages.tmp/"
  chmod -R u+w "${CACHE_DIR}/kwok-stages.tmp"
  mv "${CACHE_DIR}/kwok-stages.tmp" "${CACHE_DIR}/kwok-stages"
}
