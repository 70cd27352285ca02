#!/usr/bin/env bash
# Toxiproxy (Shopify's TCP fault-injection proxy) for the chaos drills: a local process, built
# from its Go module (github.com/Shopify/toxiproxy/v2) and cached by version. The drill puts a
# proxy in front of each Kafka broker and adds latency/jitter toxics through the HTTP API.
#
# Usage: local/toxiproxy.sh install|start|stop|status|env
#   install  build toxiproxy-server with Go (cached by version; a no-op when done)
#   start    start the API server on 127.0.0.1, wait until GET /version answers, then create the
#            proxies of STREAMFORGE_TOXIPROXY_PROXIES if set; returns 0 when already running
#   stop     SIGTERM (then SIGKILL) exactly the recorded PID; its proxies go with it
#   status   running/stopped, PID, RSS and proxy count; exit 3 when stopped
#   eval "$(local/toxiproxy.sh env)"   # TOXIPROXY_URL
#
# Proxies and toxics live in the server's memory only (a restart drops them). Callers (the
# drill's TypeScript) manage them over HTTP at $TOXIPROXY_URL, bodies and answers in JSON:
#   POST   /proxies                {"name":"kafka-0","listen":"127.0.0.1:29092","upstream":"127.0.0.1:19092","enabled":true}
#   GET    /proxies                (object keyed by proxy name)     GET /proxies/NAME
#   POST   /proxies/NAME           {"enabled":false} cuts the link; {"enabled":true} restores it
#   DELETE /proxies/NAME
#   POST   /proxies/NAME/toxics    {"name":"lat","type":"latency","stream":"downstream","toxicity":1,
#                                   "attributes":{"latency":300,"jitter":50}}   (times in ms)
#   POST   /proxies/NAME/toxics/T  {"attributes":{"latency":500}}   change a toxic in place
#   DELETE /proxies/NAME/toxics/T
#   POST   /reset                  re-enable every proxy, remove every toxic
# Answers: proxy create 201, toxic create 200 (default name TYPE_STREAM), deletes and reset 204
# with no body; errors are {"error":"...","status":N} sent as text/plain, so parse the text.
# A toxic's stream "upstream" delays client-to-server bytes, "downstream" server-to-client.
# "listen" must always be given as 127.0.0.1:PORT: an empty or ":PORT" address makes the proxy
# listen on every interface. Requests whose User-Agent starts with "Mozilla/" get 403 (upstream's
# guard against browsers). Kafka clients connect to the addresses the brokers advertise after the
# bootstrap, so a broker's advertised listener must be its proxy's address, or the traffic
# bypasses the proxy after the first request.
#
# Environment (all optional):
#   STREAMFORGE_CACHE   cache root (default ${XDG_CACHE_HOME:-~/.cache}/streamforge, shared by every
#                       clone); binary in toxiproxy/<version>/toxiproxy-server, build log in
#                       toxiproxy/<version>/logs
#   STREAMFORGE_STATE   state root (default <repo>/.local/state); pid file and log in toxiproxy/
#   STREAMFORGE_TOXIPROXY_PORT      HTTP API port on 127.0.0.1 (default 18474)
#   STREAMFORGE_TOXIPROXY_PROXIES   proxies created at start, "NAME=LISTEN=UPSTREAM" separated by
#                                   commas, LISTEN on 127.0.0.1, e.g.
#                                   "kafka-0=127.0.0.1:29092=127.0.0.1:19092,kafka-1=127.0.0.1:29093=127.0.0.1:19093"
#   STREAMFORGE_TOXIPROXY_START_TIMEOUT  seconds to wait for the API (default 20)
#   STREAMFORGE_TOXIPROXY_STOP_TIMEOUT   seconds between SIGTERM and SIGKILL (default 10)
#   STREAMFORGE_TOXIPROXY_LOG_LEVEL  trace, debug, info, warn, error (default info: one line per
#                                   accepted client; debug adds one per API request, trace more)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# ---- pinned versions -------------------------------------------------------
TOXIPROXY_VERSION="v2.5.0"
MODULE="github.com/Shopify/toxiproxy/v2"
MAIN_PKG="${MODULE}/cmd/server"
# Its go.mod says `go 1.17` and has no replace directives, so `go install pkg@version` builds it
# with the machine's Go: no wrapper module, no GOTOOLCHAIN.

# ---- locations -------------------------------------------------------------
# shellcheck source=lib/piece.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/piece.sh"
# shellcheck source=lib/go-build.sh
source "${LOCAL}/lib/go-build.sh"
piece toxiproxy
CACHE_DIR="${CACHE}/toxiproxy/${TOXIPROXY_VERSION}"
BIN="${CACHE_DIR}/toxiproxy-server"
BUILT_MARKER="${CACHE_DIR}/build.done"   # written last: a binary without it is rebuilt
# for local/lib/go-build.sh (the scratch dir sits beside BIN: the final move is a rename)
GO_BUILD_WHAT="toxiproxy-server ${TOXIPROXY_VERSION}"
GO_BUILD_DIR="${CACHE_DIR}/build.partial"
GO_BUILD_LOG="${CACHE_DIR}/logs/build.log"
PID_FILE="${STATE_DIR}/toxiproxy-server.pid"
LOG_FILE="${STATE_DIR}/toxiproxy-server.log"

PORT="${STREAMFORGE_TOXIPROXY_PORT:-18474}"
API="http://127.0.0.1:${PORT}"
PROXIES="${STREAMFORGE_TOXIPROXY_PROXIES:-}"
START_TIMEOUT="${STREAMFORGE_TOXIPROXY_START_TIMEOUT:-20}"
STOP_TIMEOUT="${STREAMFORGE_TOXIPROXY_STOP_TIMEOUT:-10}"
LOG_LEVEL_SERVER="${STREAMFORGE_TOXIPROXY_LOG_LEVEL:-info}"

# ============================================================================
# install (gomod, go_build_*, go_module_download: local/lib/go-build.sh)
# ============================================================================

# -X Version: what GET /version and -version report (upstream's release flags).
cmd_install() {
  go_install_built "$MODULE" "$MAIN_PKG" "$TOXIPROXY_VERSION" "-s -w -X ${MODULE}.Version=${TOXIPROXY_VERSION#v}" \
    "toxiproxy-server version ${TOXIPROXY_VERSION#v}" -version
}

# answers: GET /version returns this build's version (not some other server on the port).
answers() { [[ "$(curl -fs --max-time 2 "${API}/version" 2>/dev/null)" == "${TOXIPROXY_VERSION#v}" ]]; }

# proxies_json: STREAMFORGE_TOXIPROXY_PROXIES as the JSON array POST /populate takes. Refuses a
# listen address off 127.0.0.1, since toxiproxy binds whatever it is given.
proxies_json() {
  local entry name listen upstream rest json='[]'
  local -a entries
  IFS=',' read -r -a entries <<<"$PROXIES"
  for entry in "${entries[@]}"; do
    entry="${entry//[[:space:]]/}"   # "a=..., b=..." reads as meant; no part may hold a space
    [[ -n "$entry" ]] || continue
    name="${entry%%=*}"; rest="${entry#*=}"
    listen="${rest%%=*}"; upstream="${rest#*=}"
    [[ "$entry" == *=*=* && -n "$name" && -n "$upstream" && "$upstream" != *=* ]] ||
      die "STREAMFORGE_TOXIPROXY_PROXIES: '${entry}' is not NAME=LISTEN=UPSTREAM"
    [[ "$listen" =~ ^127\.0\.0\.1:[0-9]+$ ]] ||
      die "STREAMFORGE_TOXIPROXY_PROXIES: proxy '${name}' must listen on 127.0.0.1:PORT, not '${listen}'"
    json="$(jq -c --arg n "$name" --arg l "$listen" --arg u "$upstream" \
      '. + [{name: $n, listen: $l, upstream: $u, enabled: true}]' <<<"$json")"
  done
  echo "$json"
}

# create_proxies JSON: POST /populate (all or nothing on bad input; answers 201 when all listen).
create_proxies() {
  local body code
  body="$(mktemp)"
  code="$(curl -s --max-time 10 -o "$body" -w '%{http_code}' -H 'Content-Type: application/json' \
    -X POST --data-binary "$1" "${API}/populate")" || code="000"
  if [[ "$code" != 201 ]]; then
    log "POST ${API}/populate answered HTTP ${code}: $(cat "$body")"
    rm -f "$body"
    return 1
  fi
  jq -r '.proxies[] | "proxy \(.name): \(.listen) -> \(.upstream)"' "$body" | while read -r line; do log "$line"; done
  rm -f "$body"
}

# ============================================================================
# start / stop / status / env
# ============================================================================

cmd_start() {
  already_running "$PID_FILE" && return 0
  [[ -x "$BIN" ]] || die "toxiproxy-server not built: run '$0 install'"
  require curl
  # Checked before launching, so a malformed list never leaves a server behind.
  local proxies=""
  if [[ -n "$PROXIES" ]]; then
    require jq
    proxies="$(proxies_json)"
  fi
  ports_free "$PORT"
  local t0=$SECONDS
  # LOG_LEVEL is the server's own variable; set here so the caller's (the operator reads one
  # too) does not leak in. Unset, the server logs at trace level.
  spawn "$PID_FILE" "$LOG_FILE" env LOG_LEVEL="$LOG_LEVEL_SERVER" "$BIN" -host 127.0.0.1 -port "$PORT" ||
    start_failed "toxiproxy-server exited at once"
  wait_until "toxiproxy-server (${API}/version)" "$START_TIMEOUT" answers || start_failed
  if [[ -n "$proxies" ]]; then
    create_proxies "$proxies" || start_failed "creating the proxies of STREAMFORGE_TOXIPROXY_PROXIES failed"
  fi
  log "ready in $((SECONDS - t0))s: API ${API}"
}

cmd_stop() { stop_recorded "$STOP_TIMEOUT" "$PID_FILE"; }

cmd_status() {
  local proxies
  proxies="$(curl -fs --max-time 2 "${API}/proxies" 2>/dev/null | jq -r 'length' 2>/dev/null)" || true
  status_line toxiproxy-server "$PID_FILE" "api ${API} proxies ${proxies:-?}"
}

cmd_env() {
  echo "export TOXIPROXY_URL=${API}"
}

dispatch "$@"
