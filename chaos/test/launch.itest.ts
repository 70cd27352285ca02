/**
 * Starting a worker scenario against the REAL API server (kwok runs the Jobs' pods): the launcher
 * resolves the pods of the scenario's Jobs at that moment and creates a fresh, active ChaosEngine
 * naming exactly those pods, which the API server accepts against the real Litmus CRD. queue-manager,
 * the operator and other Jobs' pods running beside them are never named. (No Litmus operator runs
 * here to act on the engine; the drill will carry out the faults.)
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { committedConfig } from "../../test/helpers";
import { eventually, kubectl, kubectlApply, requireEnv } from "../../test/integration/local-platform";
import { PROJECT_ROOT } from "../../infra/render/render";

const APPS = "stf-launch";
const CHAOS = "chaos-launch";

/** The launcher with the real client, in its own Node process (see run-launch.ts). */
function runLaunch(scenario: string, launchTarget: object, now: string): { code: number | null; engine?: any; stderr: string } {
  const result = spawnSync(
    process.execPath,
    [
      path.join(PROJECT_ROOT, "node_modules", "ts-node", "dist", "bin.js"),
      "--transpile-only",
      "chaos/test/run-launch.ts",
      scenario,
      JSON.stringify(launchTarget),
      now,
    ],
    { cwd: PROJECT_ROOT, encoding: "utf8", env: process.env, timeout: 120_000 },
  );
  return { code: result.status, stderr: result.stderr, ...(result.status === 0 ? { engine: JSON.parse(result.stdout) } : {}) };
}

/** A Job as queue-manager launches it: no labels. */
const job = (name: string) => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name, namespace: APPS },
  spec: {
    backoffLimit: 4,
    template: {
      spec: {
        restartPolicy: "Never",
        containers: [
          { name: "worker", image: "registry.local/streamforge/worker:1", env: [{ name: "QUEUE_ID", value: name.split("-")[0] }] },
        ],
      },
    },
  },
});

const local = committedConfig("local");
const target = {
  chaos: { ...local.chaos!, namespace: CHAOS },
  appsNamespace: APPS,
  kafkaNamespace: "kafka",
  clusterName: "k3",
  kafkaHosts: ["k3-kafka-bootstrap.kafka"],
};

beforeAll(async () => {
  requireEnv("KUBECONFIG");
  for (const ns of [APPS, CHAOS]) kubectl("create", "namespace", ns);
  kubectlApply(job("q1-loader-producer"));
  kubectlApply(job("q2-arango-connector"));
  kubectlApply({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "queue-manager-5f7c9-abcde", namespace: APPS, labels: { "app.kubernetes.io/name": "queue-manager" } },
    spec: { containers: [{ name: "queue-manager", image: "registry.local/streamforge/queue-manager:1" }] },
  });
  // kwok makes every pod Running; wait for all three.
  await eventually(
    `the pods in ${APPS} all Running`,
    () => {
      const phases = kubectl("get", "pods", "-n", APPS, "-o", 'jsonpath={range .items[*]}{.status.phase}{"\\n"}{end}')
        .split("\n")
        .filter(Boolean);
      if (phases.length === 3 && phases.every((p) => p === "Running")) return true;
      throw new Error(`phases: ${phases.join(", ") || "no pods"}`);
    },
    60_000,
    500,
  );
}, 120_000);

afterAll(() => {
  for (const ns of [APPS, CHAOS]) kubectl("delete", "namespace", ns, "--wait=false");
});

describe("starting a worker chaos scenario", () => {
  it("creates an active engine naming exactly the Running pods of the scenario's Jobs", async () => {
    const loaderPod = kubectl(
      "get",
      "pods",
      "-n",
      APPS,
      "-l",
      "batch.kubernetes.io/job-name=q1-loader-producer",
      "-o",
      "jsonpath={.items[0].metadata.name}",
    );
    const run = runLaunch("loader-pod-delete", target, "2026-12-01T08:00:00Z");
    expect([run.code, run.stderr]).toEqual([0, ""]);
    const engine = run.engine;
    expect(engine.metadata.name).toBe("loader-pod-delete-20261201080000");
    const stored = JSON.parse(kubectl("get", "chaosengines.litmuschaos.io", engine.metadata.name, "-n", CHAOS, "-o", "json"));
    expect(stored.spec.engineState).toBe("active");
    expect(stored.spec.selectors).toEqual({ pods: [{ namespace: APPS, names: loaderPod }] });
    expect(stored.spec.chaosServiceAccount).toBe("chaos-pod-delete");
    // The probes kept their slash keys through the real CRD's pruning.
    expect(stored.spec.experiments[0].spec.probe.map((p: any) => Object.keys(p).find((k) => k.endsWith("/inputs")))).toEqual([
      "promProbe/inputs",
      "k8sProbe/inputs",
      "promProbe/inputs",
    ]);
  });

  it("starts nothing, and says why, when no pod of the scenario's Jobs runs", async () => {
    const before = kubectl("get", "chaosengines.litmuschaos.io", "-n", CHAOS, "-o", "name").split("\n").filter(Boolean);
    const run = runLaunch("loader-pod-delete", { ...target, appsNamespace: CHAOS }, "2026-12-01T08:00:00Z");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/No Running pod of loader-pod-delete's Jobs .* in chaos-launch: nothing to hit, nothing started/);
    expect(kubectl("get", "chaosengines.litmuschaos.io", "-n", CHAOS, "-o", "name").split("\n").filter(Boolean)).toEqual(before);
    expect(before).toHaveLength(1); // the first test's engine: the API server was answering
  });
});
