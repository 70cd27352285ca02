#!/usr/bin/env bash
# The `promql` CLI that litmus-go's promProbe runs: go-runner 3.28.0 downloads
# chaosnative/promql-cli 3.0.0-beta6 (litmus-go 3.28.0 build/Dockerfile L55-56) and runs it as
#   /bin/sh -c 'promql --host <endpoint> "<query>" --output csv'   (pkg/probe/promProbe.go L190-199)
# The tests run every probe query through that exact line with this binary.
#
# The module (github.com/nalbury/promql-cli, as its go.mod names it; chaosnative's fork) is not
# served by the Go module proxy (403 for both paths), so it is built from a git clone of
# github.com/chaosnative/promql-cli at the tag, checked against the tag's commit. Its own
# dependencies come from the Go module proxy. Cached by version.
#
# Usage: local/promql.sh install|env
#   install   build promql (cached; a no-op when done). Needs STREAMFORGE_PROMQL_GIT: a git
#             directory (a clone or mirror) of github.com/chaosnative/promql-cli holding the tag
#   eval "$(local/promql.sh env)"   # PROMQL_BIN
#
# Environment:
#   STREAMFORGE_CACHE      cache root (default ${XDG_CACHE_HOME:-~/.cache}/streamforge); the binary
#                          in promql/<version>/promql
#   STREAMFORGE_PROMQL_GIT the git directory to build from (install only)
set -euo pipefail

PROMQL_VERSION="3.0.0-beta6"
# The tag's commit in chaosnative/promql-cli: a moved tag is refused.
PROMQL_COMMIT="d0b2aa5e4b4c8ca8c79b6a0e323462f8e090d587"

CACHE_DIR="${STREAMFORGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/streamforge}/promql/${PROMQL_VERSION}"
BIN="${CACHE_DIR}/promql"
BUILT_MARKER="${CACHE_DIR}/build.done"

log() { printf '[promql] %s\n' "$*" >&2; }
die() { printf '[promql] ERROR: %s\n' "$*" >&2; exit 1; }

cmd_install() {
  if [[ -x "$BIN" && -f "$BUILT_MARKER" ]]; then
    log "promql ${PROMQL_VERSION} already built (${BIN})"
    return 0
  fi
  local git_dir="${STREAMFORGE_PROMQL_GIT:-}"
  [[ -n "$git_dir" ]] || die "STREAMFORGE_PROMQL_GIT is not set: point it at a git clone of github.com/chaosnative/promql-cli"
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
  [[ -x "$BIN" && -f "$BUILT_MARKER" ]] || die "promql is not built: run local/promql.sh install"
  printf 'export PROMQL_BIN=%q\n' "$BIN"
}

case "${1:-}" in
  install) cmd_install ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|env" >&2; exit 2 ;;
esac
