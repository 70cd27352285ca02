import { renderStack } from "../../infra/render/render";
import { CrdCatalog } from "../../infra/validate/crd-schema";
import { committedConfig, variantProblems } from "../../test/helpers";
import { guardFor, litmusChartValues } from "../component";
import { faultTolerance } from "../config";
import { engineFor } from "../launch";
import {
  FAULTS,
  RULES,
  type PodInfo,
  brokerTargets,
  chaosExperiment,
  experimentRbac,
  scheduleObjects,
  selectWorkerPods,
  workerNetworkLatencyEngine,
  workerPodDeleteEngine,
} from "../spec";

const problemsOf = variantProblems;

/** A made-up digest: prod refuses runner images without one. */
const DIGEST = `@sha256:${"a".repeat(64)}`;
const withBrokerFailure = (raw: any, brokersAtOnce = 1, pool = "brokers") => {
  raw.chaos = {
    enabled: true,
    allowInProduction: true,
    runnerImage: `docker.io/litmuschaos/go-runner:3.28.0${DIGEST}`,
    chaosRunnerImage: `docker.io/litmuschaos/chaos-runner:3.28.0${DIGEST}`,
    prometheusAddress: "http://prometheus:9090",
    scenarios: { brokerFailure: { pool, brokersAtOnce } },
  };
};

describe("chaos is safe by default", () => {
  it("is off unless a stack turns it on, and never on in prod without its own opt-in", () => {
    expect(committedConfig("prod").chaos).toBeUndefined();
    expect(problemsOf("prod", (r) => (r.chaos = { enabled: true, prometheusAddress: "http://p:9090" }))).toContain(
      "streamforge:chaos.enabled: prod: expected false unless streamforge:chaos.allowInProduction is true in the stack's own file; found true. Chaos never runs in prod by accident",
    );
  });

  it("refuses a broker failure the cluster cannot tolerate, at preview", () => {
    expect(faultTolerance(3, 2)).toBe(1);
    expect(problemsOf("prod", (r) => withBrokerFailure(r))).toEqual([]);
    expect(problemsOf("prod", (r) => withBrokerFailure(r, 2))).toEqual([
      "streamforge:chaos.scenarios.brokerFailure.brokersAtOnce: expected at most the cluster's fault tolerance, replication factor 3 minus min ISR 2 = 1; found 2",
    ]);
    expect(problemsOf("dev", (r) => withBrokerFailure(r, 1, "dual-role"))).toEqual([
      "streamforge:chaos.scenarios.brokerFailure.brokersAtOnce: expected at most the cluster's fault tolerance, replication factor 1 minus min ISR 1 = 0; found 1. This cluster cannot lose a broker without refusing acks=all writes: turn the scenario off",
    ]);
    expect(problemsOf("prod", (r) => withBrokerFailure(r, 1, "controllers"))).toEqual([
      'streamforge:chaos.scenarios.brokerFailure.pool: expected a broker pool of streamforge:kafka.nodePools (brokers); found "controllers"',
    ]);
  });
});

describe("the opt-in schedule", () => {
  it("is off unless asked for, needs an engine declared ahead of a run, and names a bad cron", () => {
    expect(committedConfig("dev").chaos!.schedule).toBeUndefined();
    expect(problemsOf("dev", (r) => (r.chaos.schedule = { cron: "0 3 * * 1" }))).toEqual([
      "streamforge:chaos.schedule: expected a scenario declared ahead of a run (streamforge:chaos.scenarios.brokerFailure) for the schedule to start; worker scenarios resolve their pods when they start and run on demand (npm run chaos)",
    ]);
    expect(problemsOf("local", (r) => (r.chaos.schedule = { cron: "every monday" }))).toEqual([
      'streamforge:chaos.schedule.cron: expected a five-field cron expression such as "0 3 * * 1"; found "every monday" (string)',
    ]);
  });

  it("may only start the declared engines, once at a time, under the restricted Pod Security Standard", () => {
    const s = scheduleObjects(
      { cron: "0 3 * * 1", timeZone: "Etc/UTC", suspend: false, image: "registry.k8s.io/kubectl:v1.34.2" },
      "chaos",
      ["kafka-broker-failure"],
    );
    expect(s.role.rules).toEqual([
      { apiGroups: ["litmuschaos.io"], resources: ["chaosengines"], resourceNames: ["kafka-broker-failure"], verbs: ["get", "patch"] },
    ]);
    expect(s.cronJob.spec.concurrencyPolicy).toBe("Forbid");
    const pod = s.cronJob.spec.jobTemplate.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.containers.map((c) => [c.args.slice(0, 3), c.securityContext])).toEqual([
      [
        ["patch", "chaosengine", "kafka-broker-failure"],
        { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
      ],
    ]);
  });
});

describe("experiments and their RBAC", () => {
  const chaos = committedConfig("dev").chaos!;
  const ns = { chaos: "chaos", apps: "stf", kafka: "kafka" };

  // What each fault's account may do, per namespace: the whole of it, so a rule added to spec.ts
  // without its upstream call here fails. The calls are in RULES (spec.ts) with file and line.
  const RUNNER_AND_EXPERIMENT = [
    { apiGroups: ["litmuschaos.io"], resources: ["chaosengines"], verbs: ["get", "update"] },
    { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "delete"] },
    { apiGroups: [""], resources: ["events"], verbs: ["create", "get", "update"] },
  ];
  const EXPECTED = {
    "pod-delete": {
      chaos: [
        ...RUNNER_AND_EXPERIMENT,
        { apiGroups: ["litmuschaos.io"], resources: ["chaosexperiments"], resourceNames: ["pod-delete"], verbs: ["get"] },
        { apiGroups: ["litmuschaos.io"], resources: ["chaosresults"], verbs: ["get", "create", "update"] },
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
      ],
      stf: [
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "delete"] },
        { apiGroups: ["batch"], resources: ["jobs"], verbs: ["list"] },
      ],
      kafka: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "delete"] }],
    },
    "pod-network-latency": {
      chaos: [
        ...RUNNER_AND_EXPERIMENT,
        { apiGroups: ["litmuschaos.io"], resources: ["chaosexperiments"], resourceNames: ["pod-network-latency"], verbs: ["get"] },
        { apiGroups: ["litmuschaos.io"], resources: ["chaosresults"], verbs: ["get", "create", "update", "patch"] },
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "create", "deletecollection"] },
      ],
      stf: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }],
    },
  } as const;

  it.each(FAULTS)("%s: a Role per namespace with exactly what the fault does there, Kafka only with the broker scenario", (fault) => {
    const roles = (kafka?: string) =>
      Object.fromEntries(experimentRbac(fault, { ...ns, kafka }).roles.map((r) => [r.role.metadata.namespace, r.role.rules]));
    expect(roles("kafka")).toEqual(EXPECTED[fault]);
    expect(roles(undefined)).toEqual(Object.fromEntries(Object.entries(EXPECTED[fault]).filter(([namespace]) => namespace !== "kafka")));
    for (const { binding } of experimentRbac(fault, ns).roles)
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: `chaos-${fault}`, namespace: "chaos" }]);
  });

  it("cites, for every rule, the upstream calls that need it (file and line)", () => {
    for (const fault of FAULTS)
      for (const rule of RULES[fault])
        expect([fault, rule.resources, rule.calls]).toEqual([fault, rule.resources, expect.stringMatching(/\.go L\d+/)]);
  });

  it("grants no exec, logs, pod rewrites, experiment rewrites or engine creation; pods create only to network latency, only in chaos", () => {
    const all = FAULTS.flatMap((fault) =>
      experimentRbac(fault, ns).roles.flatMap((r) => r.role.rules.map((rule) => ({ fault, ns: r.role.metadata.namespace, ...rule }))),
    );
    const grants = (resource: string, verb: string) => all.filter((r) => r.resources.includes(resource) && r.verbs.includes(verb));
    for (const [resource, verbs] of [
      ["pods/exec", ["get", "create"]],
      ["pods/log", ["get"]],
      ["pods", ["patch", "update"]],
      ["chaosexperiments", ["update", "patch", "delete", "create"]],
      ["chaosengines", ["create", "delete"]],
      ["chaosresults", ["delete"]],
      ["secrets", ["get", "list"]],
      ["configmaps", ["get", "list"]],
    ] as const)
      for (const verb of verbs) expect([resource, verb, grants(resource, verb)]).toEqual([resource, verb, []]);
    expect(grants("pods", "create").map((r) => [r.fault, r.ns])).toEqual([["pod-network-latency", "chaos"]]);
  });

  it("refuses namespaces that overlap (a target Role in the chaos namespace would add up with the chaos one)", () => {
    expect(() => experimentRbac("pod-delete", { chaos: "stf", apps: "stf" })).toThrow(
      "experimentRbac: expected the chaos, apps and Kafka namespaces to differ; found stf, stf",
    );
  });

  it("runs the experiments at the pinned runner image, the helper too (LIB_IMAGE), with the program's sequence and socket", () => {
    for (const fault of FAULTS)
      expect(chaosExperiment(fault, chaos).spec.definition.image).toBe("litmuschaos.docker.scarf.sh/litmuschaos/go-runner:3.28.0");
    expect(chaosExperiment("pod-network-latency", chaos).spec.definition.env).toEqual([
      { name: "SEQUENCE", value: "parallel" },
      { name: "LIB_IMAGE", value: "litmuschaos.docker.scarf.sh/litmuschaos/go-runner:3.28.0" },
      { name: "CONTAINER_RUNTIME", value: "containerd" },
      { name: "SOCKET_PATH", value: "/run/containerd/containerd.sock" },
    ]);
    expect(chaosExperiment("pod-delete", chaos).spec.definition.env).toEqual([{ name: "SEQUENCE", value: "serial" }]);
  });
});

describe("images and the operator's reach", () => {
  it("prod needs both runner images by digest, and names the key", () => {
    const on = (r: any) => {
      withBrokerFailure(r);
      delete r.chaos.runnerImage;
      delete r.chaos.chaosRunnerImage;
    };
    expect(problemsOf("prod", on)).toEqual([
      'streamforge:chaos.runnerImage: prod: expected an image pinned by digest (name:tag@sha256:<64 hex>); found "litmuschaos.docker.scarf.sh/litmuschaos/go-runner:3.28.0"',
      'streamforge:chaos.chaosRunnerImage: prod: expected an image pinned by digest (name:tag@sha256:<64 hex>); found "litmuschaos.docker.scarf.sh/litmuschaos/chaos-runner:3.28.0"',
    ]);
    const digest = "@sha256:" + "a".repeat(64);
    expect(
      problemsOf("prod", (r) => {
        on(r);
        r.chaos.runnerImage = `docker.io/litmuschaos/go-runner:3.28.0${digest}`;
        r.chaos.chaosRunnerImage = `docker.io/litmuschaos/chaos-runner:3.28.0${digest}`;
      }),
    ).toEqual([]);
  });

  it("accepts a tag or a digest elsewhere, and needs a tag where the chart builds repository:tag", () => {
    expect(problemsOf("dev", (r) => (r.chaos.runnerImage = "litmuschaos/go-runner"))).toEqual([
      expect.stringMatching(/^streamforge:chaos\.runnerImage: expected an image pinned by tag or digest/),
    ]);
    expect(problemsOf("dev", (r) => (r.chaos.chaosRunnerImage = `litmuschaos/chaos-runner@sha256:${"a".repeat(64)}`))).toEqual([
      expect.stringMatching(/^streamforge:chaos\.chaosRunnerImage: expected an image with a tag, optionally followed by @sha256:<digest>/),
    ]);
  });

  it("binds the engine guard to the chaos namespace only where Litmus is known to watch it alone, else to every namespace", () => {
    const args = (edit: (c: any) => void) => {
      const chaos: any = structuredClone(committedConfig("dev").chaos!);
      edit(chaos);
      const context = { chaosNamespace: "chaos", kafkaNamespace: "kafka", clusterName: "k3", prometheusAddress: chaos.prometheusAddress };
      return guardFor({ chaos, context: { ...context, appsNamespace: "stf", kafkaHosts: ["k3-kafka-bootstrap.kafka"] } }).binding.spec
        .matchResources;
    };
    const chaosOnly = {
      namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["chaos"] }] },
    };
    expect(args(() => {})).toEqual(chaosOnly);
    expect(args((c) => (c.operator = { ...c.operator, install: false }))).toEqual({});
    expect(args((c) => (c.operator = { ...c.operator, install: false, watchNamespace: "chaos" }))).toEqual(chaosOnly);
    expect(problemsOf("dev", (r) => (r.chaos.operator = { install: false, watchNamespace: "stf" }))).toEqual([
      'streamforge:chaos.operator.watchNamespace: expected the chaos namespace (chaos): engines run, and are guarded, there only; found "stf"',
    ]);
    expect(problemsOf("dev", (r) => (r.chaos.operator = { watchNamespace: "chaos" }))).toEqual([
      "streamforge:chaos.operator.watchNamespace: expected unset when the stack installs Litmus (it then watches the chaos namespace only)",
    ]);
  });

  it("installs the operator namespaced in the chaos namespace, with the configured runner image", () => {
    const chaos = committedConfig("dev").chaos!;
    const digest = "@sha256:" + "b".repeat(64);
    expect(litmusChartValues({ ...chaos, chaosRunnerImage: `registry:5000/litmuschaos/chaos-runner:3.28.0${digest}` })).toEqual({
      operatorMode: "namespaced",
      runner: { image: { repository: "registry:5000/litmuschaos/chaos-runner", tag: `3.28.0${digest}` } },
      policies: { monitoring: { disabled: true } },
    });
  });
});

describe("targeting", () => {
  const job = (name: string, ownerJob: string, extra: Partial<PodInfo> = {}): PodInfo => ({
    name,
    namespace: "stf",
    phase: "Running",
    ownerJob,
    labels: { "batch.kubernetes.io/job-name": ownerJob, "job-name": ownerJob },
    ...extra,
  });
  const pods: PodInfo[] = [
    job("q1-loader-producer-abcde", "q1-loader-producer"),
    job("q2-loader-ws-fghij", "q2-loader-ws"),
    job("q3-arango-connector-klmno", "q3-arango-connector"),
    job("q4-loader-producer-pqrst", "q4-loader-producer", { phase: "Succeeded" }),
    job("q5-loader-ws-uvwxy", "q5-loader-ws", { deleting: true }),
    // Not workers: queue-manager (a Rollout), the self-healing operator (a Deployment), Kafka, and Litmus's own pods.
    { name: "queue-manager-7d9f-abcde", namespace: "stf", phase: "Running", labels: { "app.kubernetes.io/name": "queue-manager" } },
    {
      name: "streamforge-self-healing-operator-5c6-xyz",
      namespace: "stf",
      phase: "Running",
      labels: { "app.kubernetes.io/name": "streamforge-self-healing-operator" },
    },
    { name: "k3-brokers-0", namespace: "kafka", phase: "Running", labels: { "strimzi.io/cluster": "k3" } },
    job("pod-delete-x7k2ab-12345", "pod-delete-x7k2ab", { labels: { "batch.kubernetes.io/job-name": "pod-delete-x7k2ab", chaosUID: "u" } }),
    job("q6-loader-ws-other", "q6-loader-ws", { namespace: "elsewhere" }),
  ];

  it("hits only Running pods of the scenario's Jobs in the apps namespace", () => {
    expect(selectWorkerPods("loader-pod-delete", pods, "stf", 100)).toEqual(["q1-loader-producer-abcde", "q2-loader-ws-fghij"]);
    expect(selectWorkerPods("arango-connector-pod-delete", pods, "stf", 100)).toEqual(["q3-arango-connector-klmno"]);
    expect(selectWorkerPods("worker-network-latency", pods, "stf", 100)).toEqual([
      "q1-loader-producer-abcde",
      "q2-loader-ws-fghij",
      "q3-arango-connector-klmno",
    ]);
  });

  it("never selects queue-manager, the operator, Kafka or a chaos pod, and keeps to the blast radius", () => {
    const forbidden = /queue-manager|self-healing|k3-|pod-delete/;
    for (const scenario of ["loader-pod-delete", "arango-connector-pod-delete", "worker-network-latency"] as const)
      expect(selectWorkerPods(scenario, pods, "stf", 100).filter((n) => forbidden.test(n))).toEqual([]);
    expect(selectWorkerPods("loader-pod-delete", pods, "stf", 50)).toEqual(["q1-loader-producer-abcde"]);
    expect(selectWorkerPods("loader-pod-delete", pods, "stf", 1)).toHaveLength(1);
    expect(selectWorkerPods("loader-pod-delete", [], "stf", 100)).toEqual([]);
  });

  it("names the broker pods the broker scenario deletes, no more than asked", () => {
    expect(brokerTargets("k3", "brokers", 1)).toEqual(["k3-brokers-0"]);
  });
});

describe("every Litmus object validates against the upstream CRDs", () => {
  const catalog = CrdCatalog.load();
  const ctx = {
    chaosNamespace: "chaos",
    kafkaNamespace: "kafka",
    clusterName: "k3",
    prometheusAddress: "http://p:9090",
    appsNamespace: "stf",
  };

  it.each([
    ["dev", []],
    ["local", ["ChaosEngine"]],
  ])("stack %s: experiments, created stopped engines", async (stack, engines) => {
    const { manifests } = await renderStack(stack);
    const litmus = manifests.filter((m) => m.apiVersion.startsWith("litmuschaos.io/"));
    expect(litmus.map((m) => m.kind).sort()).toEqual([...engines, "ChaosExperiment", "ChaosExperiment"]);
    expect(litmus.flatMap((m) => catalog.validate(m))).toEqual([]);
    for (const e of litmus.filter((m) => m.kind === "ChaosEngine")) expect((e as any).spec.engineState).toBe("stop");
    const ns = manifests.find((m) => m.kind === "Namespace" && m.metadata.name === "chaos")!;
    expect((ns.metadata.labels as Record<string, string>)["pod-security.kubernetes.io/enforce"]).toBe("privileged");
    // Only the chaos namespace is privileged.
    expect(
      manifests.filter((m) => m.kind === "Namespace" && (m.metadata.labels as any)["pod-security.kubernetes.io/enforce"] === "privileged"),
    ).toHaveLength(1);
  });

  it("the broker scenario's engine, and the worker engines a run creates", async () => {
    const prod = await renderStack("prod", { edit: (raw) => withBrokerFailure(raw) });
    const [engine] = prod.manifests.filter((m) => m.kind === "ChaosEngine") as any[];
    expect(engine.spec.engineState).toBe("stop");
    expect(engine.spec.selectors).toEqual({ pods: [{ namespace: "kafka", names: "k3-brokers-0" }] });
    const chaos = committedConfig("dev").chaos!;
    const workers = [
      workerPodDeleteEngine("loader-pod-delete", chaos.scenarios.loaderPodDelete, ctx, ["q1-loader-producer-abcde"]),
      workerNetworkLatencyEngine(chaos.scenarios.networkLatency, { ...ctx, kafkaHosts: ["k3-kafka-bootstrap.kafka"] }, [
        "q1-loader-producer-abcde",
      ]),
    ];
    expect([engine, ...workers].flatMap((m) => catalog.validate(m))).toEqual([]);
    for (const w of workers) expect([w.spec.engineState, (w.spec.selectors as any).pods[0].namespace]).toEqual(["stop", "stf"]);
  });
});

describe("the engine a run creates", () => {
  const chaos = committedConfig("dev").chaos!;
  const target = { chaos, appsNamespace: "stf", kafkaNamespace: "kafka", clusterName: "k3", kafkaHosts: ["k3-kafka-bootstrap.kafka"] };
  const pods: PodInfo[] = [
    {
      name: "q1-loader-ws-abcde",
      namespace: "stf",
      phase: "Running",
      ownerJob: "q1-loader-ws",
      labels: { "batch.kubernetes.io/job-name": "q1-loader-ws" },
    },
  ];

  it("is active, named after the scenario and the moment, and slows only the path to Kafka", () => {
    const e = engineFor("worker-network-latency", target, pods, new Date("2026-12-01T08:00:00Z")) as any;
    expect([e.metadata.name, e.spec.engineState]).toEqual(["worker-network-latency-20261201080000", "active"]);
    const env = Object.fromEntries(e.spec.experiments[0].spec.components.env.map((v: any) => [v.name, v.value]));
    expect(env).toMatchObject({ NETWORK_LATENCY: "300", JITTER: "50", DESTINATION_HOSTS: "k3-kafka-bootstrap.kafka" });
  });

  it("is refused for a scenario the stack turned off, and when nothing runs to hit", () => {
    const off = {
      ...target,
      chaos: { ...chaos, scenarios: { ...chaos.scenarios, loaderPodDelete: { ...chaos.scenarios.loaderPodDelete, enabled: false } } },
    };
    expect(() => engineFor("loader-pod-delete", off, pods, new Date())).toThrow(
      "Scenario loader-pod-delete is turned off in streamforge:chaos.scenarios",
    );
    expect(() => engineFor("arango-connector-pod-delete", target, pods, new Date())).toThrow(
      /No Running pod of arango-connector-pod-delete's Jobs/,
    );
  });
});
