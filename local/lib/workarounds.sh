# shellcheck shell=bash
# The workarounds this machine needs, each named once with why (sourced through lib/piece.sh).
# The machines are Debian bookworm, root, 2 cores, no Docker engine, no internet but the package
# registries (npm, apt, Maven Central, the Go module proxy), and the Go module proxy refuses
# some modules (../shared/TESTENV.md). A piece uses a workaround by its name here; what a name
# stands for that is too long to live here stays in its piece, which says so where it does it.
#
# Used by name from here:
#   PODMAN_RUN, RUNC            crun fails on this machine's hybrid cgroups; runc without explicit ulimits fails on setrlimit
#   BUILDAH_BUD                 buildah's default OCI isolation fails at the first RUN step
#   ROLLOUTS_GOTOOLCHAIN        argo-rollouts' go.mod asks for a newer Go than Debian's; the proxy serves that toolchain
#   rollouts_listen_loopback    upstream hard-codes its healthz/metrics listen address to 0.0.0.0
#   kwok_drop_lease             a restarted kwok waits out its predecessor's 40 s node Lease
#   apt_download                Debian's package lists may be stale: refresh once, then download again
# Kept in their piece (too long to move; marked "Workaround:" there, or told in its header):
#   wrapper modules             k8s.io/kubernetes, argo-rollouts and pulumi/pkg carry replace directives,
#                               which `go install mod@version` refuses: one helper repeats them
#                               (upstream_replaces, lib/go-build.sh) for kube.sh, rollouts.sh and pulumi.sh
#   provider embeds             the Pulumi providers embed a generated schema-embed.json the module zip lacks;
#                               the module cache is read-only, so a writable copy is built (pulumi.sh)
#   served versions             pulumi-kubernetes is served only as a pseudo-version, pulumi-kafka and
#                               pulumi-random not at all (pulumi.sh; platform.sh builds only kubernetes)
#   own language host           the Node.js language host's module is refused (local/pulumi-language-nodejs/)
#   promql model                the promql CLI's module is refused (local/promql-model/, promql.sh)
#   base stand-ins              no registry to pull node and distroless from (operator-image.sh install)
#   the build's CA bundle       behind a TLS-inspecting proxy, npm ci in the image build trusts the machine's CA (operator-image.sh build)
#   kwok options on the command line   kwok v0.8.0 skips its defaults for a config read from a file (kube.sh)
#   endpoint reconciler off     the "kubernetes" Endpoints may not hold a loopback IP (kube.sh)
#   JMX exporter 1.0.1          later agents are not published on Maven Central (kafka-cluster.sh)
#   ports after SIGKILL         a node SIGKILLed a moment ago may still answer on its ports (kafka-cluster.sh)

# shellcheck disable=SC2034  # used by the pieces
RUNC=/usr/sbin/runc
# shellcheck disable=SC2034
PODMAN_RUN=(podman --runtime "$RUNC" run --network host --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
# shellcheck disable=SC2034
BUILDAH_BUD=(buildah bud --isolation chroot --network host --pull=never)
# shellcheck disable=SC2034
ROLLOUTS_GOTOOLCHAIN=go1.27.3

# rollouts_listen_loopback SRC: in a writable copy SRC of the argo-rollouts module, make the
# controller's healthz and metrics servers listen on 127.0.0.1. The address is a constant
# (controller/controller.go `listenAddr = "0.0.0.0:%d"`): no flag and no `-ldflags -X` reaches
# it, and `go build -overlay` refuses files in the module cache. The patch must hit one line.
rollouts_listen_loopback() {
  local ctl="$1/controller/controller.go" line='^[[:space:]]*listenAddr[[:space:]]*=[[:space:]]*'
  [[ "$(grep -c "${line}\"0\\.0\\.0\\.0:%d\"\$" "$ctl")" == 1 ]] || return 1
  sed -i "s/\\(${line}\\)\"0\\.0\\.0\\.0:%d\"\$/\\1\"127.0.0.1:%d\"/" "$ctl"
  grep -q "${line}\"127\\.0\\.0\\.1:%d\"\$" "$ctl"
}

# kwok_drop_lease NODE KUBECTL...: each kwok process has a random identity and manages a node
# only while it holds the node's Lease, so a restarted kwok would wait out the old one's 40 s
# (the node's pods Pending meanwhile). Deleting the Lease before kwok starts skips that.
kwok_drop_lease() {
  local node="$1"
  shift
  "$@" delete lease -n kube-node-lease "$node" --ignore-not-found >/dev/null
}

# apt_download PKG DIR: `apt-get download` PKG into DIR; when that fails, refresh the package
# lists once (a machine's lists may predate a mirror's current version) and try again.
apt_download() {
  (cd "$2" && apt-get download "$1") >"$2/apt.log" 2>&1 && return 0
  log "apt-get download failed; refreshing the package lists once"
  apt-get update -qq >/dev/null 2>&1 || true
  (cd "$2" && apt-get download "$1") >"$2/apt.log" 2>&1
}
