# shellcheck shell=bash
# Process bookkeeping shared by the local platform's scripts (sourced, not run). A pid file
# holds "PID STARTTIME", so a recycled PID is never mistaken for the daemon that wrote it.

# proc_starttime PID: the process's start time (field 22 of /proc/PID/stat); fails for a dead
# or zombie process (an exited daemon stays a zombie until its adoptive parent reaps it).
proc_starttime() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"            # drop "pid (comm) ", comm may contain spaces
  # shellcheck disable=SC2086
  set -- $stat
  [[ "$1" != Z && "$1" != X ]] || return 1
  echo "${20}"
}

# recorded_pid FILE: print the PID FILE records if that process is still the one recorded;
# otherwise remove the stale file and fail.
recorded_pid() {
  local file="$1" pid start now
  [[ -f "$file" ]] || return 1
  read -r pid start <"$file" || true
  if [[ -n "${pid:-}" ]] && now="$(proc_starttime "$pid")" && [[ "$now" == "${start:-}" ]]; then
    echo "$pid"
    return 0
  fi
  rm -f "$file"
  return 1
}

# stop_recorded FILE NAME TIMEOUT: SIGTERM the process FILE records, SIGKILL it after TIMEOUT
# seconds, wait until it is gone and remove FILE. Nothing to do (status 1) when FILE records no
# live process. Logs through the caller's `log`.
stop_recorded() {
  local file="$1" name="$2" timeout="$3" pid waited=0
  pid="$(recorded_pid "$file")" || return 1
  kill -TERM "$pid" 2>/dev/null || true
  while recorded_pid "$file" >/dev/null && ((waited < timeout * 10)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  if recorded_pid "$file" >/dev/null; then
    log "${name} (pid ${pid}) ignored SIGTERM for ${timeout}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while recorded_pid "$file" >/dev/null; do sleep 0.1; done
  fi
  rm -f "$file"
  log "stopped ${name} (pid ${pid})"
}
