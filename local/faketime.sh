#!/usr/bin/env bash
# libfaketime from Debian's package, extracted into the cache (no root, nothing installed): it
# lets a test run a process whose wall clock is minutes off the machine's, with its timers left
# alone, e.g. the operator's clock-skew test:
#   LD_PRELOAD=$FAKETIME_LIB FAKETIME=+5m FAKETIME_DONT_FAKE_MONOTONIC=1 node ...
#
# Usage: local/faketime.sh install|env
set -euo pipefail

PKG=libfaketime
# shellcheck source=lib/piece.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/piece.sh"
# shellcheck source=lib/debian-package.sh
source "${LOCAL}/lib/debian-package.sh"
piece faketime
CACHE_DIR="${CACHE}/faketime"

# shellcheck disable=SC2012  # paths under our cache: version-sorted ls is enough
library() { ls "${CACHE_DIR}"/*/root/usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | sort -V | tail -n 1; }

cmd_install() { install_debian_package "$PKG" "$CACHE_DIR" library; }

cmd_env() {
  local lib
  lib="$(library)"
  [[ -n "${lib}" ]] || die "not installed: run ${LOCAL}/faketime.sh install"
  echo "export FAKETIME_LIB=${lib}"
}

dispatch "$@"
