# shellcheck shell=bash
# What every piece of the local platform shares; a piece script sources this, calls
# `piece NAME`, defines cmd_<verb> functions and ends with `dispatch "$@"`. It gets:
#   LOCAL, ROOT, STATE, CACHE   local/, the repository, the state root and the cache root
#   PIECE, STATE_DIR            its name (in every log line) and its state, STATE/NAME
#   log, die, require           one message style: "[NAME] ...", "[NAME] ERROR: ..."
#   the PID record              spawn, recorded_pid, stop_recorded, status_line (lib/pids.sh)
#   wait_until, start_failed    one readiness wait; on failure, logs shown and spawned daemons stopped
#   port_open, ports_free       127.0.0.1 only
#   lock_state, lock_cache      take turns with parallel runs
#   the workarounds             named once, in lib/workarounds.sh
# Sourced, not run.

LOCAL="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "${LOCAL}/.." && pwd)"
STATE="${STREAMFORGE_STATE:-${ROOT}/.local/state}"
# Shared by every clone of the repository: builds are keyed by version, never by clone.
# shellcheck disable=SC2034  # used by the pieces
CACHE="${STREAMFORGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/streamforge}"

# shellcheck source=pids.sh
source "${LOCAL}/lib/pids.sh"
# shellcheck source=workarounds.sh
source "${LOCAL}/lib/workarounds.sh"

piece() {
  PIECE="$1"
  STATE_DIR="${STATE}/$1"
}

log() { printf '[%s] %s\n' "$PIECE" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "$PIECE" "$*" >&2
  exit 1
}
# require CMD...: each is on PATH, or die saying which (REQUIRE_WHY, when set, says what for).
require() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "prerequisite '${c}' not found on PATH${REQUIRE_WHY:+ (${REQUIRE_WHY})}"
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# ports_free PORT...: nothing listens on them yet, or die naming the first taken one.
ports_free() {
  local p var="STREAMFORGE_${PIECE^^}"
  for p in "$@"; do
    ! port_open "$p" || die "port 127.0.0.1:${p} is already in use by another process (override with ${var//-/_}_*)"
  done
}

now_ms() { local t="${EPOCHREALTIME/[.,]/}"; echo "${t:0:-3}"; }

# wait_until WHAT TIMEOUT CHECK...: run CHECK every 0.2 s until it succeeds. Fails, saying why,
# after TIMEOUT seconds, or at once when a daemon this run spawned has exited (or, for what
# spawn did not start, when the command WAIT_ALIVE names fails).
WAIT_ALIVE=""
wait_until() {
  local what="$1" timeout="$2" deadline=$(($(now_ms) + $2 * 1000)) entry
  shift 2
  until "$@" >/dev/null 2>&1; do
    for entry in "${SPAWNED[@]}"; do
      recorded_pid "${entry%%|*}" >/dev/null && continue
      log "$(pid_name "${entry%%|*}") exited while waiting for ${what}"
      return 1
    done
    if [[ -n "$WAIT_ALIVE" ]] && ! $WAIT_ALIVE; then
      log "${WAIT_ALIVE#* } exited while waiting for ${what}"
      return 1
    fi
    if (($(now_ms) >= deadline)); then
      log "${what}: not ready after ${timeout}s"
      return 1
    fi
    sleep 0.2
  done
}

# start_failed [WHY]: show the last lines of the logs of START_LOGS (default: of what this run
# spawned that has exited, else of the last one spawned), stop everything spawned (newest
# first), exit 1. Nothing is left half-started.
START_LOGS=()
start_failed() {
  [[ -z "${1:-}" ]] || log "$1"
  local i f logs=("${START_LOGS[@]}") gone=() files=()
  for ((i = ${#SPAWNED[@]} - 1; i >= 0; i--)); do
    files+=("${SPAWNED[i]%%|*}")
    recorded_pid "${SPAWNED[i]%%|*}" >/dev/null || gone+=("${SPAWNED[i]#*|}")
  done
  if ((${#logs[@]} == 0)); then
    logs=("${gone[@]}")
    ((${#logs[@]} || ${#SPAWNED[@]} == 0)) || logs=("${SPAWNED[-1]#*|}")
  fi
  for f in "${logs[@]}"; do
    [[ -s "$f" ]] || continue
    log "last lines of ${f}:"
    tail -n 25 "$f" >&2
  done
  for f in "${files[@]}"; do stop_recorded "${STOP_TIMEOUT:-15}" "$f"; done
  die "start failed"
}

# lock_state, lock_cache DIR: parallel runs (test runners, `platform.sh install` in the
# background) take turns on the piece's state, or on a cache directory. The lock lasts until
# the script exits (or closes fd 9, resp. 8); spawn keeps daemons from inheriting it.
lock_state() { take_lock 9 "${STATE_DIR}/.lock"; }
lock_cache() { take_lock 8 "$1/.lock"; }
take_lock() {
  local held="LOCK_HELD_$1"
  [[ "${!held:-}" != "$2" ]] || return 0 # already ours (restart = stop + start)
  mkdir -p "$(dirname "$2")"
  eval "exec $1>\"\$2\""
  flock -n "$1" || { log "waiting for another run to finish (lock $2)"; flock "$1"; }
  printf -v "$held" %s "$2"
}
release_lock() {
  eval "exec $1>&-"
  unset "LOCK_HELD_$1"
}

# dispatch "$@": run cmd_<verb> (a dash in the verb is an underscore in the function) with the
# other arguments; help prints the script's header, anything else the usage (exit 2).
dispatch() {
  local fn="cmd_${1:-}"
  fn="${fn//-/_}"
  if [[ -n "${1:-}" ]] && declare -F "$fn" >/dev/null; then
    shift
    "$fn" "$@"
    return
  fi
  case "${1:-}" in
    -h | --help | help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" ;;
    *)
      echo "usage: $0 $(declare -F | sed -n 's/^declare -f cmd_//p' | tr _ - | paste -sd'|')" >&2
      exit 2
      ;;
  esac
}
