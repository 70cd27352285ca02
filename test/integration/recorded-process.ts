/**
 * A server a test starts: bound by its own flags to 127.0.0.1, its PID recorded as the local
 * platform's scripts record theirs ("PID STARTTIME", local/lib/pids.sh), so the piece's `stop`
 * finds it should the test die first, and stopped by that PID.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

/** A free port on 127.0.0.1 (the kernel's choice, released for the server to take). */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A process's start time (field 22 of /proc/PID/stat), recorded with its PID as local/lib/pids.sh does. */
function startTime(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(") ") + 2).split(" ")[19]!;
}

export interface Recorded {
  readonly pid: number;
  /** Where its stdout and stderr go. */
  readonly logFile: string;
  exited(): boolean;
  logTail(): string;
  /** SIGTERM to the recorded PID (SIGKILL after `killAfterMs`), then waits for the exit. */
  stop(killAfterMs?: number): Promise<void>;
}

export interface StartOptions {
  /** Runs before the process starts. */
  readonly before?: () => void;
  /** Its environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Starts `bin` with its output in `<base>.log` and "PID STARTTIME" in `<base>.pid`. */
export async function startRecorded(bin: string, args: string[], base: string, opts: StartOptions = {}): Promise<Recorded> {
  opts.before?.();
  const logFile = `${base}.log`;
  const log = fs.openSync(logFile, "w");
  const child: ChildProcess = spawn(bin, args, { stdio: ["ignore", log, log], env: opts.env ?? process.env });
  const pid = child.pid!;
  fs.writeFileSync(`${base}.pid`, `${pid} ${startTime(pid)}\n`);
  let exited = false;
  let closed = false;
  const exit = new Promise<void>((resolve) =>
    child.on("exit", () => {
      exited = true;
      resolve();
    }),
  );
  return {
    pid,
    logFile,
    exited: () => exited,
    logTail: () => fs.readFileSync(logFile, "utf8").slice(-2000),
    async stop(killAfterMs = 15_000) {
      if (!exited) {
        process.kill(pid, "SIGTERM");
        const timer = setTimeout(() => {
          if (!exited) process.kill(pid, "SIGKILL");
        }, killAfterMs);
        await exit;
        clearTimeout(timer);
      }
      if (closed) return;
      closed = true;
      fs.closeSync(log);
      fs.rmSync(`${base}.pid`, { force: true });
    },
  };
}
