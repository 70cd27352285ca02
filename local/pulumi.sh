#!/usr/bin/env bash
# Pulumi for the local platform, built from Go sources: the pulumi CLI, the Node.js language
# host and the provider plugins the repo's npm SDKs ask for. No prebuilt download is reachable
# here, so everything comes from the Go module proxy through `go` and is cached by version.
# State lives in a file backend; nothing talks to Pulumi Cloud.
#
# Usage: local/pulumi.sh install|env|status
#   local/pulumi.sh install          build every missing binary (versions from package-lock.json)
#   eval "$(local/pulumi.sh env)"    PATH, PULUMI_HOME, file backend, passphrase, offline switches
#   local/pulumi.sh status           wanted vs cached version and size of each binary
#
# Environment (all optional):
#   STREAMFORGE_CACHE   cache root (default ${XDG_CACHE_HOME:-~/.cache}/streamforge, shared by every clone); binaries in pulumi/bin/
#   STREAMFORGE_STATE   state root (default <repo>/.local/state); pulumi-home, pulumi-backend in pulumi/
#   STREAMFORGE_PULUMI_PASSPHRASE  passphrase of the local stacks' secrets (default: a fixed local one,
#                       so an encryptionsalt written into Pulumi.<stack>.yaml works on every machine)
#   STREAMFORGE_PULUMI_PROVIDERS   providers to build (default "kubernetes kafka random")
#
# Layout of pulumi/bin/: <name>-<version> is a finished build (it only appears there, by rename,
# once the build succeeded); <name> is a hard link to the build package-lock.json asks for, so
# PATH finds `pulumi`, `pulumi-language-nodejs` and `pulumi-resource-<pkg>`. Pulumi runs any
# `pulumi-resource-<pkg>` on PATH whatever version the SDK requests ("ambient" plugins), and with
# PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION it never tries to download a missing one.
#
# What the Go module proxy here serves (checked Nov 2026) and what that means:
#   - pulumi CLI: github.com/pulumi/pulumi/pkg/v3 at the exact version: built as is.
#   - Node.js language host: its module (.../sdk/nodejs/cmd/pulumi-language-nodejs/v3) is refused
#     at every version, so local/pulumi-language-nodejs/ holds a small host of our own, built
#     against github.com/pulumi/pulumi/sdk/v3 at the CLI's version.
#   - providers: built from github.com/pulumi/pulumi-<pkg>/provider/vN at the npm SDK's version;
#     when the proxy refuses that version the newest served one below it is built instead and
#     reported as such (pulumi-kubernetes: only a 2026-01-15 pseudo-version is served;
#     pulumi-kafka and pulumi-random: nothing is served, so those fail with the proxy's answer).
#
# Policy packs (`pulumi preview --policy-pack policy`): this CLI has no `pulumi-analyzer-policy`
# shim any more. For a pack directory it reads PulumiPolicy.yaml (`runtime: nodejs`) and asks that
# language host to RunPlugin with kind "analyzer" (pkg/resource/plugin ExecPlugin). Our host does
# it in local/pulumi-language-nodejs/runplugin.go as the official one does: node runs
# @pulumi/pulumi/cmd/run-policy-pack in the pack's folder behind the SDK's PolicyProxy, which
# passes the stack's name and config on. It is part of the host's build (its hash covers every
# .go file there), so `install` rebuilds the host when it changes (~2 s warm, ~2 min with a cold
# Go build cache) and nothing else is installed. @pulumi/policy reads the pack's version from
# policy/package.json.
set -euo pipefail

# shellcheck source=lib/piece.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/piece.sh"
piece pulumi
CACHE_DIR="$CACHE/pulumi"
BIN="$CACHE_DIR/bin"
BUILD_DIR="$CACHE_DIR/build"   # generated wrapper modules and writable provider sources
LOG_DIR="$CACHE_DIR/logs"
LOCK="$ROOT/package-lock.json"
LANGHOST_SRC="$LOCAL/pulumi-language-nodejs"

# Providers to build: @pulumi/<pkg> in package-lock.json -> github.com/pulumi/pulumi-<pkg>/provider/vN.
read -r -a PROVIDERS <<<"${STREAMFORGE_PULUMI_PROVIDERS:-kubernetes kafka random}"

# npm_version <package>: the version package-lock.json pins for node_modules/<package>.
npm_version() {
  local v
  v="$(jq -r --arg p "node_modules/$1" '.packages[$p].version // empty' "$LOCK")"
  [ -n "$v" ] || die "$1 is not in $LOCK"
  echo "$v"
}

provider_module() { # <pkg> <npm version>
  echo "github.com/pulumi/pulumi-$1/provider/v${2%%.*}"
}

# Workaround: served_version <module> <wanted vX.Y.Z>: the wanted version if the proxy serves it, else the
# newest listed version not newer than it, else the module's @latest (a pseudo-version when the
# module has no usable tags) if that is older. Prints nothing when the proxy serves none.
served_version() {
  local mod="$1" want="$2" v
  if gomod list -m -json "$mod@$want" >/dev/null 2>&1; then echo "$want"; return; fi
  v="$( { gomod list -m -versions "$mod" 2>/dev/null || true; } | tr ' ' '\n' | tail -n +2 |
        { grep -E '^v[0-9]+\.[0-9]+\.[0-9]+$' || true; } |
        awk -v w="$want" 'BEGIN { split(substr(w,2), W, ".") }
          { split(substr($0,2), V, ".")
            if (V[1] < W[1] || (V[1] == W[1] && (V[2] < W[2] || (V[2] == W[2] && V[3] <= W[3])))) print }' |
        sort -V | tail -1)"
  if [ -z "$v" ]; then
    v="$(gomod list -m -f '{{.Version}}' "$mod@latest" 2>/dev/null || true)"
    # Only an older latest is acceptable (never silently build something newer than pinned).
    [ -n "$v" ] && [ "$(printf '%s\n%s\n' "$v" "$want" | sort -V | head -1)" = "$v" ] || v=""
  fi
  echo "$v"
}

# why_not_served <module> <version>: the proxy's own answer, for error messages.
why_not_served() {
  gomod list -m -json "$1@$2" 2>&1 | grep -v '^{' | head -3 | sed 's/reading [^ ]*: //' | tr '\n' ' ' || true
}

# shellcheck source=lib/go-build.sh
source "$LOCAL/lib/go-build.sh" # gomod, upstream_replaces

langhost_hash() { cat "$LANGHOST_SRC"/*.go | sha256sum | cut -c1-8; }

# ---------------------------------------------------------------- what to build

# Each target: name|wanted version (package-lock.json)|version to build (what the proxy serves;
# empty if none)|origin module. Asks the proxy only for what is not cached yet.
resolve_targets() {
  TARGETS=()
  local pv cli lh_hash pkg npmv mod want got
  pv="v$(npm_version @pulumi/pulumi)"
  cli="$(cached_or_served pulumi "github.com/pulumi/pulumi/pkg/v3" "$pv")"
  TARGETS+=("pulumi|$pv|$cli|github.com/pulumi/pulumi/pkg/v3")
  lh_hash="$(langhost_hash)"
  # Built against the SDK of the CLI's version; the hash of our source is part of the name.
  TARGETS+=("pulumi-language-nodejs|$pv|${cli:+$cli-$lh_hash}|local")
  TARGETS+=("pulumi-resource-pulumi-nodejs|$pv|$cli|github.com/pulumi/pulumi/sdk/v3")
  for pkg in "${PROVIDERS[@]}"; do
    npmv="$(npm_version "@pulumi/$pkg")"
    mod="$(provider_module "$pkg" "$npmv")"
    want="v$npmv"
    got="$(cached_or_served "pulumi-resource-$pkg" "$mod" "$want")"
    TARGETS+=("pulumi-resource-$pkg|$want|$got|$mod")
  done
}

# cached_or_served <name> <module> <wanted>: the wanted version when it is already built, else
# a fallback build already in bin/ for it (recorded in bin/.resolved/<name>-<wanted>; delete that
# file to ask the proxy again), else ask the proxy.
cached_or_served() {
  local name="$1" mod="$2" want="$3" v
  if [ -x "$BIN/$name-$want" ]; then echo "$want"; return; fi
  if [ -f "$BIN/.resolved/$name-$want" ]; then
    v="$(cat "$BIN/.resolved/$name-$want")"
    if [ -x "$BIN/$name-$v" ]; then echo "$v"; return; fi
  fi
  v="$(served_version "$mod" "$want")"
  if [ -n "$v" ]; then mkdir -p "$BIN/.resolved"; echo "$v" >"$BIN/.resolved/$name-$want"; fi
  echo "$v"
}

# ---------------------------------------------------------------- builds

GO_BUILD=(nice -n 10 go build -trimpath)

# build_cli <version> <out>
build_cli() {
  local ver="$1" out="$2" w="$WORK"
  rm -rf "$w"; mkdir -p "$w"
  # Workaround: pkg/v3's go.mod replaces sdk/v3 with ../sdk (the monorepo), which `go install pkg@ver`
  # refuses; a wrapper module requires both at the same version and repeats its other replaces.
  cat >"$w/go.mod" <<EOF
module streamforge.local/build/pulumi

go 1.21

require (
	github.com/pulumi/pulumi/pkg/v3 $ver
	github.com/pulumi/pulumi/sdk/v3 $ver
)
EOF
  local pkg_mod
  pkg_mod="$(gomod mod download -json "github.com/pulumi/pulumi/pkg/v3@$ver" | jq -r '.GoMod // empty')"
  [ -f "$pkg_mod" ] || return 1
  upstream_replaces "$pkg_mod" skip >>"$w/go.mod" || return 1
  go mod edit -go="$(go mod edit -json "$pkg_mod" | jq -r .Go)" "$w/go.mod" || return 1
  (cd "$w" && GOFLAGS="${GOFLAGS:-} -mod=mod" "${GO_BUILD[@]}" -o "$out" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$ver" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}

# build_langhost <sdk version> <out>: our own host (see the header), against sdk/v3.
build_langhost() {
  local ver="$1" out="$2" w="$WORK"
  rm -rf "$w"; mkdir -p "$w"
  cp "$LANGHOST_SRC"/*.go "$w/"
  cat >"$w/go.mod" <<EOF
module streamforge.local/build/pulumi-language-nodejs

go 1.21

require github.com/pulumi/pulumi/sdk/v3 $ver
EOF
  (cd "$w" && GOFLAGS="${GOFLAGS:-} -mod=mod" go mod tidy &&
    "${GO_BUILD[@]}" -o "$out" \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$ver" .)
}

# build_dynamic_nodejs <sdk version> <out>: the dynamic-provider plugin is a shell script
# shipped in the SDK module (sdk/nodejs/dist); `pulumi.dynamic.Resource` needs it on PATH.
build_dynamic_nodejs() {
  local dir
  dir="$(gomod mod download -json "github.com/pulumi/pulumi/sdk/v3@$1" | jq -r .Dir)"
  install -m 0755 "$dir/nodejs/dist/pulumi-resource-pulumi-nodejs" "$2"
}

# build_provider <pkg> <module> <version> <out>
build_provider() {
  local pkg="$1" mod="$2" ver="$3" out="$4" w="$WORK"
  local name="pulumi-resource-$pkg" src moddir f gov ldflags
  rm -rf "$w"; mkdir -p "$w"
  moddir="$(gomod mod download -json "$mod@$ver" | jq -r '.Dir // empty')"
  [ -d "$moddir" ] || { why_not_served "$mod" "$ver"; return 1; }
  # Workaround: the module cache is read-only and the provider's main embeds files that are generated
  # (not in the module zip): work on a writable copy and build it through a replace.
  src="$w/src"
  cp -r "$moddir" "$src" && chmod -R u+w "$src" || return 1
  while read -r f; do
    [ -e "$src/cmd/$name/$f" ] && continue
    embed_from_source "$src/cmd/$name" "$f" "${ver#v}" || return 1
  done < <(grep -ho '^//go:embed .*' "$src/cmd/$name"/*.go | cut -d' ' -f2- | tr ' ' '\n')
  gov="$(go mod edit -json "$src/go.mod" | jq -r .Go)"
  cat >"$w/go.mod" <<EOF
module streamforge.local/build/$name

go $gov

require $mod $ver

replace $mod => ./src
EOF
  upstream_replaces "$src/go.mod" skip >>"$w/go.mod" || return 1
  # The provider's go.sum covers its whole build list: saves re-fetching checksums.
  cp "$src/go.sum" "$w/go.sum" || return 1
  ldflags="-s -w"
  # Providers report their version from <module>/pkg/version.Version.
  if [ -d "$src/pkg/version" ]; then
    ldflags="$ldflags -X $mod/pkg/version.Version=${ver#v}"
  fi
  (cd "$w" && GOFLAGS="${GOFLAGS:-} -mod=mod" "${GO_BUILD[@]}" -o "$out" -ldflags "$ldflags" \
    "$mod/cmd/$name")
}

# embed_from_source <dir> <x-embed.json> <version>: what each provider's generate.go does:
# minify the committed x.json into x-embed.json, stamping the version into the schema.
embed_from_source() {
  local dir="$1" target="$2" ver="$3" source
  source="${target%-embed.json}.json"
  if [ "$target" = "$source" ] || [ ! -f "$dir/$source" ]; then
    echo "embedded file $target is missing and there is no $source to make it from" >&2
    return 1
  fi
  if [ "$source" = schema.json ]; then
    jq -c --arg v "$ver" '.version = $v' "$dir/$source" >"$dir/$target"
  else
    jq -c . "$dir/$source" >"$dir/$target"
  fi
}

# build_one <name> <wanted> <version> <origin>: build into a temporary file, then rename it
# into bin/ (so a file there is always a finished build) and hard-link the plain name.
build_one() {
  local name="$1" want="$2" ver="$3" origin="$4" file tmp logf start rc=0
  if [ -z "$ver" ] && [ "$origin" = local ]; then
    log "FAILED $name $want: needs the pulumi SDK module at the CLI's version, which is not served"
    rm -f "$BIN/$name"
    return 1
  elif [ -z "$ver" ]; then
    log "FAILED $name $want: the Go module proxy serves no usable version of $origin:" \
      "$(why_not_served "$origin" "$want")"
    rm -f "$BIN/$name"
    return 1
  fi
  file="$name-$ver"
  if [ -x "$BIN/$file" ]; then
    ln -f "$BIN/$file" "$BIN/$name"
    return 0
  fi
  # (The language host and the dynamic-provider script follow the CLI's version: no own note.)
  case "$name" in pulumi-language-nodejs|pulumi-resource-pulumi-nodejs) ;; *)
    [ "$ver" = "$want" ] || log "note: $origin $want is not served; building $ver instead" ;;
  esac
  mkdir -p "$BIN" "$LOG_DIR" "$BUILD_DIR"
  tmp="$(mktemp "$BIN/.tmp-$name.XXXXXX")"
  logf="$LOG_DIR/$file.log"
  WORK="$BUILD_DIR/$file"   # the build functions generate their wrapper module here
  log "building $name $ver (log: $logf)"
  start=$SECONDS
  case "$name" in
    pulumi) build_cli "$ver" "$tmp" >"$logf" 2>&1 || rc=$? ;;
    pulumi-language-nodejs) build_langhost "${ver%-*}" "$tmp" >"$logf" 2>&1 || rc=$? ;;
    pulumi-resource-pulumi-nodejs) build_dynamic_nodejs "$ver" "$tmp" >"$logf" 2>&1 || rc=$? ;;
    pulumi-resource-*) build_provider "${name#pulumi-resource-}" "$origin" "$ver" "$tmp" >"$logf" 2>&1 || rc=$? ;;
  esac
  if [ "$rc" -ne 0 ] || [ ! -s "$tmp" ]; then
    rm -f "$tmp" "$BIN/$name"
    log "FAILED $name $ver (exit $rc); last lines of $logf:"
    tail -n 15 "$logf" | sed 's/^/    /' >&2
    return 1
  fi
  chmod 0755 "$tmp"
  mv -f "$tmp" "$BIN/$file"
  ln -f "$BIN/$file" "$BIN/$name"
  # The wrapper module and the provider's source copy are only needed to build.
  rm -rf "$WORK"
  echo "built in $((SECONDS - start))s" >>"$logf"
  log "built $name $ver in $((SECONDS - start))s ($(du -h "$BIN/$file" | cut -f1))"
}

# ---------------------------------------------------------------- subcommands

cmd_install() {
  require go jq
  local t name want ver origin failed=()
  resolve_targets
  for t in "${TARGETS[@]}"; do
    IFS='|' read -r name want ver origin <<<"$t"
    build_one "$name" "$want" "$ver" "$origin" || failed+=("$name")
  done
  if [ "${#failed[@]}" -gt 0 ]; then
    die "not built: ${failed[*]} (see above); the others are ready in $BIN"
  fi
  log "all binaries ready in $BIN"
}

cmd_env() {
  mkdir -p "$STATE_DIR/pulumi-home" "$STATE_DIR/pulumi-backend"
  cat <<EOF
export PATH="$BIN:\$PATH"
export PULUMI_HOME="$STATE_DIR/pulumi-home"
export PULUMI_BACKEND_URL="file://$STATE_DIR/pulumi-backend"
export PULUMI_CONFIG_PASSPHRASE="${STREAMFORGE_PULUMI_PASSPHRASE:-streamforge-local-only}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_DISABLE_REGISTRY_RESOLVE=true
export PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
EOF
}

cmd_status() {
  require jq
  local t name want ver origin file rc=0
  # Offline view: report from bin/ without asking the proxy.
  printf '%-32s %-12s %-44s %s\n' BINARY WANTED CACHED SIZE
  for t in "pulumi|v$(npm_version @pulumi/pulumi)" \
           "pulumi-language-nodejs|v$(npm_version @pulumi/pulumi)" \
           "pulumi-resource-pulumi-nodejs|v$(npm_version @pulumi/pulumi)" \
           $(for p in "${PROVIDERS[@]}"; do echo "pulumi-resource-$p|v$(npm_version "@pulumi/$p")"; done); do
    IFS='|' read -r name want <<<"$t"
    ver=""
    if [ -x "$BIN/$name" ]; then
      # The plain name is a hard link: find the versioned file with the same inode.
      file="$(find "$BIN" -maxdepth 1 -samefile "$BIN/$name" -name "$name-v*" -printf '%f\n' | head -1)"
      ver="${file#"$name-"}"
    fi
    if [ -n "$ver" ]; then
      printf '%-32s %-12s %-44s %s\n' "$name" "$want" "$ver" "$(du -h "$BIN/$name" | cut -f1)"
    else
      printf '%-32s %-12s %-44s %s\n' "$name" "$want" "(missing: install builds or says why)" "-"; rc=1
    fi
  done
  if [ -x "$BIN/pulumi" ]; then
    echo "pulumi version reports: $("$BIN/pulumi" version 2>/dev/null || echo '?')"
  fi
  return "$rc"
}

dispatch "$@"
