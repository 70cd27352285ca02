# shellcheck shell=bash
# Debian packages unpacked into the cache, for pieces that need a package's files but not the
# package installed (no root, no service, nothing changed on the machine). Sourced, not run.

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
