/**
 * The ChaosEngine admission guard in the REAL API server: the policy and its binding for namespaces
 * of this test only, then engines sent with `kubectl create --dry-run=server` (admission runs in
 * full, nothing is stored). The engines spec.ts builds are admitted, which also shows the guard's
 * CEL compiles and runs there; every bypass class (bypasses.ts) is refused with its own message;
 * starting an engine is checked and stopping one is not; Litmus' own accounts may write an engine
 * back through their Go types and no one else may add what those types add.
 */
import { randomBytes } from "node:crypto";
import { committedConfig } from "../../test/helpers";
import {
  deletePolicies,
  kubectl,
  kubectlWith,
  policyTypeWarnings,
  requireEnv,
  untilEnforced,
  kubectlApply,
} from "../../test/integration/local-platform";
import type { BrokerFailureScenario } from "../config";
import { WORKER_POD_PATTERN, brokerPodPattern, engineGuard } from "../guard";
import { bypasses } from "./bypasses";
import { brokerFailureEngine, workerNetworkLatencyEngine, workerPodDeleteEngine } from "../spec";

const run = randomBytes(3).toString("hex");
const CHAOS = `chaos-guard-${run}`;
const APPS = `stf-guard-${run}`;
const KAFKA = `kafka-guard-${run}`;
const RUNNER_IMAGE = "litmuschaos.docker.scarf.sh/litmuschaos/chaos-runner:3.28.0";
const LIMITS = {
  maxDurationSeconds: 600,
  workerPodPattern: WORKER_POD_PATTERN,
  kafkaHosts: [`k3-kafka-bootstrap.${KAFKA}`],
  prometheusAddress: "http://p:9090",
  chaosRunnerImage: RUNNER_IMAGE,
};
const guard = engineGuard({
  ...LIMITS,
  chaosNamespace: CHAOS,
  appsNamespace: APPS,
  kafkaNamespace: KAFKA,
  maxBrokersAtOnce: 1,
  kafkaPodPattern: brokerPodPattern("k3", "brokers"),
  // The apps namespace too, so that an engine there meets the guard (as with bindTo "all"); never
  // every namespace here: other tests' engines share this API server.
  bindTo: [CHAOS, APPS],
  namePrefix: `chaos-guard-${run}`,
});

const dryRun = (engine: object) => kubectlWith(undefined, engine, "create", "--dry-run=server", "-f", "-");
const refusal = (message: string) => `denied request: ${message}`;
/** `kubectl patch` of the ChaosEngine `name` (`type` merge or json), `flags` added; never throws. */
const patchEngine = (name: string, type: "merge" | "json", body: object, ...flags: string[]) =>
  kubectlWith(undefined, undefined, "patch", "chaosengine", name, "-n", CHAOS, "--type", type, ...flags, "-p", JSON.stringify(body));

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
  workerPodDeleteEngine(
    "loader-pod-delete",
    chaos.scenarios.loaderPodDelete,
    ctx,
    names,
    names.map((n) => n.replace(/-[^-]+$/, "")),
  ) as any;
const brokers = () => brokerFailureEngine(broker, ctx, [{ name: "brokers", replicas: 3 }]) as any;
const latency = () =>
  workerNetworkLatencyEngine(chaos.scenarios.networkLatency, { ...ctx, kafkaHosts: LIMITS.kafkaHosts }, [
    "q1-loader-producer-abcde",
  ]) as any;

let activeAfterMs = -1;

beforeAll(async () => {
  requireEnv("KUBECONFIG");
  for (const ns of [CHAOS, APPS, KAFKA]) kubectl("create", "namespace", ns);
  kubectlApply({ apiVersion: "v1", kind: "List", items: [guard.policy, guard.binding] });
  activeAfterMs = await untilEnforced(guard.policy.metadata.name, () => dryRun(loader(["queue-manager-7d9f6c5b4-abcde"])));
  console.log(`the guard was enforced ${activeAfterMs} ms after kubectl apply returned`);
}, 120_000);

afterAll(() => {
  deletePolicies(guard.policy.metadata.name);
  for (const ns of [CHAOS, APPS, KAFKA]) kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false");
});

describe("the ChaosEngine guard in the real API server", () => {
  it("type-checks every expression against the Litmus CRD", async () => {
    expect(await policyTypeWarnings(guard.policy.metadata.name)).toEqual([]);
  });

  it("admits the engines spec.ts builds: the guard runs and does not block them", () => {
    expect(activeAfterMs).toBeGreaterThanOrEqual(0);
    const engines = [
      loader(["q1-loader-producer-abcde", "q2-loader-ws-fghij"]),
      workerPodDeleteEngine(
        "arango-connector-pod-delete",
        chaos.scenarios.arangoConnectorPodDelete,
        ctx,
        ["q3-arango-connector-klmno"],
        ["q3-arango-connector"],
      ),
      workerNetworkLatencyEngine(chaos.scenarios.networkLatency, { ...ctx, kafkaHosts: LIMITS.kafkaHosts }, [
        "q1-loader-producer-abcde",
        "q3-arango-connector-klmno",
      ]),
      brokers(),
    ];
    for (const e of engines)
      expect(dryRun(e)).toEqual({ ok: true, output: `chaosengine.litmuschaos.io/${e.metadata.name} created (server dry run)` });
  });

  it.each(bypasses({ chaos: CHAOS, apps: APPS, kafka: KAFKA }, { loader: () => loader(), latency, broker: brokers }, LIMITS))(
    "refuses %s, naming the rule",
    (_, engine, message) => {
      const result = dryRun(engine());
      expect(result.ok).toBe(false);
      expect(result.output).toContain(`ValidatingAdmissionPolicy '${guard.policy.metadata.name}'`);
      expect(result.output).toContain(refusal(message));
    },
  );

  it("checks an engine being started, and lets one be stopped", () => {
    const e = loader();
    expect(kubectlWith(undefined, e, "create", "-f", "-").ok).toBe(true);
    const patch = (spec: object) => patchEngine(e.metadata.name, "merge", { spec });
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

  it("admits what Litmus' Go types write back, and nothing beside it", () => {
    const e = { ...loader(), spec: { ...loader().spec, engineState: "active" } };
    e.metadata.name = `writeback-${run}`;
    expect(kubectlWith(undefined, e, "create", "-f", "-").ok).toBe(true);
    const patch = (ops: object[]) => patchEngine(e.metadata.name, "json", ops, "--dry-run=server");
    // chaos-operator 3.18.0 writes appinfo, ComponentParams.Runner.Resources, the runner image it
    // filled in, and ExperimentComponents' StatusCheckTimeouts and Resources, all as Go zero values.
    const goZeroes = [
      { op: "add", path: "/spec/appinfo", value: {} },
      { op: "add", path: "/spec/components", value: { runner: { image: RUNNER_IMAGE, resources: {} } } },
      { op: "add", path: "/spec/experiments/0/spec/components/statusCheckTimeouts", value: {} },
      { op: "add", path: "/spec/experiments/0/spec/components/resources", value: {} },
    ];
    try {
      expect(patch(goZeroes)).toEqual({
        ok: true,
        output: expect.stringMatching(new RegExp(`^chaosengine.litmuschaos.io/${e.metadata.name} patched`)),
      });
      // The runner's command is not in the CRD's schema: only dyn() sees it.
      const command = patch([...goZeroes, { op: "add", path: "/spec/components/runner/command", value: ["sh", "-c", "true"] }]);
      expect([command.ok, command.output]).toEqual([
        false,
        expect.stringContaining(
          refusal("spec.components.runner: expected only the image and an empty resources (as Litmus writes them back); found command"),
        ),
      ]);
    } finally {
      kubectl("delete", "chaosengine", e.metadata.name, "-n", CHAOS, "--ignore-not-found");
    }
  });
});
