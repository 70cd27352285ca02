# shellcheck shell=bash
# Debian packages unpacked into the cache, for pieces that need a package's files but not the
# package installed (no root, no service, nothing changed on the machine). Sourced, not run.

# unpack_debian_package PKG DIR: `apt-get download` PKG and unpack it into DIR/<version>/root,
# swapped in whole; prints the version. Logs and dies through the caller's `log` and `die`.
unpack_debian_package() {
  local pkg="$1" dir="$2" tmp version
  command -v apt-get >/dev/null || die "prerequisite 'apt-get' not found: ${pkg} comes from Debian's package"
  mkdir -p "${dir}"
  tmp="$(mktemp -d)"
  if ! (cd "${tmp}" && apt-get download "${pkg}" >"${tmp}/apt.log" 2>&1); then
    log "apt-get download failed; refreshing the package lists once"
    apt-get update -qq >/dev/null 2>&1 || true
    (cd "${tmp}" && apt-get download "${pkg}" >"${tmp}/apt.log" 2>&1) || { cat "${tmp}/apt.log" >&2; rm -rf "${tmp}"; die "could not download Debian's ${pkg} package"; }
  fi
  version="$(dpkg-deb -f "${tmp}"/"${pkg}"_*.deb Version)"
  mkdir -p "${dir}/${version}.partial/root"
  dpkg-deb -x "${tmp}"/"${pkg}"_*.deb "${dir}/${version}.partial/root"
  rm -rf "${dir:?}/${version}"
  mv "${dir}/${version}.partial" "${dir}/${version}"
  rm -rf "${tmp}"
  echo "${version}"
}
