# shellcheck shell=bash
# The base images local/operator-image.sh builds operator/Dockerfile from (sourced by it, after its
# settings; its `install` calls install_tools, install_bases).
#
# The Dockerfile takes its base images as build arguments (BUILD_BASE, RUNTIME_BASE), pinned by
# digest to the public node and distroless images. Those cannot be pulled here, so these are
# made locally as stand-ins for them:
#   localhost/streamforge/build-base:node<V>    Debian bookworm (debootstrap, minbase, slimmed
#                                               as the -slim images are) + Node <V> at
#                                               /usr/local/bin/node + npm, as node:<V>-bookworm-slim
#   localhost/streamforge/runtime-base:node<V>  distroless-like: only the C/C++ runtime
#                                               (libc6, libgcc-s1, libstdc++6 from that rootfs),
#                                               tzdata, /etc/passwd with nonroot (65532), Node <V>
#                                               at /nodejs/bin/node as ENTRYPOINT, user 65532; no
#                                               shell, no package manager
# Node comes from the npm registry (the `node` package, as scripts/toolchain.sh does), npm too.
# The Debian packages come from the mirror the machine's apt sources already name.

# ============================================================================
# install: the tools
# ============================================================================

install_tools() {
  local missing=()
  command -v buildah >/dev/null || missing+=(buildah)
  command -v podman >/dev/null || missing+=(podman)
  [[ -x "$RUNC" ]] || missing+=(runc)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  ((${#missing[@]} == 0)) && return 0
  ((EUID == 0)) || die "step 'install tools' failed: ${missing[*]} missing, and only root may apt-get install them (run as root, or: sudo apt-get install -y ${missing[*]})"
  step "apt-get install ${missing[*]}" "${LOG_DIR}/install.log"
  log "installing ${missing[*]} with apt-get"
  logged apt-get update || fail "apt-get update"
  DEBIAN_FRONTEND=noninteractive logged apt-get install -y --no-install-recommends "${missing[@]}" ||
    fail "apt-get install ${missing[*]}"
}

# ============================================================================
# install: the cached pieces (each lands in its cache directory by one rename)
# ============================================================================

# debian_mirror: the first Debian mirror the machine's apt sources name for the suite's main
# component (deb822 .sources or one-line .list), so no mirror is written into this repository.
debian_mirror() {
  if [[ -n "${STREAMFORGE_DEBIAN_MIRROR:-}" ]]; then
    echo "$STREAMFORGE_DEBIAN_MIRROR"
    return 0
  fi
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    uri="$(awk -v suite="$DEBIAN_SUITE" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && (" " comps " ") ~ / main / && enabled != "no" && uris != "")
          { split(uris, u, " "); print u[1]; found = 1; exit }
        types = suites = comps = uris = ""; enabled = "yes"
      }
      BEGIN { enabled = "yes" }
      /^[[:space:]]*$/ { flush(); next }
      /^[[:space:]]*#/ { next }
      { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
        if (key == "types") types = $0; else if (key == "uris") uris = $0
        else if (key == "suites") suites = $0; else if (key == "components") comps = $0
        else if (key == "enabled") enabled = tolower($0) }
      END { if (!found) flush() }' "$f")"
    [[ -n "$uri" ]] && { echo "$uri"; return 0; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    uri="$(sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
      awk -v suite="$DEBIAN_SUITE" '$1 == "deb" && $3 == suite { for (i = 4; i <= NF; i++) if ($i == "main") { print $2; exit } }')"
    [[ -n "$uri" ]] && { echo "$uri"; return 0; }
  done
  return 1
}

# A Debian bookworm minbase rootfs, slimmed as the -slim images are (no docs but copyrights, no
# man pages or locales, no apt lists or downloaded packages) and with an empty /dev.
install_rootfs() {
  [[ -f "${ROOTFS_DIR}/.complete" ]] && return 0
  step "debootstrap ${DEBIAN_SUITE}" "${LOG_DIR}/rootfs.log"
  local mirror partial="${ROOTFS_DIR}.partial" t0=$SECONDS
  mirror="$(debian_mirror)" || fail "no Debian mirror for '${DEBIAN_SUITE} main' in /etc/apt/sources.list or /etc/apt/sources.list.d/ (set STREAMFORGE_DEBIAN_MIRROR)"
  log "debootstrap --variant=minbase ${DEBIAN_SUITE} from ${mirror} (log ${STEP_LOG})"
  rm -rf "$partial"
  mkdir -p "$partial"
  logged debootstrap --variant=minbase --force-check-gpg "$DEBIAN_SUITE" "${partial}/rootfs" "$mirror" ||
    fail "debootstrap --variant=minbase ${DEBIAN_SUITE} ${mirror}"
  local r="${partial}/rootfs"
  [[ -x "${r}/usr/bin/dpkg" && -n "$(find "${r}/usr/lib" -maxdepth 2 -name libc.so.6)" ]] || fail "the rootfs has no dpkg or libc"
  find "${r}/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "${r}/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "${r}"/usr/share/{man,info,groff,lintian,linda} "${r}/usr/share/locale"/*
  rm -rf "${r:?}"/var/lib/apt/lists/* "${r:?}"/var/cache/apt/* "${r:?}"/var/cache/debconf/*-old "${r:?}"/var/log/* "${r:?}"/dev/* "${r:?}"/tmp/*
  # As the -slim images: later package installs skip docs too.
  cat >"${r}/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  echo "debootstrap --variant=minbase ${DEBIAN_SUITE} ${mirror} $(date -u +%FT%TZ)" >"${partial}/.complete"
  rm -rf "$ROOTFS_DIR"
  mv "$partial" "$ROOTFS_DIR"
  log "Debian ${DEBIAN_SUITE} rootfs ready in $((SECONDS - t0)) s ($(du -sh "${ROOTFS_DIR}/rootfs" | cut -f1))"
}

# Node from the npm registry's `node` package (its install pulls the platform's binary package),
# as scripts/toolchain.sh does; only the binary and its licence are kept.
install_node() {
  [[ -x "${NODE_DIR}/node" ]] && return 0
  step "Node ${NODE_VERSION} from the npm registry" "${LOG_DIR}/node.log"
  command -v npm >/dev/null || fail "npm is needed to fetch Node ${NODE_VERSION} (source scripts/toolchain.sh)"
  local partial="${NODE_DIR}.partial" bin licence
  rm -rf "$partial"
  mkdir -p "${partial}/pkg"
  # From the cache dir: no project .npmrc applies.
  (cd "$partial" && logged npm install --prefix "${partial}/pkg" --no-save --no-audit --no-fund --loglevel=error "node@${NODE_VERSION}") ||
    fail "npm install node@${NODE_VERSION}"
  bin="$(readlink -f "${partial}/pkg/node_modules/.bin/node" 2>/dev/null || true)"
  [[ -x "$bin" ]] || fail "node@${NODE_VERSION} installed no node binary"
  [[ "$("$bin" -v 2>>"$STEP_LOG")" == "v${NODE_VERSION}" ]] || fail "the fetched node binary is not v${NODE_VERSION}"
  cp "$bin" "${partial}/node"
  licence="$(find "${partial}/pkg/node_modules" -maxdepth 4 -path '*/node-linux-*/LICENSE' | head -n 1)"
  if [[ -n "$licence" ]]; then cp "$licence" "${partial}/LICENSE"; fi
  rm -rf "${partial}/pkg"
  rm -rf "$NODE_DIR"
  mv "$partial" "$NODE_DIR"
  log "Node ${NODE_VERSION} ready (${NODE_DIR}/node)"
}

# npm itself, the version Node bundles, for the build base (npm ci in the Dockerfile).
install_npm() {
  [[ -f "${NPM_DIR}/npm/bin/npm-cli.js" ]] && return 0
  step "npm ${NPM_VERSION} from the npm registry" "${LOG_DIR}/npm.log"
  local partial="${NPM_DIR}.partial" tgz
  rm -rf "$partial"
  mkdir -p "${partial}/npm"
  tgz="$(cd "$partial" && npm pack --silent --pack-destination "$partial" "npm@${NPM_VERSION}" 2>>"$STEP_LOG" | tail -n 1)" ||
    fail "npm pack npm@${NPM_VERSION}"
  [[ -f "${partial}/${tgz}" ]] || fail "npm pack npm@${NPM_VERSION} left no tarball"
  logged tar -xzf "${partial}/${tgz}" -C "${partial}/npm" --strip-components=1 || fail "unpacking ${tgz}"
  rm -f "${partial}/${tgz}"
  rm -rf "$NPM_DIR"
  mv "$partial" "$NPM_DIR"
  log "npm ${NPM_VERSION} ready"
}

# ============================================================================
# install: the two base stand-ins, committed as local images
# ============================================================================

# reject IMAGE WHY: a committed stand-in failed its check: remove it (so it is not taken as done), fail.
reject() {
  buildah rmi "$1" >/dev/null 2>&1 || true
  fail "$2"
}

# standin_current IMAGE: the image exists and was made by this recipe.
standin_current() { image_exists "$1" && [[ "$(image_label "$1" "$RECIPE_LABEL")" == "$RECIPE" ]]; }

# commit_standin IMAGE FILL CONFIG...: a scratch container, filled by `FILL MNT` (its rootfs
# mounted at MNT), given `buildah config CONFIG...`, PATH and the recipe label, committed as IMAGE.
commit_standin() {
  local image="$1" fill="$2" ctr mnt
  shift 2
  step "commit ${image}" "${LOG_DIR}/bases.log"
  ctr="$(buildah from --pull=never scratch 2>>"$STEP_LOG")" || fail "buildah from scratch"
  mnt="$(buildah mount "$ctr" 2>>"$STEP_LOG")" || { buildah rm "$ctr" >/dev/null 2>&1; fail "buildah mount"; }
  "$fill" "$mnt" >>"$STEP_LOG" 2>&1 || { buildah umount "$ctr" >/dev/null 2>&1; buildah rm "$ctr" >/dev/null 2>&1; fail "filling the rootfs"; }
  buildah umount "$ctr" >/dev/null
  {
    buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@" \
      --label "${RECIPE_LABEL}=${RECIPE}" --os linux "$ctr" &&
      buildah commit --rm --quiet "$ctr" "$image"
  } >>"$STEP_LOG" 2>&1 || { buildah rm "$ctr" >/dev/null 2>&1; fail "buildah config/commit"; }
}

# fill_build_rootfs MNT: the rootfs, node and npm in /usr/local. A bind copy with owners and
# modes (buildah copy would chown everything to root).
fill_build_rootfs() {
  cp -a "${ROOTFS_DIR}/rootfs/." "$1/" &&
    install -D -m 0755 "${NODE_DIR}/node" "$1/usr/local/bin/node" &&
    mkdir -p "$1/usr/local/lib/node_modules" &&
    cp -a "${NPM_DIR}/npm" "$1/usr/local/lib/node_modules/npm" &&
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" &&
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"
}

# The build base: as node:<V>-bookworm-slim (Debian slim + node and npm in /usr/local, root).
commit_build_base() {
  standin_current "$BUILD_BASE" && return 0
  commit_standin "$BUILD_BASE" fill_build_rootfs --env NODE_VERSION="$NODE_VERSION" --cmd '["node"]' --workingdir /
  step "check ${BUILD_BASE}" "${LOG_DIR}/bases.log"
  logged "${PODMAN_RUN[@]}" --rm "$BUILD_BASE" sh -c 'node -v && npm -v' 8>&- || reject "$BUILD_BASE" "node -v && npm -v in the build base failed"
  log "committed ${BUILD_BASE} ($(mib "$(image_size "$BUILD_BASE")"))"
}

# fill_runtime_rootfs MNT: the runtime base's files, into MNT (a mounted scratch container).
fill_runtime_rootfs() {
  local mnt="$1" r="${ROOTFS_DIR}/rootfs" l pkg list f
  # merged /usr: the top-level links first, so package paths under /lib land in /usr/lib.
  for l in bin sbin lib lib32 lib64 libx32; do
    if [[ -L "${r}/${l}" ]]; then cp -a "${r}/${l}" "${mnt}/${l}" && mkdir -p "${mnt}/$(readlink "${r}/${l}")" || return 1; fi
  done
  mkdir -p "${mnt}/var/lib/dpkg/status.d" "${mnt}/etc" "${mnt}/usr/lib" || return 1
  for pkg in libc6 libgcc-s1 libstdc++6 tzdata; do
    list="$(find "${r}/var/lib/dpkg/info" -maxdepth 1 \( -name "${pkg}.list" -o -name "${pkg}:*.list" \) | head -n 1)"
    [[ -n "$list" ]] || { echo "package ${pkg} is not in the rootfs"; return 1; }
    # Files and links only (their directories come with them); what the slimming removed is skipped.
    (cd "$r" && while IFS= read -r path; do
      if [[ -L ".${path}" || -f ".${path}" ]]; then printf '%s\0' ".${path}"; fi
    done <"$list" | xargs -0 -r cp -a --parents -t "$mnt") || return 1
    dpkg-query --admindir="${r}/var/lib/dpkg" -s "$pkg" >"${mnt}/var/lib/dpkg/status.d/${pkg}" || return 1
  done
  for f in etc/localtime etc/timezone; do
    if [[ -e "${r}/${f}" || -L "${r}/${f}" ]]; then cp -a "${r}/${f}" "${mnt}/${f}" || return 1; fi
  done
  cp -a "${r}/usr/lib/os-release" "${mnt}/usr/lib/os-release" && ln -s ../usr/lib/os-release "${mnt}/etc/os-release" || return 1
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    "nonroot:x:${NONROOT_UID}:${NONROOT_UID}:nonroot:/home/nonroot:/sbin/nologin" >"${mnt}/etc/passwd" || return 1
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'tty:x:5:' 'staff:x:50:' "nonroot:x:${NONROOT_UID}:" >"${mnt}/etc/group" || return 1
  printf '%s\n' 'passwd: files' 'group: files' 'shadow: files' 'hosts: files dns' 'networks: files' \
    'protocols: files' 'services: files' 'ethers: files' 'rpc: files' >"${mnt}/etc/nsswitch.conf" || return 1
  install -d -m 1777 "${mnt}/tmp" && install -d -m 0700 "${mnt}/root" &&
    install -d -m 0700 -o "$NONROOT_UID" -g "$NONROOT_UID" "${mnt}/home/nonroot" &&
    install -D -m 0755 "${NODE_DIR}/node" "${mnt}/nodejs/bin/node" || return 1
  if [[ -f "${NODE_DIR}/LICENSE" ]]; then install -D -m 0644 "${NODE_DIR}/LICENSE" "${mnt}/nodejs/LICENSE" || return 1; fi
  # Nothing that could run a command or install a package.
  for f in bin/sh bin/bash bin/dash usr/bin/apt usr/bin/apt-get usr/bin/dpkg; do
    if [[ -e "${mnt}/${f}" ]]; then echo "/${f} ended up in the runtime base"; return 1; fi
  done
}

# The runtime base: as gcr.io/distroless/nodejs22-debian12:nonroot. From the rootfs it takes only
# the packages the node binary needs (libc6, libgcc-s1, libstdc++6) and tzdata, with their dpkg
# records in /var/lib/dpkg/status.d as distroless keeps them (for scanners); no shell, no apt.
commit_runtime_base() {
  standin_current "$RUNTIME_BASE" && return 0
  commit_standin "$RUNTIME_BASE" fill_runtime_rootfs --entrypoint '["/nodejs/bin/node"]' --user "$NONROOT_UID" --workingdir /home/nonroot
  step "check ${RUNTIME_BASE}" "${LOG_DIR}/bases.log"
  local out
  # Node runs as nonroot, reads tzdata, and resolves names through libc (nsswitch, /etc/hosts).
  out="$("${PODMAN_RUN[@]}" --rm --read-only "$RUNTIME_BASE" -e \
    'require("dns").lookup("localhost", { family: 4 }, (e, a) => console.log(process.version, process.getuid(), require("fs").existsSync("/usr/share/zoneinfo/UTC"), e ? e.code : a))' \
    2>>"$STEP_LOG" 8>&-)" || reject "$RUNTIME_BASE" "node in the runtime base does not run"
  echo "$out" >>"$STEP_LOG"
  [[ "$out" == "v${NODE_VERSION} ${NONROOT_UID} true 127.0.0.1" ]] || reject "$RUNTIME_BASE" "the runtime base printed '${out}', not 'v${NODE_VERSION} ${NONROOT_UID} true 127.0.0.1'"
  log "committed ${RUNTIME_BASE} ($(mib "$(image_size "$RUNTIME_BASE")"))"
}

# install_bases: the rootfs, Node and npm (independent downloads: side by side), then both stand-ins.
install_bases() {
  local t0=$SECONDS pids=() p failed=0
  install_rootfs &
  pids+=($!)
  install_node &
  pids+=($!)
  install_npm &
  pids+=($!)
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  ((failed == 0)) || die "installing the operator image's base stand-ins failed (see above)"
  commit_build_base
  commit_runtime_base
  log "base stand-ins installed in $((SECONDS - t0)) s"
}
