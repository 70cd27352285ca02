# shellcheck shell=bash
# Helpers for the local platform's scripts that build a binary from its Go module and cache it
# by version (sourced, not run; used by rollouts.sh and toxiproxy.sh).
#
# The sourcing script defines log() and die() (its own prefix) and sets, before calling them:
#   GO_BUILD_WHAT  what is built, for messages ("rollouts-controller v1.10.2")
#   GO_BUILD_DIR   scratch directory of one build, removed when the build fails or lands
#   GO_BUILD_LOG   the build log (its directory is created by go_build_start)
# A finished binary reaches its cache path only through go_build_publish (one rename), so an
# interrupted build never leaves a binary that looks complete.

# gomod ARGS...: go outside any Go module, so the caller's directory (this repo's, say) cannot
# interfere with module queries or `go install pkg@version`.
gomod() { (cd / && go "$@"); }

# go_build_start: a fresh scratch directory and an empty build log.
go_build_start() {
  rm -rf "$GO_BUILD_DIR"
  mkdir -p "$GO_BUILD_DIR" "$(dirname "$GO_BUILD_LOG")"
  : >"$GO_BUILD_LOG"
}

# go_build_fail WHY: show the build log's tail, drop the partial build, exit.
go_build_fail() {
  log "$1; last lines of ${GO_BUILD_LOG}:"
  tail -n 30 "$GO_BUILD_LOG" >&2 || true
  rm -rf "$GO_BUILD_DIR"
  die "building ${GO_BUILD_WHAT} failed; full log: ${GO_BUILD_LOG}"
}

# go_module_download MODULE VERSION: fetch the module through the Go module proxy and set
# GO_MODULE_DIR (its read-only source in the module cache) and GO_MODULE_GOMOD (its go.mod).
# A refusal by the proxy (403, unknown version) fails the build naming the module. Needs jq.
go_module_download() {
  local info err
  # (Prints JSON with an Error field, and exits non-zero, when the proxy refuses.)
  info="$(gomod mod download -json "$1@$2" 2>>"$GO_BUILD_LOG")" || true
  [[ -n "$info" ]] || info='{}'
  err="$(jq -r '.Error // empty' <<<"$info" 2>/dev/null || true)"
  GO_MODULE_DIR="$(jq -r '.Dir // empty' <<<"$info" 2>/dev/null || true)"
  GO_MODULE_GOMOD="$(jq -r '.GoMod // empty' <<<"$info" 2>/dev/null || true)"
  if [[ -n "$err" || ! -d "$GO_MODULE_DIR" || ! -f "$GO_MODULE_GOMOD" ]]; then
    printf '%s\n' "${err:-no module directory in: ${info:-(no output)}}" >>"$GO_BUILD_LOG"
    go_build_fail "could not download $1@$2"
  fi
}

# go_build_publish BUILT DEST: move the finished binary to its cache path (a rename on the same
# file system) and drop the scratch directory.
go_build_publish() {
  mkdir -p "$(dirname "$2")"
  mv -f "$1" "$2"
  rm -rf "$GO_BUILD_DIR"
}
