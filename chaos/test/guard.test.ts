/**
 * The ChaosEngine admission guard: its objects, and its CEL evaluated locally with cel-js the way
 * the API server runs a ValidatingAdmissionPolicy (match conditions, then variables, then each
 * validation in order; the first that fails is the refusal). guard.itest.ts runs the same against
 * the real API server.
 */
import { admit } from "../../test/cel";
import { committedConfig } from "../../test/helpers";
import type { BrokerFailureScenario } from "../config";
import { type EngineGuardArgs, WORKER_POD_PATTERN, brokerPodPattern, engineGuard } from "../guard";
import { engineFor } from "../launch";
import { bypasses } from "./bypasses";
import { type PodInfo, WORKER_TARGETS, type WorkerScenario, brokerFailureEngine } from "../spec";

const chaos = committedConfig("dev").chaos!;
const RUNNER_IMAGE = "litmuschaos.docker.scarf.sh/litmuschaos/chaos-runner:3.28.0";
const ARGS: EngineGuardArgs = {
  chaosNamespace: "chaos",
  appsNamespace: "stf",
  kafkaNamespace: "kafka",
  maxDurationSeconds: 600,
  maxBrokersAtOnce: 1,
  workerPodPattern: WORKER_POD_PATTERN,
  kafkaPodPattern: brokerPodPattern("k3", "brokers"),
  kafkaHosts: ["k3-kafka-bootstrap.kafka"],
  prometheusAddress: chaos.prometheusAddress,
  chaosRunnerImage: RUNNER_IMAGE,
  bindTo: ["chaos"],
  namePrefix: "dev",
};

/** What the API server answers to `operation` on the engine, by `username` (see admit). */
const admission = (
  guard: ReturnType<typeof engineGuard>,
  engine: object,
  operation: "CREATE" | "UPDATE" = "CREATE",
  { oldObject, username = "kubernetes-admin" }: { oldObject?: object; username?: string } = {},
): string =>
  admit(guard.policy, {
    operation,
    object: engine,
    userInfo: { username },
    ...(operation === "UPDATE" ? { oldObject: oldObject ?? engine } : {}),
  });

const target = { chaos, appsNamespace: "stf", kafkaNamespace: "kafka", clusterName: "k3", kafkaHosts: ["k3-kafka-bootstrap.kafka"] };
const workerPod = (name: string, job: string): PodInfo => ({
  name,
  namespace: "stf",
  phase: "Running",
  ownerJob: job,
  labels: { "batch.kubernetes.io/job-name": job },
});
const pods = [
  workerPod("q1-loader-producer-abcde", "q1-loader-producer"),
  workerPod("q2-loader-ws-fghij", "q2-loader-ws"),
  workerPod("q3-arango-connector-klmno", "q3-arango-connector"),
];
const broker: BrokerFailureScenario = {
  enabled: true,
  pool: "brokers",
  brokersAtOnce: 1,
  durationSeconds: 180,
  intervalSeconds: 60,
  recoverWithinSeconds: 300,
};
const ctx = { chaosNamespace: "chaos", kafkaNamespace: "kafka", clusterName: "k3", prometheusAddress: chaos.prometheusAddress };
const workerEngine = (scenario: WorkerScenario) => engineFor(scenario, target, pods, new Date("2026-12-01T08:00:00Z")) as any;
const brokerEngine = () => brokerFailureEngine(broker, ctx, [{ name: "brokers", replicas: 3 }]) as any;

/** The loader engine a run creates, changed by `edit`. */
function loaderEngine(edit: (e: any) => void) {
  const e = workerEngine("loader-pod-delete");
  edit(e);
  return e;
}
const env = (e: any) => e.spec.experiments[0].spec.components.env as { name: string; value?: string }[];

describe("the guard's objects", () => {
  const { policy, binding } = engineGuard(ARGS);

  it("a policy on CREATE and UPDATE of Litmus ChaosEngines that refuses when it cannot decide", () => {
    expect([policy.apiVersion, policy.kind, policy.metadata.name]).toEqual([
      "admissionregistration.k8s.io/v1",
      "ValidatingAdmissionPolicy",
      "dev-chaosengine-guard",
    ]);
    expect(policy.spec.failurePolicy).toBe("Fail");
    expect(policy.spec.matchConstraints).toEqual({
      resourceRules: [
        { apiGroups: ["litmuschaos.io"], apiVersions: ["v1alpha1"], operations: ["CREATE", "UPDATE"], resources: ["chaosengines"] },
      ],
    });
    for (const v of policy.spec.validations) expect("message" in v || "messageExpression" in v).toBe(true);
  });

  it("a binding that denies where Litmus acts: the chaos namespace, or every namespace for an operator not ours", () => {
    expect(binding).toEqual({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: "dev-chaosengine-guard", labels: expect.any(Object) },
      spec: {
        policyName: "dev-chaosengine-guard",
        validationActions: ["Deny"],
        matchResources: {
          namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["chaos"] }] },
        },
      },
    });
    expect(engineGuard({ ...ARGS, bindTo: "all" }).binding.spec.matchResources).toEqual({});
    expect(() => engineGuard({ ...ARGS, bindTo: ["stf"] })).toThrow(
      "bindTo: expected the chaos namespace chaos among the bound namespaces; found stf",
    );
  });

  it("refuses limits it cannot enforce", () => {
    expect(() => engineGuard({ ...ARGS, maxBrokersAtOnce: -1 })).toThrow("maxBrokersAtOnce: expected a whole number >= 0; found -1");
    expect(() => engineGuard({ ...ARGS, maxDurationSeconds: 1.5 })).toThrow("maxDurationSeconds");
    expect(() => engineGuard({ ...ARGS, kafkaPodPattern: "k3-brokers-" })).toThrow("kafkaPodPattern: expected a pattern anchored");
  });
});

describe("the worker pod pattern", () => {
  const pattern = new RegExp(WORKER_POD_PATTERN);

  it("matches the pods of every scenario's Jobs, as a Job names them", () => {
    for (const job of ["q1-loader-producer", "q2-loader-ws", "q3-arango-connector", "a-b-loader-ws"]) {
      expect(Object.values(WORKER_TARGETS).some((r) => r.test(job))).toBe(true);
      expect(pattern.test(`${job}-x7k2b`)).toBe(true);
      expect(pattern.test(job)).toBe(false); // a pod's name is never the bare Job name
    }
  });

  it("never matches queue-manager, the operator, Kafka or a chaos pod", () => {
    for (const name of [
      "queue-manager-7d9f6c5b4-abcde",
      "streamforge-self-healing-operator-5c6d7-xyzab",
      "k3-brokers-0",
      "pod-delete-x7k2ab-12345",
      "q1-loader-producer-abcde-extra",
      "loader-producer-abcde", // no queue id
    ])
      expect([name, pattern.test(name)]).toEqual([name, false]);
  });
});

describe("the guard's CEL, evaluated locally", () => {
  const guard = engineGuard(ARGS);

  it("admits the engines spec.ts and the launcher produce", () => {
    for (const scenario of Object.keys(WORKER_TARGETS) as WorkerScenario[])
      expect([scenario, admission(guard, workerEngine(scenario))]).toEqual([scenario, "admitted"]);
    expect(admission(guard, brokerEngine())).toBe("admitted");
  });

  it("refuses selection by label, kind or workload, and an engine that names no pod", () => {
    const byLabel = loaderEngine((e) => {
      delete e.spec.selectors;
      e.spec.appinfo = { appns: "stf", applabel: "app=worker", appkind: "deployment" };
    });
    expect(admission(guard, byLabel)).toMatch(/^spec\.appinfo: expected absent/);
    const byWorkload = loaderEngine((e) => (e.spec.selectors = { workloads: [{ kind: "deployment", namespace: "stf", names: "x" }] }));
    expect(admission(guard, byWorkload)).toMatch(/^spec\.selectors\.workloads: expected absent/);
    expect(
      admission(
        guard,
        loaderEngine((e) => delete e.spec.selectors),
      ),
    ).toBe("spec.selectors.pods: expected the target pods by namespace and names; found none");
  });

  it("refuses pods outside the apps and Kafka namespaces", () => {
    const elsewhere = loaderEngine((e) => e.spec.selectors.pods.push({ namespace: "kube-system", names: "q1-loader-producer-abcde" }));
    expect(admission(guard, elsewhere)).toBe(
      "spec.selectors.pods[].namespace: expected stf (worker pods) or kafka (broker pods); found stf,kube-system",
    );
  });

  it("refuses queue-manager and the operator among the worker pods", () => {
    for (const name of ["queue-manager-7d9f6c5b4-abcde", "streamforge-self-healing-operator-5c6d7-xyzab"]) {
      const e = loaderEngine((x) => (x.spec.selectors.pods[0].names = `q1-loader-producer-abcde,${name}`));
      expect(admission(guard, e)).toBe(
        `spec.selectors.pods[].names in stf: expected worker Job pods matching ${WORKER_POD_PATTERN} (never queue-manager or the operator); found q1-loader-producer-abcde,${name}`,
      );
    }
  });

  it("refuses more brokers than the cluster tolerates, in one entry or several, and any broker when it tolerates none", () => {
    const two = brokerEngine();
    two.spec.selectors.pods[0].names = "k3-brokers-0,k3-brokers-1";
    const expected =
      "spec.selectors.pods[].names in kafka: expected at most 1 broker pod(s) at once (the cluster's fault tolerance); found k3-brokers-0,k3-brokers-1";
    expect(admission(guard, two)).toBe(expected);
    const split = brokerEngine();
    split.spec.selectors.pods.push({ namespace: "kafka", names: "k3-brokers-1" });
    expect(admission(guard, split)).toBe(expected);
    expect(admission(engineGuard({ ...ARGS, maxBrokersAtOnce: 0 }), brokerEngine())).toMatch(/expected at most 0 broker pod\(s\)/);
    const notBroker = brokerEngine();
    notBroker.spec.selectors.pods[0].names = "strimzi-cluster-operator-6d8c9-abcde";
    expect(admission(guard, notBroker)).toBe(
      "spec.selectors.pods[].names in kafka: expected broker pods matching ^k3-brokers-[0-9]+$; found strimzi-cluster-operator-6d8c9-abcde",
    );
  });

  it("refuses a duration that is missing, not whole seconds, or above the cap", () => {
    const duration = (value: string | undefined) =>
      loaderEngine((e) => {
        const v = env(e).find((x) => x.name === "TOTAL_CHAOS_DURATION")!;
        if (value === undefined) e.spec.experiments[0].spec.components.env = env(e).filter((x) => x !== v);
        else v.value = value;
      });
    const capped = "spec.experiments[0].spec.components.env TOTAL_CHAOS_DURATION: expected whole seconds, at most 600";
    expect(admission(guard, duration("600"))).toBe("admitted");
    expect(admission(guard, duration("601"))).toBe(capped);
    expect(admission(guard, duration("60s"))).toBe(capped);
    expect(admission(guard, duration("99999999999999999999"))).toBe(capped); // never reaches int(): no overflow error
    expect(admission(guard, duration(undefined))).toBe(
      "spec.experiments[0].spec.components.env: expected TOTAL_CHAOS_DURATION (whole seconds, at most 600) for pod-delete; found none",
    );
  });

  it("refuses a service account other than the engine's own fault's", () => {
    const account = (sa: string | undefined) =>
      admission(
        guard,
        loaderEngine((e) => (sa === undefined ? delete e.spec.chaosServiceAccount : (e.spec.chaosServiceAccount = sa))),
      );
    expect(account("litmus-admin")).toBe(
      "spec.chaosServiceAccount: expected chaos-pod-delete (the account of the engine's own fault); found 'litmus-admin'",
    );
    // The other fault's account may create privileged pods: no better.
    expect(account("chaos-pod-network-latency")).toMatch(/found 'chaos-pod-network-latency'$/);
    expect(account("chaos-admin")).toMatch(/found 'chaos-admin'$/);
    expect(account(undefined)).toMatch(/found ''$/);
  });

  it("checks starting an engine, and lets stopping or deleting one through", () => {
    const bad = loaderEngine((e) => (e.spec.chaosServiceAccount = "default"));
    expect(admission(guard, bad, "UPDATE", { oldObject: workerEngine("loader-pod-delete") })).toMatch(/^spec\.chaosServiceAccount/);
    expect(admission(guard, { ...bad, spec: { ...bad.spec, engineState: "stop" } }, "CREATE")).toMatch(/^spec\.chaosServiceAccount/);
    expect(admission(guard, { ...bad, spec: { ...bad.spec, engineState: "stop" } }, "UPDATE")).toBe("not checked");
    expect(admission(guard, { ...bad, metadata: { ...bad.metadata, deletionTimestamp: "2026-12-01T08:00:00Z" } }, "UPDATE")).toBe(
      "not checked",
    );
  });
});

describe("every bypass class, refused with its message", () => {
  const guard = engineGuard(ARGS);
  const engines = {
    loader: () => workerEngine("loader-pod-delete"),
    latency: () => workerEngine("worker-network-latency"),
    broker: brokerEngine,
  };
  const cases = bypasses({ chaos: "chaos", apps: "stf", kafka: "kafka" }, engines, ARGS);

  it("starts from engines the guard admits", () => {
    for (const make of Object.values(engines)) expect(admission(guard, make())).toBe("admitted");
  });

  it.each(cases)("refuses %s", (_, engine, message) => {
    expect(admission(guard, engine())).toBe(message);
  });

  it("refuses the same on an update that starts the engine", () => {
    const stopped = { ...engines.loader(), spec: { ...engines.loader().spec, engineState: "stop" } };
    for (const [what, engine, message] of cases) {
      const started = engine();
      started.spec.engineState = "active";
      expect([what, admission(guard, started, "UPDATE", { oldObject: stopped })]).toEqual([what, message]);
    }
  });
});

describe("Litmus writing an engine back", () => {
  const guard = engineGuard(ARGS);
  /** What chaos-operator's and chaos-runner's Go types write for our engine: zero-valued structs included. */
  const roundTripped = (image?: string) => {
    const e = workerEngine("loader-pod-delete");
    e.spec.appinfo = {};
    e.spec.components = { runner: { ...(image ? { image } : {}), resources: {} } };
    Object.assign(e.spec.experiments[0].spec.components, { statusCheckTimeouts: {}, resources: {} });
    e.metadata.finalizers = ["chaosengine.litmuschaos.io/finalizer"];
    return e;
  };

  it("is admitted, with the runner image the operator fills in, and so is any later write that keeps it", () => {
    const before = workerEngine("loader-pod-delete");
    for (const username of ["system:serviceaccount:chaos:litmus", "system:serviceaccount:chaos:chaos-pod-delete"]) {
      expect(admission(guard, roundTripped(), "UPDATE", { oldObject: before, username })).toBe("admitted");
      expect(admission(guard, roundTripped(RUNNER_IMAGE), "UPDATE", { oldObject: before, username })).toBe("admitted");
    }
    expect(
      admission(guard, roundTripped(RUNNER_IMAGE), "UPDATE", {
        oldObject: roundTripped(RUNNER_IMAGE),
        username: "system:serviceaccount:chaos:chaos-scheduler",
      }),
    ).toBe("admitted");
  });

  it("gives no one a runner setting beside what Litmus writes", () => {
    const withCommand = roundTripped(RUNNER_IMAGE);
    withCommand.spec.components.runner.command = ["sh"];
    expect(admission(guard, withCommand, "UPDATE", { username: "system:serviceaccount:chaos:litmus" })).toBe(
      "spec.components.runner: expected only the image and an empty resources (as Litmus writes them back); found command",
    );
  });
});
