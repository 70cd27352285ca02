# shellcheck shell=bash
# Helpers for the local platform's scripts that build a binary from its Go module and cache it
# by version (sourced, not run; used by rollouts.sh, toxiproxy.sh and actionlint.sh).
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

# Workaround (wrapper modules, lib/workarounds.sh): k8s.io/kubernetes, argo-rollouts and
# pulumi/pkg carry replace directives, which `go install pkg@version` refuses; a wrapper module
# that requires the module and repeats them builds fine.
# upstream_replaces GOMOD [LOCAL]: the module's replace directives as `replace OLD => NEW` lines,
# read from its own go.mod (never hard-coded). A directive to a folder of its own repository
# cannot be repeated; LOCAL says what to do with one: `fail` (the default), `skip` (the version
# the wrapper requires is used) or a version (the same path at that published tag: Kubernetes'
# staging modules, k8s.io/api => k8s.io/api v0.37.2). Prints nothing and fails on a refused one.
upstream_replaces() {
  local gomod="$1" local_target="${2:-fail}"
  # Built as one array first: a refused directive fails before any line is printed.
  go mod edit -json "$gomod" | jq -r --arg local "$local_target" '
    [.Replace // [] | .[] |
    ("replace " + .Old.Path + (if .Old.Version then " " + .Old.Version else "" end) + " => ") as $head |
    if (.New.Path | test("^[./]")) then
      if $local == "skip" then empty
      elif $local == "fail" then error("\(.Old.Path) => \(.New.Path): a folder of the module'"'"'s own repository")
      else $head + .Old.Path + " " + $local end
    else $head + .New.Path + (if .New.Version then " " + .New.Version else "" end) end] | .[]'
}

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

# go_install_module MODULE PACKAGE VERSION LDFLAGS: a fresh build of `go install PACKAGE@VERSION`
# (a main package of MODULE) into GO_BUILD_DIR/bin, the module downloaded first so that a refusal
# by the module proxy names it. GOFLAGS is set whole so that a caller's -mod=vendor or the like
# cannot reach this build. Needs go and jq.
go_install_module() {
  command -v go >/dev/null || die "go is required to build ${GO_BUILD_WHAT}"
  command -v jq >/dev/null || die "jq is required (reads 'go mod download -json')"
  go_build_start
  log "resolving $1@$3"
  go_module_download "$1" "$3"
  log "building ${GO_BUILD_WHAT} (log ${GO_BUILD_LOG})"
  (cd / && GOBIN="${GO_BUILD_DIR}/bin" GOFLAGS="-trimpath -buildvcs=false -mod=mod" CGO_ENABLED=0 \
    nice -n 10 go install -ldflags "$4" "$2@$3") >>"$GO_BUILD_LOG" 2>&1 ||
    go_build_fail "'go install $2@$3' failed"
}

# go_build_check BUILT WANT ARGS...: `BUILT ARGS` runs and the first line it prints is WANT
# (its version, say), or the build fails.
go_build_check() {
  local out
  out="$("$1" "${@:3}" 2>>"$GO_BUILD_LOG")" || go_build_fail "the built ${GO_BUILD_WHAT} does not run"
  echo "$out" >>"$GO_BUILD_LOG"
  [[ "$(head -n 1 <<<"$out")" == "$2" ]] || go_build_fail "the built ${GO_BUILD_WHAT} reports '$(head -n 1 <<<"$out")', not '$2'"
}

# go_install_built MODULE PKG VERSION LDFLAGS WANT ARGS...: BIN (and its marker BUILT_MARKER)
# from `go install PKG@VERSION` unless built already; the built binary, run with ARGS, must print
# WANT first (go_build_check).
go_install_built() {
  local t0=$SECONDS built
  if [[ -x "$BIN" && -f "$BUILT_MARKER" ]]; then
    log "${GO_BUILD_WHAT} already built (${BIN})"
    return 0
  fi
  go_install_module "$1" "$2" "$3" "$4"
  built="${GO_BUILD_DIR}/bin/${2##*/}" # go install names it after the package's last element
  go_build_check "$built" "$5" "${@:6}"
  go_build_land "$built" "$BIN" "$BUILT_MARKER" "$1" "$3" "$t0"
}

# go_build_land BUILT DEST MARKER MODULE VERSION SINCE: publish the checked binary, then write the
# marker that says the build finished (a binary without it is rebuilt), with how long it took
# since SECONDS was SINCE.
go_build_land() {
  local took=$((SECONDS - $6))
  go_build_publish "$1" "$2"
  printf 'module %s@%s\n%s\nbuilt in %ss\n' "$4" "$5" "$(go version)" "$took" >"$3.tmp"
  mv -f "$3.tmp" "$3"
  echo "built in ${took}s" >>"$GO_BUILD_LOG"
  log "built ${GO_BUILD_WHAT} in ${took}s ($(du -h "$2" | cut -f1)): $2"
}
