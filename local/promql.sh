#!/usr/bin/env bash
# The `promql` CLI that litmus-go's promProbe runs: go-runner 3.28.0 downloads
# chaosnative/promql-cli 3.0.0-beta6 (litmus-go 3.28.0 build/Dockerfile L55-56) and runs it as
#   /bin/sh -c 'promql --host <endpoint> "<query>" --output csv'   (pkg/probe/promProbe.go L190-199)
# The tests run every probe query through that exact line with this binary.
#
# The module (github.com/nalbury/promql-cli, as its go.mod names it; chaosnative's fork) is not
# served by the Go module proxy (403 for both paths). With a git clone of
# github.com/chaosnative/promql-cli (STREAMFORGE_PROMQL_GIT), the real CLI is built from it at the
# tag, checked against the tag's commit. Without one (CI, a fresh machine), the model in
# local/promql-model is built instead: the same libraries at the same versions, following the
# CLI's source rule by rule for litmus-go's one command line (its header cites each rule); on this
# line the two print the same output and the same errors (measured with both built, `compare`).
# Dependencies come from the Go module proxy. Cached by version and kind.
#
# Usage: local/promql.sh install|env|compare
#   install   build promql (cached; a no-op when done): the real CLI from STREAMFORGE_PROMQL_GIT
#             when it is set, else the model
#   eval "$(local/promql.sh env)"   # PROMQL_BIN, PROMQL_KIND (upstream | model)
#   compare <prometheus url>        # both built: the same output for a set of queries, or a diff
#
# Environment:
#   STREAMFORGE_CACHE      cache root (default ${XDG_CACHE_HOME:-~/.cache}/streamforge); the binaries
#                          in promql/<version>/promql (upstream) and promql/<version>/model/promql
#   STREAMFORGE_PROMQL_GIT the git directory to build the real CLI from (install only)
set -euo pipefail

PROMQL_VERSION="3.0.0-beta6"
# The tag's commit in chaosnative/promql-cli: a moved tag is refused.
PROMQL_COMMIT="d0b2aa5e4b4c8ca8c79b6a0e323462f8e090d587"

# shellcheck source=lib/piece.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/piece.sh"
piece promql
CACHE_DIR="${CACHE}/promql/${PROMQL_VERSION}"
BIN="${CACHE_DIR}/promql"
BUILT_MARKER="${CACHE_DIR}/build.done"
MODEL_DIR="${CACHE_DIR}/model"
MODEL_BIN="${MODEL_DIR}/promql"
MODEL_SRC="${LOCAL}/promql-model"

# The model's build is keyed by its source, so an edit rebuilds it.
model_key() { cat "${MODEL_SRC}/main.go" "${MODEL_SRC}/go.mod" "${MODEL_SRC}/go.sum" | sha256sum | cut -c1-16; }

install_model() {
  local key
  key="$(model_key)"
  if [[ -x "$MODEL_BIN" && "$(cat "${MODEL_DIR}/build.done" 2>/dev/null)" == "$key" ]]; then
    log "the promql model already built (${MODEL_BIN})"
    return 0
  fi
  mkdir -p "$MODEL_DIR"
  log "building the promql model (local/promql-model; the real CLI needs STREAMFORGE_PROMQL_GIT)"
  (cd "$MODEL_SRC" && go build -trimpath -o "${MODEL_BIN}.partial" .) || die "go build of the model failed (output above)"
  mv "${MODEL_BIN}.partial" "$MODEL_BIN"
  echo "$key" >"${MODEL_DIR}/build.done"
  log "built ${MODEL_BIN}"
}

cmd_install() {
  if [[ -x "$BIN" && -f "$BUILT_MARKER" ]]; then
    log "promql ${PROMQL_VERSION} already built (${BIN})"
    return 0
  fi
  local git_dir="${STREAMFORGE_PROMQL_GIT:-}"
  if [[ -z "$git_dir" ]]; then
    install_model
    return 0
  fi
  local commit
  commit="$(git -C "$git_dir" rev-parse "${PROMQL_VERSION}^{commit}" 2>/dev/null)" ||
    die "${git_dir} has no tag ${PROMQL_VERSION}"
  [[ "$commit" == "$PROMQL_COMMIT" ]] || die "tag ${PROMQL_VERSION} is ${commit} in ${git_dir}, expected ${PROMQL_COMMIT}"
  local src="${CACHE_DIR}/src.partial"
  rm -rf "$src" && mkdir -p "$src"
  git -C "$git_dir" archive "$PROMQL_COMMIT" | tar -x -C "$src"
  log "building promql ${PROMQL_VERSION} (its dependencies from the Go module proxy)"
  (cd "$src" && GOFLAGS=-mod=mod go build -trimpath -o "${CACHE_DIR}/promql.partial" .) ||
    die "go build failed (output above)"
  mv "${CACHE_DIR}/promql.partial" "$BIN"
  rm -rf "$src"
  touch "$BUILT_MARKER"
  log "built ${BIN}"
}

cmd_env() {
  if [[ -x "$BIN" && -f "$BUILT_MARKER" ]]; then
    printf 'export PROMQL_BIN=%q\nexport PROMQL_KIND=upstream\n' "$BIN"
  elif [[ -x "$MODEL_BIN" && -f "${MODEL_DIR}/build.done" ]]; then
    printf 'export PROMQL_BIN=%q\nexport PROMQL_KIND=model\n' "$MODEL_BIN"
  else
    die "promql is not built: run local/promql.sh install"
  fi
}

# Both built: litmus-go's shell line with each, for queries that pass, fail to parse after the
# shell, and name no series; any difference is printed and fails.
cmd_compare() {
  local url="${1:?usage: $0 compare <prometheus url>}" q failed=0
  [[ -x "$BIN" && -x "$MODEL_BIN" ]] || die "compare needs both built (the real CLI and the model)"
  for q in 'up' 'sum(up)' "up{job='prometheus'}" 'up{job="prometheus"}' 'sum(rate(nothing_here[1m])) or vector(0)' 'nothing_here'; do
    if ! diff <(/bin/sh -c "$BIN --host $url \"$q\" --output csv" 2>&1; echo "exit $?") \
      <(/bin/sh -c "$MODEL_BIN --host $url \"$q\" --output csv" 2>&1; echo "exit $?"); then
      log "differs: $q"
      failed=1
    fi
  done
  ((failed == 0)) && log "the model and promql ${PROMQL_VERSION} answer the same"
  return "$failed"
}

dispatch "$@"
