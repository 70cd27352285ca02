# shellcheck shell=bash
# The PID record every daemon of the local platform has (sourced through lib/piece.sh). A pid
# file holds "PID STARTTIME", so a recycled PID is never mistaken for the daemon that wrote it;
# a daemon is only ever signalled through its record.

# proc_starttime PID: the process's start time (field 22 of /proc/PID/stat); fails for a dead
# or zombie process (an exited daemon stays a zombie until its adoptive parent reaps it).
proc_starttime() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }" # drop "pid (comm) ", comm may contain spaces
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
  if [[ -n "${pid:-}" ]] && now="$(proc_starttime "$pid")" &&
    { [[ "$now" == "${start:-}" ]] || { [[ -z "${start:-}" ]] && legacy_record "$file" "$now"; }; }; then
    echo "$pid"
    return 0
  fi
  rm -f "$file"
  return 1
}

# legacy_record FILE STARTTIME: a record written before records held a start time (kafka.sh and
# prometheus.sh wrote a bare PID) names that process when it was written within 5 s of the
# process's start; it is then rewritten in the current form. Lets a platform started before
# the change be stopped by the scripts after it.
legacy_record() {
  local btime started
  btime="$(awk '/^btime / {print $2}' /proc/stat)"
  started=$((btime + $2 / $(getconf CLK_TCK)))
  (($(stat -c %Y "$1") - started <= 5 && started - $(stat -c %Y "$1") <= 5)) || return 1
  echo "$(<"$1") $2" >"$1"
}

# spawn PIDFILE LOG CMD...: start CMD as a daemon in a session of its own (a Ctrl-C on the
# caller's terminal does not reach it), output appended to LOG, and record it in PIDFILE. Without
# job control setsid execs in place, so $! is the daemon itself. The lock fds 8 and 9 are not
# inherited, or a lock would live as long as the daemon. Fails when CMD exited at once.
SPAWNED=()
spawn() {
  local pidfile="$1" logfile="$2" pid start
  shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  setsid "$@" </dev/null >>"$logfile" 2>&1 8>&- 9>&- &
  pid=$!
  SPAWNED+=("${pidfile}|${logfile}")
  start="$(proc_starttime "$pid")" || return 1
  echo "$pid $start" >"$pidfile"
  log "started $(pid_name "$pidfile") (pid ${pid}), log ${logfile}"
}

# already_running PIDFILE: the recorded daemon runs (and says so); start then has nothing to do.
already_running() {
  local pid
  pid="$(recorded_pid "$1")" || return 1
  log "already running (pid ${pid})"
}

# pid_name PIDFILE: what a record is called in messages (its path under the piece's state, no .pid).
pid_name() {
  local n="${1#"${STATE_DIR}/"}"
  n="${n#run/}"
  echo "${n%.pid}"
}

# stop_recorded TIMEOUT PIDFILE...: SIGTERM every process the files record, SIGKILL those left
# after TIMEOUT seconds, wait until all are gone and remove the files. Nothing recorded, nothing done.
stop_recorded() {
  local timeout="$1" f pid waited=0 left
  shift
  local files=() pids=()
  for f in "$@"; do
    pid="$(recorded_pid "$f")" || continue
    files+=("$f") pids+=("$pid")
    kill -TERM "$pid" 2>/dev/null || true
  done
  ((${#files[@]})) || return 0
  while :; do
    left=()
    for f in "${files[@]}"; do recorded_pid "$f" >/dev/null && left+=("$f"); done
    ((${#left[@]} && waited < timeout * 10)) || break
    sleep 0.1
    waited=$((waited + 1))
  done
  for f in "${left[@]}"; do
    pid="$(recorded_pid "$f")" || continue
    log "$(pid_name "$f") (pid ${pid}) ignored SIGTERM for ${timeout}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while recorded_pid "$f" >/dev/null; do sleep 0.1; done
  done
  for f in "${!files[@]}"; do
    rm -f "${files[f]}"
    log "stopped $(pid_name "${files[f]}") (pid ${pids[f]})"
  done
}

# rss_of PID: the process's resident memory, e.g. "412 MiB" ("?" once it is gone).
rss_of() { awk '/^VmRSS:/ {printf "%.0f MiB", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }

# status_line NAME PIDFILE [DETAIL...]: "NAME running pid P rss R DETAIL" (status 0), or
# "NAME stopped" (status 3, the LSB code for a stopped service).
status_line() {
  local pid
  if pid="$(recorded_pid "$2")"; then
    printf '%-24s running  pid %-8s rss %s%s\n' "$1" "$pid" "$(rss_of "$pid")" "${3:+  ${*:3}}"
  else
    printf '%-24s stopped\n' "$1"
    return 3
  fi
}
