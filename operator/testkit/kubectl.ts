/**
 * The test kit's kubectl, for every test and the chaos drill: the real CLI against the API server
 * of `KUBECONFIG` (the admin's on the local platform), or as another identity's kubeconfig.
 * Imports nothing but Node (see wait.ts for why the kit is here).
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";

const MAX_BUFFER = 256 * 1024 * 1024;

/** `kubectl <args>` as the admin; its stdout; throws (with kubectl's stderr) when it fails. */
export function kubectl(...args: string[]): string {
  return execFileSync("kubectl", args, { encoding: "utf8", env: process.env, maxBuffer: MAX_BUFFER });
}

/** `kubectl <args>` as the identity of `kubeconfig` (the admin's when undefined), `input` (JSON) on stdin; never throws. */
export function kubectlWith(kubeconfig: string | undefined, input: object | undefined, ...args: string[]): { ok: boolean; output: string } {
  const r = spawnSync("kubectl", [...(kubeconfig === undefined ? [] : ["--kubeconfig", kubeconfig]), ...args], {
    input: input === undefined ? "" : JSON.stringify(input),
    encoding: "utf8",
    env: process.env,
    timeout: 60_000,
    maxBuffer: MAX_BUFFER,
  });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}

/** `kubectl apply -f -` of `obj` (a List for several) as the admin, `flags` added; throws with kubectl's output when it fails. */
export function kubectlApply(obj: object, ...flags: string[]): void {
  const r = kubectlWith(undefined, obj, "apply", ...flags, "-f", "-");
  if (!r.ok) throw new Error(`kubectl apply failed: ${r.output}`);
}

/**
 * `kubectl <args>` as the admin without blocking the event loop, for callers that serve or measure
 * meanwhile (the drill, PodEndpoints); `input` (JSON) on stdin. Its stdout; throws with kubectl's stderr.
 */
export function kubectlAsync(args: readonly string[], input?: object): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile("kubectl", [...args], { encoding: "utf8", env: process.env, maxBuffer: MAX_BUFFER }, (err, stdout, stderr) =>
      err ? reject(new Error(`kubectl ${args[0] ?? ""}: ${(stderr || err.message).trim()}`)) : resolve(stdout),
    );
    child.stdin?.end(input === undefined ? "" : JSON.stringify(input));
  });
}
