#!/usr/bin/env bash
# actionlint (rhysd/actionlint), the linter of GitHub Actions workflows, for the test command:
# built from its Go module (github.com/rhysd/actionlint) and cached by version, with Debian's
# ShellCheck unpacked beside it so that the `run:` scripts are checked the same way on every
# machine (actionlint runs ShellCheck on them when it is given one). Nothing is started.
#
# Usage: local/actionlint.sh install|env|status
#   install  build actionlint and unpack shellcheck (cached; a no-op when done)
#   status   the binaries and their versions; exit 3 when not installed
#   eval "$(local/actionlint.sh env)"   # ACTIONLINT, ACTIONLINT_SHELLCHECK
#
# Lint the workflows as the test tier does (test/integration/workflows.itest.ts):
#   "$ACTIONLINT" -no-color -shellcheck="$ACTIONLINT_SHELLCHECK" -pyflakes= .github/workflows/*.yml
#
# Environment (all optional):
#   STREAMFORGE_CACHE   cache root (default ${XDG_CACHE_HOME:-~/.cache}/streamforge, shared by every
#                       clone); binary in actionlint/<version>/actionlint, build log in
#                       actionlint/<version>/logs, shellcheck in actionlint/shellcheck/<deb version>/root
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# ---- pinned versions -------------------------------------------------------
ACTIONLINT_VERSION="v1.7.12"
MODULE="github.com/rhysd/actionlint"
MAIN_PKG="${MODULE}/cmd/actionlint"
# Its go.mod says `go 1.25.0` and has no replace directives, so `go install pkg@version` builds it
# with the machine's Go: no wrapper module, no GOTOOLCHAIN.
SHELLCHECK_PKG="shellcheck"

# ---- locations -------------------------------------------------------------
# shellcheck source=lib/piece.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/piece.sh"
# shellcheck source=lib/go-build.sh
source "${LOCAL}/lib/go-build.sh"
# shellcheck source=lib/debian-package.sh
source "${LOCAL}/lib/debian-package.sh"
piece actionlint
CACHE_ROOT="${CACHE}/actionlint"
CACHE_DIR="${CACHE_ROOT}/${ACTIONLINT_VERSION}"
BIN="${CACHE_DIR}/actionlint"
BUILT_MARKER="${CACHE_DIR}/build.done"   # written last: a binary without it is rebuilt
SHELLCHECK_DIR="${CACHE_ROOT}/shellcheck"
# for local/lib/go-build.sh (the scratch dir sits beside BIN: the final move is a rename)
GO_BUILD_WHAT="actionlint ${ACTIONLINT_VERSION}"
GO_BUILD_DIR="${CACHE_DIR}/build.partial"
GO_BUILD_LOG="${CACHE_DIR}/logs/build.log"

# shellcheck disable=SC2012  # paths under our cache: version-sorted ls is enough
shellcheck_bin() { ls "${SHELLCHECK_DIR}"/*/root/usr/bin/shellcheck 2>/dev/null | sort -V | tail -n 1; }

# ============================================================================
# install (gomod, go_build_*, go_module_download: local/lib/go-build.sh)
# ============================================================================

install_shellcheck() {
  install_debian_package "$SHELLCHECK_PKG" "$SHELLCHECK_DIR" shellcheck_bin
  "$(shellcheck_bin)" --version >/dev/null || die "the unpacked shellcheck does not run"
}

# -X version: what -version reports (upstream's release flags; without it the module version
# is read from the build info, which says the same for `go install pkg@version`).
install_actionlint() {
  go_install_built "$MODULE" "$MAIN_PKG" "$ACTIONLINT_VERSION" "-s -w -X ${MODULE}.version=${ACTIONLINT_VERSION}" \
    "$ACTIONLINT_VERSION" -version
}

cmd_install() {
  install_shellcheck
  install_actionlint
}

# ============================================================================
# env / status
# ============================================================================

cmd_env() {
  local sc
  sc="$(shellcheck_bin)"
  [[ -x "$BIN" && -f "$BUILT_MARKER" && -n "$sc" ]] || die "not installed: run ${LOCAL}/actionlint.sh install"
  echo "export ACTIONLINT=${BIN}"
  echo "export ACTIONLINT_SHELLCHECK=${sc}"
}

cmd_status() {
  local sc
  sc="$(shellcheck_bin)"
  if [[ -x "$BIN" && -f "$BUILT_MARKER" ]]; then
    printf '%-24s built    %s %s\n' actionlint "$("$BIN" -version | head -n 1)" "$BIN"
  else
    printf '%-24s not built\n' actionlint
  fi
  if [[ -n "$sc" ]]; then
    printf '%-24s unpacked %s %s\n' shellcheck "$("$sc" --version | sed -n 's/^version: //p')" "$sc"
  else
    printf '%-24s not unpacked\n' shellcheck
  fi
  [[ -x "$BIN" && -f "$BUILT_MARKER" && -n "$sc" ]] || return 3
}

dispatch "$@"
