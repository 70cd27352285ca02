/**
 * The operator without a usable Kubernetes target exits at once with a message that says why,
 * instead of saying it started and warning every 2 s forever: no kubeconfig at all, a kubeconfig
 * that cannot be read, and a watched namespace that does not exist on the real API server.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OPERATOR_DIR, env } from "./platform.js";

function run(vars: Record<string, string>) {
  const result = spawnSync(process.execPath, [join(OPERATOR_DIR, "dist", "main.js")], {
    env: {
      PATH: process.env.PATH ?? "",
      KAFKA_BROKERS: "127.0.0.1:1",
      BIND_ADDRESS: "127.0.0.1",
      HEALTH_PORT: "19781",
      METRICS_PORT: "19782",
      ...vars,
    },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("the operator without a usable Kubernetes target", () => {
  it("exits 2 when there is no configuration at all", () => {
    expect(run({ HOME: mkdtempSync(join(tmpdir(), "no-kube-")) })).toEqual({
      code: 2,
      output: "No Kubernetes configuration: not in a cluster, KUBECONFIG is unset and ~/.kube/config has none. Set KUBECONFIG.\n",
    });
  });

  it("exits 2 naming the kubeconfig it cannot read", () => {
    const r = run({ KUBECONFIG: "/nonexistent/kubeconfig" });
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/^Cannot read the Kubernetes configuration from KUBECONFIG \(\/nonexistent\/kubeconfig\): ENOENT/);
  });

  it("exits 1 when the watched namespace does not exist, saying so once", () => {
    const r = run({ KUBECONFIG: env.kubeconfig(), WATCH_NAMESPACE: "no-such-namespace-x1" });
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/Cannot hold the Lease in no-such-namespace-x1 \(404\): namespaces \\"no-such-namespace-x1\\" not found/);
    expect(r.output.match(/Lease renewal failed/g) ?? []).toEqual([]);
  });
});
