/**
 * The ChaosEngine admission guard: its objects, and its CEL evaluated locally with cel-js the way
 * the API server runs a ValidatingAdmissionPolicy (match conditions, then variables, then each
 * validation in order; the first that fails is the refusal). guard.itest.ts runs the same against
 * the real API server.
 */
import { admit } from "../../test/cel";
import { committedConfig } from "../../test/helpers";
import type { BrokerFailureScenario } from "../config";
import { WORKER_POD_PATTERN, brokerPodPattern, engineGuard } from "../guard";
import { engineFor } from "../launch";
import { type PodInfo, WORKER_TARGETS, type WorkerScenario, brokerFailureEngine } from "../spec";

const ARGS = {
  chaosNamespace: "chaos",
  appsNamespace: "stf",
  kafkaNamespace: "kafka",
  maxDurationSeconds: 600,
  maxBrokersAtOnce: 1,
  workerPodPattern: WORKER_POD_PATTERN,
  kafkaPodPattern: brokerPodPattern("k3", "brokers"),
  namePrefix: "dev",
};

/** What the API server answers to `operation` on the engine (see admit). */
const admission = (guard: ReturnType<typeof engineGuard>, engine: object, operation: "CREATE" | "UPDATE" = "CREATE"): string =>
  admit(guard.policy, { operation, object: engine });

const chaos = committedConfig("dev").chaos!;
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
const ctx = { chaosNamespace: "chaos", kafkaNamespace: "kafka", clusterName: "k3", prometheusAddress: "http://p:9090" };
const workerEngine = (scenario: WorkerScenario) => engineFor(scenario, target, pods, new Date("2026-12-01T08:00:00Z")) as any;
const brokerEngine = () => brokerFailureEngine(broker, ctx) as any;

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

  it("a binding that denies, in the chaos namespace only", () => {
    expect(binding).toMatchObject({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: "dev-chaosengine-guard" },
      spec: {
        policyName: "dev-chaosengine-guard",
        validationActions: ["Deny"],
        matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "chaos" } } },
      },
    });
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

  it("refuses a duration that is missing, not whole seconds, or above the cap, and a share above 100%", () => {
    const duration = (value: string | undefined) =>
      loaderEngine((e) => {
        const v = env(e).find((x) => x.name === "TOTAL_CHAOS_DURATION")!;
        if (value === undefined) e.spec.experiments[0].spec.components.env = env(e).filter((x) => x !== v);
        else v.value = value;
      });
    const capped = "spec.experiments[].spec.components.env TOTAL_CHAOS_DURATION: expected a value of whole seconds, at most 600";
    expect(admission(guard, duration("600"))).toBe("admitted");
    expect(admission(guard, duration("601"))).toBe(capped);
    expect(admission(guard, duration("60s"))).toBe(capped);
    expect(admission(guard, duration("99999999999999999999"))).toBe(capped); // never reaches int(): no overflow error
    expect(admission(guard, duration(undefined))).toMatch(/^spec\.experiments\[\]\.spec\.components\.env: expected TOTAL_CHAOS_DURATION/);
    const share = (value: string) => loaderEngine((e) => env(e).push({ name: "PODS_AFFECTED_PERC", value }));
    expect(admission(guard, share("100"))).toBe("admitted");
    expect(admission(guard, share("101"))).toBe(
      "spec.experiments[].spec.components.env PODS_AFFECTED_PERC: expected a value of whole percent, at most 100",
    );
  });

  it("refuses a service account other than an experiment's own", () => {
    expect(
      admission(
        guard,
        loaderEngine((e) => (e.spec.chaosServiceAccount = "litmus-admin")),
      ),
    ).toBe(
      "spec.chaosServiceAccount: expected an experiment's own account (chaos-pod-delete, chaos-pod-network-latency); found 'litmus-admin'",
    );
    // A look-alike name is no better.
    expect(
      admission(
        guard,
        loaderEngine((e) => (e.spec.chaosServiceAccount = "chaos-admin")),
      ),
    ).toMatch(/found 'chaos-admin'$/);
    expect(
      admission(
        guard,
        loaderEngine((e) => delete e.spec.chaosServiceAccount),
      ),
    ).toMatch(/found ''$/);
  });

  it("checks starting an engine, and lets stopping or deleting one through", () => {
    const bad = loaderEngine((e) => (e.spec.chaosServiceAccount = "default"));
    expect(admission(guard, bad, "UPDATE")).toMatch(/^spec\.chaosServiceAccount/);
    expect(admission(guard, { ...bad, spec: { ...bad.spec, engineState: "stop" } }, "CREATE")).toMatch(/^spec\.chaosServiceAccount/);
    expect(admission(guard, { ...bad, spec: { ...bad.spec, engineState: "stop" } }, "UPDATE")).toBe("not checked");
    expect(admission(guard, { ...bad, metadata: { ...bad.metadata, deletionTimestamp: "2026-12-01T08:00:00Z" } }, "UPDATE")).toBe(
      "not checked",
    );
  });
});
