/**
 * The ChaosEngine admission guard in the REAL API server: the policy and its binding for namespaces
 * of this test only, then engines sent with `kubectl create --dry-run=server` (admission runs in
 * full, nothing is stored). The engines spec.ts builds are admitted, which also shows the guard's
 * CEL compiles and runs there; each broken rule is refused with its own message; starting an engine
 * is checked and stopping one is not.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { committedConfig } from "../../test/helpers";
import { kubectl, requireEnv, sleep } from "../../test/integration/local-platform";
import type { BrokerFailureScenario } from "../config";
import { WORKER_POD_PATTERN, brokerPodPattern, engineGuard } from "../guard";
import { brokerFailureEngine, workerNetworkLatencyEngine, workerPodDeleteEngine } from "../spec";

const run = randomBytes(3).toString("hex");
const CHAOS = `chaos-guard-${run}`;
const APPS = `stf-guard-${run}`;
const KAFKA = `kafka-guard-${run}`;
const guard = engineGuard({
  chaosNamespace: CHAOS,
  appsNamespace: APPS,
  kafkaNamespace: KAFKA,
  maxDurationSeconds: 600,
  maxBrokersAtOnce: 1,
  workerPodPattern: WORKER_POD_PATTERN,
  kafkaPodPattern: brokerPodPattern("k3", "brokers"),
  namePrefix: `chaos-guard-${run}`,
});

/** `kubectl <args>` with `obj` on stdin; never throws. */
function kubectlWith(obj: object, ...args: string[]): { ok: boolean; output: string } {
  const r = spawnSync("kubectl", args, { input: JSON.stringify(obj), encoding: "utf8", env: process.env, timeout: 60_000 });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}
const dryRun = (engine: object) => kubectlWith(engine, "create", "--dry-run=server", "-f", "-");
const refusal = (message: string) => `denied request: ${message}`;

const chaos = committedConfig("dev").chaos!;
const ctx = { chaosNamespace: CHAOS, kafkaNamespace: KAFKA, clusterName: "k3", prometheusAddress: "http://p:9090", appsNamespace: APPS };
const broker: BrokerFailureScenario = {
  enabled: true,
  pool: "brokers",
  brokersAtOnce: 1,
  durationSeconds: 180,
  intervalSeconds: 60,
  recoverWithinSeconds: 300,
};
const loader = (names = ["q1-loader-producer-abcde"]) =>
  workerPodDeleteEngine("loader-pod-delete", chaos.scenarios.loaderPodDelete, ctx, names) as any;
const brokers = () => brokerFailureEngine(broker, ctx) as any;

let activeAfterMs = -1;

beforeAll(async () => {
  requireEnv("KUBECONFIG");
  for (const ns of [CHAOS, APPS, KAFKA]) kubectl("create", "namespace", ns);
  const applied = kubectlWith({ apiVersion: "v1", kind: "List", items: [guard.policy, guard.binding] }, "apply", "-f", "-");
  if (!applied.ok) throw new Error(`kubectl apply of the guard failed: ${applied.output}`);
  // A new policy is enforced once the API server's policy informers have it: retry a known-bad engine until refused.
  const bad = loader(["queue-manager-7d9f6c5b4-abcde"]);
  const start = Date.now();
  while (Date.now() - start < 60_000) {
    if (dryRun(bad).output.includes(`ValidatingAdmissionPolicy '${guard.policy.metadata.name}'`)) {
      activeAfterMs = Date.now() - start;
      console.log(`the guard was enforced ${activeAfterMs} ms after kubectl apply returned`);
      return;
    }
    await sleep(250);
  }
  throw new Error("The guard was not enforced within 60 s of kubectl apply");
}, 120_000);

afterAll(() => {
  kubectl("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", guard.policy.metadata.name, "--ignore-not-found");
  for (const ns of [CHAOS, APPS, KAFKA]) kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false");
});

describe("the ChaosEngine guard in the real API server", () => {
  it("type-checks every expression against the Litmus CRD", async () => {
    let status: any = {};
    for (let i = 0; i < 40 && status.observedGeneration !== 1; i++) {
      status = JSON.parse(kubectl("get", "validatingadmissionpolicy", guard.policy.metadata.name, "-o", "json")).status ?? {};
      if (status.observedGeneration !== 1) await sleep(250);
    }
    expect(status.observedGeneration).toBe(1);
    expect(status.typeChecking?.expressionWarnings ?? []).toEqual([]);
  });

  it("admits the engines spec.ts builds: the guard runs and does not block them", () => {
    expect(activeAfterMs).toBeGreaterThanOrEqual(0);
    const engines = [
      loader(["q1-loader-producer-abcde", "q2-loader-ws-fghij"]),
      workerPodDeleteEngine("arango-connector-pod-delete", chaos.scenarios.arangoConnectorPodDelete, ctx, ["q3-arango-connector-klmno"]),
      workerNetworkLatencyEngine(chaos.scenarios.networkLatency, { ...ctx, kafkaHosts: [`k3-kafka-bootstrap.${KAFKA}`] }, [
        "q1-loader-producer-abcde",
        "q3-arango-connector-klmno",
      ]),
      brokers(),
    ];
    for (const e of engines)
      expect(dryRun(e)).toEqual({ ok: true, output: `chaosengine.litmuschaos.io/${e.metadata.name} created (server dry run)` });
  });

  it.each<[string, () => any, string]>([
    [
      "selection by label and kind (appinfo)",
      () => {
        const e = loader();
        delete e.spec.selectors;
        e.spec.appinfo = { appns: APPS, applabel: "app.kubernetes.io/name=queue-manager", appkind: "deployment" };
        return e;
      },
      "spec.appinfo: expected absent (label or kind selection can pick any pod, such as queue-manager); name the pods in spec.selectors.pods",
    ],
    [
      "a queue-manager pod",
      () => loader(["q1-loader-producer-abcde", "queue-manager-7d9f6c5b4-abcde"]),
      `spec.selectors.pods[].names in ${APPS}: expected worker Job pods matching ${WORKER_POD_PATTERN} (never queue-manager or the operator); found q1-loader-producer-abcde,queue-manager-7d9f6c5b4-abcde`,
    ],
    [
      "two brokers when the cluster tolerates one",
      () => {
        const e = brokers();
        e.spec.selectors.pods[0].names = "k3-brokers-0,k3-brokers-1";
        return e;
      },
      `spec.selectors.pods[].names in ${KAFKA}: expected at most 1 broker pod(s) at once (the cluster's fault tolerance); found k3-brokers-0,k3-brokers-1`,
    ],
    [
      "a duration above the cap",
      () => {
        const e = loader();
        e.spec.experiments[0].spec.components.env.find((v: any) => v.name === "TOTAL_CHAOS_DURATION").value = "601";
        return e;
      },
      "spec.experiments[].spec.components.env TOTAL_CHAOS_DURATION: expected a value of whole seconds, at most 600",
    ],
    [
      "a service account other than an experiment's own",
      () => ({ ...loader(), spec: { ...loader().spec, chaosServiceAccount: "default" } }),
      "spec.chaosServiceAccount: expected an experiment's own account (chaos-pod-delete, chaos-pod-network-latency); found 'default'",
    ],
    [
      "a pod in another namespace",
      () => {
        const e = loader();
        e.spec.selectors.pods[0].namespace = "kube-system";
        return e;
      },
      `spec.selectors.pods[].namespace: expected ${APPS} (worker pods) or ${KAFKA} (broker pods); found kube-system`,
    ],
  ])("refuses %s, naming the rule", (_, engine, message) => {
    const result = dryRun(engine());
    expect(result.ok).toBe(false);
    expect(result.output).toContain(`ValidatingAdmissionPolicy '${guard.policy.metadata.name}'`);
    expect(result.output).toContain(refusal(message));
  });

  it("checks an engine being started, and lets one be stopped", () => {
    const e = loader();
    expect(kubectlWith(e, "create", "-f", "-").ok).toBe(true);
    const patch = (spec: object) =>
      kubectlWith({}, "patch", "chaosengine", e.metadata.name, "-n", CHAOS, "--type", "merge", "-p", JSON.stringify({ spec }));
    try {
      expect(patch({ engineState: "active" })).toEqual({ ok: true, output: `chaosengine.litmuschaos.io/${e.metadata.name} patched` });
      const started = patch({ engineState: "active", chaosServiceAccount: "default" });
      expect([started.ok, started.output]).toEqual([false, expect.stringContaining(refusal("spec.chaosServiceAccount: expected"))]);
      // Stopping always gets through, even with a spec the guard would refuse: a stopped engine runs nothing.
      expect(patch({ engineState: "stop", chaosServiceAccount: "default" }).ok).toBe(true);
      const restarted = patch({ engineState: "active" });
      expect([restarted.ok, restarted.output]).toEqual([false, expect.stringContaining(refusal("spec.chaosServiceAccount: expected"))]);
    } finally {
      kubectl("delete", "chaosengine", e.metadata.name, "-n", CHAOS, "--ignore-not-found");
    }
  });

  it("leaves other namespaces alone", () => {
    const e = loader();
    delete e.spec.selectors;
    e.spec.appinfo = { appns: APPS, applabel: "app=x", appkind: "deployment" };
    expect(dryRun({ ...e, metadata: { ...e.metadata, namespace: APPS } }).ok).toBe(true);
  });
});
