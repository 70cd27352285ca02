import { renderStack } from "../../infra/render/render";
import { CrdCatalog } from "../../test/validate/crd-schema";
import { committedConfig, variantProblems } from "../../test/helpers";
import { guardFor } from "../component";
import { faultTolerance } from "../config";
import { engineFor } from "../launch";
import {
  FAULTS,
  RULES,
  type PodInfo,
  brokerFailureEngine,
  brokerTargets,
  chaosExperiment,
  experimentRbac,
  promProbe,
  promProbeShellLine,
  RELAUNCHES,
  promQueryShellProblem,
  relaunchProbeWindowSeconds,
  scheduleObjects,
  selectWorkerPods,
  strimziNodeIds,
  workResumedInputs,
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
    operator: { image: `docker.io/litmuschaos/chaos-operator:3.28.0${DIGEST}` },
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
      // pods list also serves the work-resumed k8sProbe; no Jobs are read.
      stf: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "delete"] }],
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
    const envOf = (fault: (typeof FAULTS)[number], c = chaos) =>
      Object.fromEntries(chaosExperiment(fault, c).spec.definition.env.map((e) => [e.name, e.value]));
    const crio = { ...chaos, containerRuntime: "crio" as const, socketPath: "/run/crio/crio.sock", runnerImage: "r.example/go-runner:9" };
    expect(envOf("pod-network-latency", crio)).toMatchObject({
      SEQUENCE: "parallel",
      LIB_IMAGE: "r.example/go-runner:9",
      CONTAINER_RUNTIME: "crio",
      SOCKET_PATH: "/run/crio/crio.sock",
    });
    expect(envOf("pod-delete")).toMatchObject({ SEQUENCE: "serial", FORCE: "true" });
  });

  it("sets the env the upstream fault definitions set (chaos-charts 3.28.0), not an empty list", () => {
    // Names in the order of faults/kubernetes/<fault>/fault.yaml at chaos-charts 3.28.0.
    expect(chaosExperiment("pod-delete", chaos).spec.definition.env.map((e) => e.name)).toEqual([
      "TOTAL_CHAOS_DURATION",
      "RAMP_TIME",
      "FORCE",
      "CHAOS_INTERVAL",
      "PODS_AFFECTED_PERC",
      "TARGET_CONTAINER",
      "TARGET_PODS",
      "DEFAULT_HEALTH_CHECK",
      "NODE_LABEL",
      "SEQUENCE",
    ]);
    expect(chaosExperiment("pod-network-latency", chaos).spec.definition.env).toHaveLength(17);
    // Unset, litmus-go reads DEFAULT_HEALTH_CHECK as true and waits for a deleted Job pod's name to
    // come back, which it never does: every worker pod-delete would fail after 180 s.
    for (const fault of FAULTS)
      expect(chaosExperiment(fault, chaos).spec.definition.env).toContainEqual({ name: "DEFAULT_HEALTH_CHECK", value: "false" });
  });
});

describe("probes as litmus-go runs them", () => {
  it("builds the shell line litmus-go 3.28.0 builds (pkg/probe/promProbe.go L190)", () => {
    expect(promProbeShellLine("http://p:9090", "sum(x{a='b'})")).toBe(`promql --host http://p:9090 "sum(x{a='b'})" --output csv`);
  });

  it("refuses at preview, naming the probe, a query the shell line would change", () => {
    const t = { timeoutSeconds: 10, intervalSeconds: 10 };
    expect(() => promProbe("no-failed-relaunch", "EOT", "http://p:9090", 'sum(x{result="error"})', "==", 0, t)).toThrow(
      'promProbe "no-failed-relaunch": its query holds "\\"", which litmus-go\'s shell line',
    );
    for (const q of ["label_replace(up, 'a', '$1', 'job', '(.*)')", "up{job=~'a\\\\.b'}", "up`id`"])
      expect(() => promProbe("p", "EOT", "http://p:9090", q, "==", 0, t)).toThrow(/^promProbe "p": its query holds/);
    expect(promQueryShellProblem("sum(x{result='error'}) or vector(0)")).toBeUndefined();
  });

  it("refuses a Prometheus address the shell would split or expand, naming the key", () => {
    expect(problemsOf("local", (r) => (r.chaos.prometheusAddress = "http://127.0.0.1:19090;id"))).toEqual([
      expect.stringMatching(/^streamforge:chaos\.prometheusAddress: expected an http\(s\) URL of letters, digits/),
    ]);
  });

  /** Every engine a committed stack's chaos config makes (the worker ones on made-up pods), and their promProbe queries. */
  const enginesOf = (stack: string) => {
    const c = committedConfig(stack).chaos!;
    const ctx = {
      chaosNamespace: "chaos",
      kafkaNamespace: "kafka",
      clusterName: "k3",
      prometheusAddress: c.prometheusAddress,
      appsNamespace: "stf",
    };
    const engines = [
      ...(c.scenarios.brokerFailure
        ? [brokerFailureEngine(c.scenarios.brokerFailure, ctx, [{ name: c.scenarios.brokerFailure.pool, replicas: 3 }])]
        : []),
      workerPodDeleteEngine("loader-pod-delete", c.scenarios.loaderPodDelete, ctx, ["q-loader-producer-x"], ["q-loader-producer"]),
      workerPodDeleteEngine(
        "arango-connector-pod-delete",
        c.scenarios.arangoConnectorPodDelete,
        ctx,
        ["q-arango-connector-x"],
        ["q-arango-connector"],
      ),
      workerNetworkLatencyEngine(c.scenarios.networkLatency, { ...ctx, kafkaHosts: ["k"] }, ["q-loader-producer-x"]),
    ];
    const queries: string[] = engines.flatMap((e) =>
      e.spec.experiments[0]!.spec.probe.flatMap((p: any) => (p["promProbe/inputs"] ? [p["promProbe/inputs"].query] : [])),
    );
    return { scenarios: c.scenarios, queries };
  };

  it("every probe of every committed stack's engines survives the shell line", () => {
    for (const stack of ["dev", "local"]) {
      const { queries } = enginesOf(stack);
      expect(queries.length).toBeGreaterThanOrEqual(4);
      expect(queries.filter((q) => promQueryShellProblem(q) !== undefined)).toEqual([]);
    }
  });

  it("relaunchProbeWindowSeconds covers the window of every relaunch probe, and no more", () => {
    const { scenarios, queries } = enginesOf("local");
    const windows = queries.filter((q) => q.includes(RELAUNCHES)).map((q) => Number(/\[(\d+)s\]/.exec(q)![1]));
    expect(windows).toHaveLength(3);
    expect(Math.max(...windows)).toBe(relaunchProbeWindowSeconds(scenarios));
    // Longer scenarios widen it.
    const longer = { ...scenarios, networkLatency: { ...scenarios.networkLatency, durationSeconds: 900 } };
    expect(relaunchProbeWindowSeconds(longer)).toBe(960);
  });

  it("work-resumed selects only a Running replacement pod of the Jobs hit", () => {
    expect(workResumedInputs("stf", ["q1-loader-producer-abcde"], ["q1-loader-producer"])).toEqual({
      group: "",
      version: "v1",
      resource: "pods",
      namespace: "stf",
      labelSelector: "batch.kubernetes.io/job-name in (q1-loader-producer)",
      fieldSelector: "status.phase=Running,metadata.name!=q1-loader-producer-abcde",
      operation: "present",
    });
  });
});

describe("images and the operator's reach", () => {
  it("prod needs the operator's and both runner images by digest, and names the key", () => {
    const on = (r: any) => {
      withBrokerFailure(r);
      delete r.chaos.operator;
      delete r.chaos.runnerImage;
      delete r.chaos.chaosRunnerImage;
    };
    expect(problemsOf("prod", on)).toEqual([
      'streamforge:chaos.operator.image: prod: expected an image pinned by digest (name:tag@sha256:<64 hex>); found "litmuschaos.docker.scarf.sh/litmuschaos/chaos-operator:3.28.0"',
      'streamforge:chaos.chaosRunnerImage: prod: expected an image pinned by digest (name:tag@sha256:<64 hex>); found "litmuschaos.docker.scarf.sh/litmuschaos/chaos-runner:3.28.0"',
      'streamforge:chaos.runnerImage: prod: expected an image pinned by digest (name:tag@sha256:<64 hex>); found "litmuschaos.docker.scarf.sh/litmuschaos/go-runner:3.28.0"',
    ]);
    const digest = "@sha256:" + "a".repeat(64);
    expect(
      problemsOf("prod", (r) => {
        on(r);
        r.chaos.operator = { image: `docker.io/litmuschaos/chaos-operator:3.28.0${digest}` };
        r.chaos.runnerImage = `docker.io/litmuschaos/go-runner:3.28.0${digest}`;
        r.chaos.chaosRunnerImage = `docker.io/litmuschaos/chaos-runner:3.28.0${digest}`;
      }),
    ).toEqual([]);
  });

  it("accepts an image pinned by tag or digest, and refuses one pinned by neither, naming the key", () => {
    expect(problemsOf("dev", (r) => (r.chaos.runnerImage = "litmuschaos/go-runner"))).toEqual([
      expect.stringMatching(/^streamforge:chaos\.runnerImage: expected an image pinned by tag or digest/),
    ]);
    expect(problemsOf("dev", (r) => (r.chaos.operator = { image: "litmuschaos/chaos-operator" }))).toEqual([
      expect.stringMatching(/^streamforge:chaos\.operator\.image: expected an image pinned by tag or digest/),
    ]);
    expect(problemsOf("dev", (r) => (r.chaos.chaosRunnerImage = `litmuschaos/chaos-runner@sha256:${"a".repeat(64)}`))).toEqual([]);
  });

  it("binds the engine guard to the chaos namespace only where Litmus is known to watch it alone, else to every namespace", () => {
    const args = (edit: (c: any) => void) => {
      const chaos: any = structuredClone(committedConfig("dev").chaos!);
      edit(chaos);
      const context = { chaosNamespace: "chaos", kafkaNamespace: "kafka", clusterName: "k3", prometheusAddress: chaos.prometheusAddress };
      return guardFor({
        chaos,
        context: { ...context, appsNamespace: "stf", kafkaHosts: ["k3-kafka-bootstrap.kafka"], kafkaNodePools: [] },
      }).binding.spec.matchResources;
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

  it("names the broker pods the broker scenario deletes by the node IDs Strimzi gives the pools, no more than asked", () => {
    // Strimzi 1.2.0 NodeIdAssignor: pools in name order, the lowest unused IDs.
    expect(
      strimziNodeIds([
        { name: "controllers", replicas: 3 },
        { name: "brokers", replicas: 3 },
      ]),
    ).toEqual({
      brokers: [0, 1, 2],
      controllers: [3, 4, 5],
    });
    const ids = strimziNodeIds([
      { name: "brokers", replicas: 3 },
      { name: "a-controllers", replicas: 3 },
    ]);
    expect(ids).toEqual({ "a-controllers": [0, 1, 2], brokers: [3, 4, 5] });
    expect(brokerTargets("k3", "brokers", 1, ids["brokers"]!)).toEqual(["k3-brokers-3"]);
    expect(brokerTargets("k3", "brokers", 2, ids["brokers"]!)).toEqual(["k3-brokers-3", "k3-brokers-4"]);
    expect(() => brokerTargets("k3", "brokers", 2, [7])).toThrow("brokerTargets: pool brokers holds 1 nodes; the scenario deletes 2");
  });

  it("a stack whose broker pool sorts after its controller pool targets the pods Strimzi really names", async () => {
    const { manifests } = await renderStack("prod", {
      edit: (raw) => {
        withBrokerFailure(raw, 1, "z-brokers");
        (raw as any).kafka.nodePools.find((p: any) => p.name === "brokers").name = "z-brokers";
      },
    });
    const engine = manifests.find((m) => m.kind === "ChaosEngine") as any;
    expect(engine.spec.selectors).toEqual({ pods: [{ namespace: "kafka", names: "k3-z-brokers-3" }] });
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
      workerPodDeleteEngine(
        "loader-pod-delete",
        chaos.scenarios.loaderPodDelete,
        ctx,
        ["q1-loader-producer-abcde"],
        ["q1-loader-producer"],
      ),
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
