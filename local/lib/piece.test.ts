/**
 * local/lib/piece.sh, the library every piece of the local platform is written on, run through a
 * piece of its own: a `sleep` as the daemon, in a state folder of the test's. No fixed waits: the
 * piece's own verbs wait (wait_until, or until the record names no live process).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const LIB = path.join(__dirname, "piece.sh");

const PIECE = `#!/usr/bin/env bash
# A piece for the test.
set -euo pipefail
source ${JSON.stringify(LIB)}
piece fake
PID_FILE="$STATE_DIR/fake.pid"
LOG="$STATE_DIR/fake.log"
cmd_start() {
  already_running "$PID_FILE" && return 0
  spawn "$PID_FILE" "$LOG" bash -c 'echo serving; exec sleep 300' || start_failed "exited at once"
  wait_until fake 10 grep -q serving "$LOG" || start_failed
}
# A daemon that dies before it is ready; one that never gets ready.
cmd_start_dying() {
  spawn "$PID_FILE" "$LOG" bash -c 'echo dying; sleep 0.3; exit 3' || start_failed "exited at once"
  wait_until fake 10 false || start_failed
}
cmd_start_slow() {
  spawn "$PID_FILE" "$LOG" sleep 300 || start_failed "exited at once"
  wait_until fake 1 false || start_failed
}
# The crash a test inflicts: SIGKILL, then wait until the record names no live process.
cmd_crash() {
  kill -KILL "$(recorded_pid "$PID_FILE")"
  while recorded_pid "$PID_FILE" >/dev/null; do sleep 0.05; done
}
cmd_stop() { stop_recorded 5 "$PID_FILE"; }
cmd_status() { status_line fake "$PID_FILE"; }
cmd_pid() { recorded_pid "$PID_FILE"; }
dispatch "$@"
`;

let dir: string;
let script: string;
const state = () => path.join(dir, "state", "fake");
const run = (...args: string[]) => {
  const r = spawnSync("bash", [script, ...args], { encoding: "utf8", env: { ...process.env, STREAMFORGE_STATE: path.join(dir, "state") } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const alive = (pid: number) => {
  try {
    // A zombie (exited, not yet reaped) is not alive.
    return !/^\d+ \(.*\) [ZX]/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "piece-"));
  script = path.join(dir, "fake.sh");
  fs.writeFileSync(script, PIECE);
});
afterEach(() => {
  run("stop");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("a piece on lib/piece.sh", () => {
  it("dispatches its cmd_ functions as verbs, a dash for an underscore, and names them in its usage", () => {
    expect(run("status")).toMatchObject({ status: 3, stdout: "fake                     stopped\n" });
    const r = run("fly");
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`usage: ${script} crash|pid|start|start-dying|start-slow|status|stop\n`);
    expect(run("help").stdout).toBe("A piece for the test.\n");
  });

  it("records its daemon as PID and start time, starts it once, and stops exactly it", () => {
    const first = run("start");
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(/^\[fake\] started fake \(pid \d+\), log /);
    const [pid, start] = fs.readFileSync(path.join(state(), "fake.pid"), "utf8").trim().split(" ").map(Number);
    expect(alive(pid!)).toBe(true);
    expect(start).toBeGreaterThan(0);
    expect(run("start").stderr).toBe(`[fake] already running (pid ${pid})\n`);
    const status = run("status");
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^fake +running  pid ${pid} +rss \\d+ MiB\\n$`));
    expect(run("stop")).toMatchObject({ status: 0, stderr: `[fake] stopped fake (pid ${pid})\n` });
    expect(alive(pid!)).toBe(false);
    expect(fs.existsSync(path.join(state(), "fake.pid"))).toBe(false);
  });

  it("after a crash: says stopped, drops the record, and starts again", () => {
    run("start");
    const pid = Number(run("pid").stdout);
    expect(run("crash").status).toBe(0);
    expect(run("status").status).toBe(3);
    expect(run("stop")).toMatchObject({ status: 0, stderr: "" });
    expect(run("start").status).toBe(0);
    expect(Number(run("pid").stdout)).not.toBe(pid);
  });

  it("never signals a process that merely has the recorded PID (another start time)", () => {
    fs.mkdirSync(state(), { recursive: true });
    // This test's own process, recorded with a start time it does not have: a recycled PID.
    fs.writeFileSync(path.join(state(), "fake.pid"), `${process.pid} 1\n`);
    expect(run("status").status).toBe(3);
    expect(fs.existsSync(path.join(state(), "fake.pid"))).toBe(false);
    fs.writeFileSync(path.join(state(), "fake.pid"), `${process.pid} 1\n`);
    expect(run("stop")).toMatchObject({ status: 0, stderr: "" });
    expect(alive(process.pid)).toBe(true);
  });

  it("takes a bare PID (a record from before start times) only when written as that process started", () => {
    run("start");
    const file = path.join(state(), "fake.pid");
    const [pid, start] = fs.readFileSync(file, "utf8").trim().split(" ");
    fs.writeFileSync(file, `${pid}\n`);
    expect(run("status").status).toBe(0);
    expect(fs.readFileSync(file, "utf8")).toBe(`${pid} ${start}\n`);
    fs.writeFileSync(file, `${pid}\n`);
    const anHourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(file, anHourAgo, anHourAgo);
    expect(run("status").status).toBe(3);
    expect(alive(Number(pid))).toBe(true);
    process.kill(Number(pid), "SIGTERM");
  });

  it("fails a start whose daemon exits before it is ready, showing its log", () => {
    const r = run("start-dying");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("[fake] fake exited while waiting for fake\n");
    expect(r.stderr).toContain("dying\n");
    expect(r.stderr).toMatch(/\[fake\] ERROR: start failed\n$/);
    expect(fs.existsSync(path.join(state(), "fake.pid"))).toBe(false);
  });

  it("stops what it spawned when the daemon is not ready in time: nothing is left half-started", () => {
    const r = run("start-slow");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("[fake] fake: not ready after 1s\n");
    const stopped = /\[fake\] stopped fake \(pid (\d+)\)/.exec(r.stderr);
    expect(stopped).not.toBeNull();
    expect(alive(Number(stopped![1]))).toBe(false);
    expect(run("status").status).toBe(3);
  });
});
