# shellcheck shell=bash
# Debian packages unpacked into the cache, for pieces that need a package's files but not the
# package installed (no root, no service, nothing changed on the machine). Sourced, not run.

# install_debian_package PKG DIR FIND: unpack PKG into DIR unless FIND (a function printing the
# path of the file the piece needs) already finds it.
install_debian_package() {
  [[ -z "$("$3")" ]] || return 0
  local version
  version="$(unpack_debian_package "$1" "$2")"
  [[ -n "$("$3")" ]] || die "Debian's $1 ${version} in $2/${version} has not the file this piece needs"
  log "installed $1 ${version} into $2/${version}"
}

# unpack_debian_package PKG DIR: download PKG (apt_download, lib/workarounds.sh) and unpack it
# into DIR/<version>/root, swapped in whole; prints the version.
unpack_debian_package() {
  local pkg="$1" dir="$2" tmp version
  command -v apt-get >/dev/null || die "prerequisite 'apt-get' not found: ${pkg} comes from Debian's package"
  mkdir -p "${dir}"
  tmp="$(mktemp -d)"
  apt_download "${pkg}" "${tmp}" || { cat "${tmp}/apt.log" >&2; rm -rf "${tmp}"; die "could not download Debian's ${pkg} package"; }
  version="$(dpkg-deb -f "${tmp}"/"${pkg}"_*.deb Version)"
  mkdir -p "${dir}/${version}.partial/root"
  dpkg-deb -x "${tmp}"/"${pkg}"_*.deb "${dir}/${version}.partial/root"
  rm -rf "${dir:?}/${version}"
  mv "${dir}/${version}.partial" "${dir}/${version}"
  rm -rf "${tmp}"
  echo "${version}"
}
