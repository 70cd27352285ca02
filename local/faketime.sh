#!/usr/bin/env bash
# libfaketime from Debian's package, extracted into the cache (no root, nothing installed): it
# lets a test run a process whose wall clock is minutes off the machine's, with its timers left
# alone, e.g. the operator's clock-skew test:
#   LD_PRELOAD=$FAKETIME_LIB FAKETIME=+5m FAKETIME_DONT_FAKE_MONOTONIC=1 node ...
#
# Usage: local/faketime.sh install|env
set -euo pipefail

PKG=libfaketime
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${STREAMFORGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/streamforge}/faketime"

# shellcheck source=lib/debian-package.sh
source "${HERE}/lib/debian-package.sh"

log() { printf '[faketime] %s\n' "$*" >&2; }
die() { printf '[faketime] ERROR: %s\n' "$*" >&2; exit 1; }

# shellcheck disable=SC2012  # paths under our cache: version-sorted ls is enough
library() { ls "${CACHE_DIR}"/*/root/usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | sort -V | tail -n 1; }

install() {
  if [[ -n "$(library)" ]]; then return 0; fi
  local version
  version="$(unpack_debian_package "${PKG}" "${CACHE_DIR}")"
  log "installed ${PKG} ${version} into ${CACHE_DIR}/${version}"
}

case "${1:-}" in
  install) install ;;
  env)
    lib="$(library)"
    [[ -n "${lib}" ]] || die "not installed: run ${HERE}/faketime.sh install"
    echo "export FAKETIME_LIB=${lib}"
    ;;
  *) echo "usage: $0 install|env" >&2; exit 2 ;;
esac
