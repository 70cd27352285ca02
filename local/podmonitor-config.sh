#!/usr/bin/env bash
# prometheus-operator's own config generation (its Go module, pinned below), built from
# local/podmonitor-config, and Prometheus's own Kubernetes discovery (local/podmonitor-config/discover,
# a module of its own: Debian's Prometheus is built without it), cached by the operator's version and
# the tools' source. The integration tests hand the generator a Prometheus resource and the
# PodMonitors the program renders, and start a Prometheus of their own with what it prints, fed by
# the discovery (test/integration/operated-prometheus.ts), so the PodMonitors' relabelling is what
# labels the scraped series. It starts nothing.
#
# Usage: local/podmonitor-config.sh install|env
#   install   build both (cached; a no-op when done)
#   eval "$(local/podmonitor-config.sh env)"   # PODMONITOR_CONFIG_BIN, KUBERNETES_DISCOVER_BIN, PROMETHEUS_BIN
#
# Environment:
#   STREAMFORGE_CACHE   cache root (default ${XDG_CACHE_HOME:-~/.cache}/streamforge); the binaries in
#                       podmonitor-config/<version>/<source key>/
set -euo pipefail

# The one version of the module the Go module proxy serves (checked 2026-12-06); go.mod pins it.
OPERATOR_VERSION="v0.85.0"

# shellcheck source=lib/piece.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/piece.sh"
piece podmonitor-config
SRC="${LOCAL}/podmonitor-config"
CACHE_ROOT="${CACHE}/podmonitor-config/${OPERATOR_VERSION}"

# Keyed by the source, so an edit of main.go or a bump in go.mod rebuilds it.
key() { cat "${SRC}"/*.go "${SRC}/go.mod" "${SRC}/go.sum" "${SRC}"/discover/*.go "${SRC}/discover/go.mod" "${SRC}/discover/go.sum" | sha256sum | cut -c1-16; }
bin_path() { echo "${CACHE_ROOT}/$(key)/podmonitor-config"; }

cmd_install() {
  local bin dir t0=$SECONDS
  bin="$(bin_path)"
  dir="$(dirname "$bin")"
  if [[ -x "$bin" && -f "${dir}/build.done" ]]; then
    log "already built (${bin})"
    return 0
  fi
  command -v go >/dev/null || die "go is required to build podmonitor-config"
  grep -q "^\sgithub.com/prometheus-operator/prometheus-operator ${OPERATOR_VERSION}\$" "${SRC}/go.mod" ||
    die "${SRC}/go.mod does not require prometheus-operator ${OPERATOR_VERSION}"
  mkdir -p "$dir"
  log "building against prometheus-operator ${OPERATOR_VERSION} (log ${dir}/build.log)"
  # -mod=readonly: go.sum pins every module; nice: the platform's other builds run beside it.
  # Both land only once both are built (the marker is written last).
  (cd "$SRC" && GOFLAGS="-mod=readonly -trimpath -buildvcs=false" CGO_ENABLED=0 \
    nice -n 10 go build -o "${bin}.partial" . &&
    cd discover && GOFLAGS="-mod=readonly -trimpath -buildvcs=false" CGO_ENABLED=0 \
    nice -n 10 go build -o "${dir}/kubernetes-discover" .) >"${dir}/build.log" 2>&1 ||
    { tail -n 30 "${dir}/build.log" >&2; die "go build failed; full log: ${dir}/build.log"; }
  mv -f "${bin}.partial" "$bin"
  printf 'prometheus-operator %s\n%s\nbuilt in %ss\n' "$OPERATOR_VERSION" "$(go version)" "$((SECONDS - t0))" >"${dir}/build.done"
  log "built in $((SECONDS - t0))s: ${bin}"
}

cmd_env() {
  local bin
  bin="$(bin_path)"
  [[ -x "$bin" && -f "$(dirname "$bin")/build.done" ]] || die "not built: run local/podmonitor-config.sh install"
  printf 'export PODMONITOR_CONFIG_BIN=%q\n' "$bin"
  printf 'export KUBERNETES_DISCOVER_BIN=%q\n' "$(dirname "$bin")/kubernetes-discover"
  printf 'export PROMETHEUS_BIN=%q\n' "$("${LOCAL}/prometheus.sh" binary)"
}

dispatch "$@"
