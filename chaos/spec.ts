/**
 * Chapter 12's scenarios as LitmusChaos objects, as plain data: the ChaosExperiment definitions at
 * the pinned runner image, one ServiceAccount and namespaced Roles per experiment with exactly the
 * permissions that experiment declares, and one ChaosEngine per scenario, created stopped, with its
 * steady-state hypothesis as probes. Pure.
 */
import { bootstrapAddresses } from "../infra/kafka/cluster-spec";
import type { KafkaConfig } from "../infra/kafka/config";
import type { BrokerFailureScenario, ChaosConfig, ChaosSchedule, NetworkLatencyScenario, PodDeleteScenario } from "./config";

export const LITMUS_API_VERSION = "litmuschaos.io/v1alpha1";
export const FAULTS = ["pod-delete", "pod-network-latency"] as const;
export type Fault = (typeof FAULTS)[number];

const labels = { "app.kubernetes.io/part-of": "streamforge", "app.kubernetes.io/component": "chaos" };

/** A Role rule. */
export interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

/**
 * Where a rule applies: the chaos namespace (runner, experiment Job and helper pods, engines and
 * results), the apps namespace (worker targets) or the Kafka namespace (broker targets, only with
 * the broker scenario).
 */
export type Scope = "chaos" | "apps" | "kafka";

/** A rule and the upstream calls that need it (file and line at the pinned version). */
export interface CitedRule extends Rule {
  readonly scope: Scope;
  readonly calls: string;
}

// One ServiceAccount runs the runner, the experiment and the helper: the operator gives the runner
// pod spec.chaosServiceAccount (chaos-operator 3.18.0 controllers/chaosengine_controller.go L214),
// the runner gives it to the experiment Job (chaos-runner 3.18.0 pkg/utils/builders.go L175) and
// the helper gets it through CHAOS_SERVICE_ACCOUNT (chaos-runner pkg/utils/environment.go L49;
// litmus-go 3.28.0 chaoslib/litmus/network-chaos/lib/network-chaos.go L193). chaos-runner and
// chaos-operator have no 3.28 tag: 3.18.0 (their newest, April 2025) is the source read. Unless
// marked, files are litmus-go 3.28.0.
const RUNNER: readonly CitedRule[] = [
  {
    scope: "chaos",
    apiGroups: ["litmuschaos.io"],
    resources: ["chaosengines"],
    verbs: ["get", "update"],
    calls:
      "runner: get pkg/utils/watchJob.go L37, engineHelper.go L127 L169; update initialPatchEngine.go L29, watchJob.go L60. experiment: get pkg/clients/litmus.go L28",
  },
  {
    scope: "chaos",
    apiGroups: ["batch"],
    resources: ["jobs"],
    verbs: ["create", "delete"],
    calls: "runner: create pkg/utils/builders.go L165; delete (jobCleanUpPolicy delete) watchJob.go L117-126",
  },
  {
    scope: "chaos",
    apiGroups: [""],
    resources: ["events"],
    verbs: ["create", "get", "update"],
    calls: "runner pkg/utils/event.go L40 L49 L62; experiment pkg/events/event.go L39 L55 L69",
  },
];

const FAULT_RULES: Readonly<Record<"pod-delete" | "pod-network-latency", readonly CitedRule[]>> = {
  "pod-delete": [
    ...RUNNER,
    {
      scope: "chaos",
      apiGroups: ["litmuschaos.io"],
      resources: ["chaosexperiments"],
      resourceNames: ["pod-delete"],
      verbs: ["get"],
      calls: "runner: pkg/utils/experimentHelper.go L37 L65 L79",
    },
    {
      scope: "chaos",
      apiGroups: ["litmuschaos.io"],
      resources: ["chaosresults"],
      verbs: ["get", "create", "update"],
      calls: "runner get watchJob.go L80; experiment pkg/result/chaosresult.go L34 L103 L111 L221 (pkg/clients/litmus.go L59 L79 L99)",
    },
    {
      scope: "chaos",
      apiGroups: [""],
      resources: ["pods"],
      verbs: ["get", "list"],
      calls:
        "runner list (job-name selector) pkg/utils/watchChaosContainer.go L24; experiment get of its own pod pkg/result/chaosresult.go L47",
    },
    {
      scope: "apps",
      apiGroups: [""],
      resources: ["pods"],
      verbs: ["get", "list", "delete"],
      calls:
        "get by name pkg/utils/common/pods.go L295 (pkg/clients/k8s.go L30); delete chaoslib/litmus/pod-delete/lib/pod-delete.go L121-123; list the owner's pods pod-delete.go L151 -> pkg/status/application.go L327-341 (k8s.go L49); list (the worker engines' k8sProbe work-resumed) pkg/probe/k8sprobe.go L240",
    },
    {
      scope: "kafka",
      apiGroups: [""],
      resources: ["pods"],
      verbs: ["get", "list", "delete"],
      calls: "as in apps: pods.go L295; pod-delete.go L121-123; pod-delete.go L151 -> application.go L327-341",
    },
  ],
  "pod-network-latency": [
    ...RUNNER,
    {
      scope: "chaos",
      apiGroups: ["litmuschaos.io"],
      resources: ["chaosexperiments"],
      resourceNames: ["pod-network-latency"],
      verbs: ["get"],
      calls: "runner: pkg/utils/experimentHelper.go L37 L65 L79",
    },
    {
      scope: "chaos",
      apiGroups: ["litmuschaos.io"],
      resources: ["chaosresults"],
      verbs: ["get", "create", "update", "patch"],
      calls:
        "experiment pkg/result/chaosresult.go L34 L103 L111 L221; helper get/update chaoslib/litmus/network-chaos/helper/netem.go L72 L77, patch (annotate) chaosresult.go L292-301",
    },
    {
      scope: "chaos",
      apiGroups: [""],
      resources: ["pods"],
      verbs: ["get", "list", "create", "deletecollection"],
      calls:
        "create the helper network-chaos.go L263 (k8s.go L98); list helpers pkg/utils/common/nodes.go L112-160; deletecollection pods.go L48 L60; get own pod network-chaos.go L58-69; runner list watchChaosContainer.go L24",
    },
    {
      scope: "apps",
      apiGroups: [""],
      resources: ["pods"],
      verbs: ["get"],
      calls: "resolve targets pkg/utils/common/pods.go L295; helper's container id netem.go L107 -> pods.go L439",
    },
  ],
};

/**
 * What each fault does at litmus-go 3.28.0, per namespace: the chaos-charts definitions' superset
 * (pods/exec, pods/log, pods patch, jobs and engines create/delete, everywhere) is not used. No rule
 * lets a fault rewrite its ChaosExperiment or create engines; only network-latency creates pods,
 * and only in the chaos namespace (its helper).
 */
export const RULES: Readonly<Record<Fault, readonly CitedRule[]>> = FAULT_RULES;

/** A Role's rule, as Kubernetes takes it. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** A rule as a Role takes it (its citation and scope left out). */
export const ruleOf = (r: Rule): PolicyRule => ({
  apiGroups: [...r.apiGroups],
  resources: [...r.resources],
  ...(r.resourceNames ? { resourceNames: [...r.resourceNames] } : {}),
  verbs: [...r.verbs],
});

/** A ServiceAccount, a Role of `rules` and its binding, all named and labelled by `meta`, in its namespace. */
export function accountWithRole(meta: { name: string; namespace: string; labels: Record<string, string> }, rules: PolicyRule[]) {
  return {
    serviceAccount: { apiVersion: "v1" as const, kind: "ServiceAccount" as const, metadata: meta },
    role: { apiVersion: "rbac.authorization.k8s.io/v1" as const, kind: "Role" as const, metadata: meta, rules },
    binding: {
      apiVersion: "rbac.authorization.k8s.io/v1" as const,
      kind: "RoleBinding" as const,
      metadata: meta,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: meta.name },
      subjects: [{ kind: "ServiceAccount", name: meta.name, namespace: meta.namespace }],
    },
  };
}

/**
 * The runner and experiment pods under the restricted Pod Security standard. Litmus gives them no
 * securityContext of its own: the runner takes the first experiment's
 * `spec.definition.securityContext` (chaos-operator 3.18.0 controllers/chaosengine_controller.go
 * L205-207 container, L234-236 pod) and so does the experiment Job (chaos-runner 3.18.0
 * pkg/utils/builders.go L35-37, L185-189; no 3.28 tag exists, the 3.28.0 images are built from that
 * source). go-runner's user is the name `litmus`, uid 2000 (litmus-go 3.28.0 build/Dockerfile L84,
 * L112): a name fails runAsNonRoot, so the uid is given. The experiments only call the API (the
 * sudo/nsenter/tc calls are the network-latency helper's, chaoslib/litmus/network-chaos/helper/netem.go),
 * so no escalation is needed. The helper itself is privileged by construction (network-chaos.go
 * L181-239): that is why the chaos namespace stays privileged.
 */
export const EXPERIMENT_SECURITY_CONTEXT = {
  podSecurityContext: { runAsNonRoot: true, runAsUser: 2000, runAsGroup: 2000, seccompProfile: { type: "RuntimeDefault" } },
  containerSecurityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
} as const;

/**
 * The env the upstream fault definitions set (chaos-charts 3.28.0
 * faults/kubernetes/pod-delete/fault.yaml L78-112, faults/kubernetes/pod-network-latency/fault.yaml
 * L78-142), in their order. `DEFAULT_HEALTH_CHECK: "false"` matters: unset, litmus-go reads it as
 * true (pkg/types/types.go L212) and after the fault checks that every target pod's *name* is
 * Running again (pkg/status/application.go L27-58, L343-356, called from
 * experiments/generic/pod-delete/experiment/pod-delete.go L128); a Job's replacement pod has a new
 * name, so every worker pod-delete would fail after STATUS_CHECK_TIMEOUT (180 s). TC_IMAGE is read
 * only by the pumba library, not by litmus-go's own (LIB defaults to litmus).
 */
export const UPSTREAM_ENV: Readonly<Record<Fault, readonly { readonly name: string; readonly value: string }[]>> = {
  "pod-delete": [
    { name: "TOTAL_CHAOS_DURATION", value: "15" },
    { name: "RAMP_TIME", value: "" },
    { name: "FORCE", value: "true" },
    { name: "CHAOS_INTERVAL", value: "5" },
    { name: "PODS_AFFECTED_PERC", value: "" },
    { name: "TARGET_CONTAINER", value: "" },
    { name: "TARGET_PODS", value: "" },
    { name: "DEFAULT_HEALTH_CHECK", value: "false" },
    { name: "NODE_LABEL", value: "" },
    { name: "SEQUENCE", value: "parallel" },
  ],
  "pod-network-latency": [
    { name: "TARGET_CONTAINER", value: "" },
    { name: "NETWORK_INTERFACE", value: "eth0" },
    { name: "LIB_IMAGE", value: "litmuschaos.docker.scarf.sh/litmuschaos/go-runner:3.28.0" },
    { name: "TC_IMAGE", value: "gaiadocker/iproute2" },
    { name: "NETWORK_LATENCY", value: "2000" },
    { name: "TOTAL_CHAOS_DURATION", value: "60" },
    { name: "RAMP_TIME", value: "" },
    { name: "JITTER", value: "0" },
    { name: "PODS_AFFECTED_PERC", value: "" },
    { name: "TARGET_PODS", value: "" },
    { name: "CONTAINER_RUNTIME", value: "containerd" },
    { name: "DEFAULT_HEALTH_CHECK", value: "false" },
    { name: "DESTINATION_IPS", value: "" },
    { name: "DESTINATION_HOSTS", value: "" },
    { name: "SOCKET_PATH", value: "/run/containerd/containerd.sock" },
    { name: "NODE_LABEL", value: "" },
    { name: "SEQUENCE", value: "parallel" },
  ],
};

/**
 * The env of each ChaosExperiment: the upstream definition's, with the program's values where it
 * has its own. An engine's env would override it (chaos-runner 3.18.0 pkg/utils/environment.go
 * L55-60), so guard.ts refuses these names on engines.
 * - SEQUENCE: upstream sets parallel (and litmus-go defaults to it, pkg/generic/pod-delete/
 *   environment/environment.go L29; network-chaos environment.go L35), which deletes every named
 *   broker at once.
 * - LIB_IMAGE: the privileged helper's image, the stack's pinned runner image.
 * - CONTAINER_RUNTIME and SOCKET_PATH: the runtime socket the helper mounts from the host
 *   (environment.go L32, L34; network-chaos.go L196-226).
 */
export function experimentEnv(fault: Fault, chaos: ChaosConfig): { name: string; value: string }[] {
  const own: Record<string, string> =
    fault === "pod-delete"
      ? { SEQUENCE: SEQUENCE[fault] }
      : {
          SEQUENCE: SEQUENCE[fault],
          LIB_IMAGE: chaos.runnerImage,
          CONTAINER_RUNTIME: chaos.containerRuntime,
          SOCKET_PATH: chaos.socketPath,
        };
  return UPSTREAM_ENV[fault].map((e) => ({ name: e.name, value: own[e.name] ?? e.value }));
}

/**
 * The order targets are hit in. Broker and worker pods are deleted one at a time. Latency is put on
 * every named worker pod at once: the hypothesis is about the workers under a slow network
 * together, as the drill plays it, and its blast radius is the named pods.
 */
export const SEQUENCE: Readonly<Record<Fault, "serial" | "parallel">> = { "pod-delete": "serial", "pod-network-latency": "parallel" };

/** The ChaosExperiment of a fault: what the runner starts, at the pinned image. */
export function chaosExperiment(fault: Fault, chaos: ChaosConfig) {
  return {
    apiVersion: LITMUS_API_VERSION,
    kind: "ChaosExperiment" as const,
    metadata: { name: fault, namespace: chaos.namespace, labels: { ...labels, name: fault } },
    spec: {
      definition: {
        scope: "Namespaced",
        // Informational for Litmus: what the fault's account may do in the chaos namespace (RULES).
        permissions: RULES[fault].filter((r) => r.scope === "chaos").map(ruleOf),
        image: chaos.runnerImage,
        imagePullPolicy: "IfNotPresent",
        command: ["/bin/bash"],
        args: ["-c", `./experiments -name ${fault}`],
        env: experimentEnv(fault, chaos),
        labels: { name: fault, "app.kubernetes.io/part-of": "litmus", "app.kubernetes.io/component": "experiment-job" },
        securityContext: EXPERIMENT_SECURITY_CONTEXT,
      },
    },
  };
}

/** The ServiceAccount an experiment runs as. */
export const serviceAccountName = (fault: Fault): string => `chaos-${fault}`;

/**
 * One ServiceAccount per experiment, and a Role in each namespace it acts in with exactly the rules
 * RULES gives that namespace: the chaos namespace always, the apps namespace, and the Kafka
 * namespace only when `kafka` is given (the broker scenario is on).
 */
export function experimentRbac(
  fault: Fault,
  namespaces: { readonly chaos: string; readonly apps: string; readonly kafka?: string | undefined },
) {
  const name = serviceAccountName(fault);
  const scoped = (["chaos", "apps", "kafka"] as const)
    .map((scope) => ({ scope, namespace: namespaces[scope], rules: RULES[fault].filter((r) => r.scope === scope).map(ruleOf) }))
    .filter((x): x is { scope: Scope; namespace: string; rules: PolicyRule[] } => x.namespace !== undefined && x.rules.length > 0);
  const names = scoped.map((x) => x.namespace);
  if (new Set(names).size !== names.length)
    throw new Error(`experimentRbac: expected the chaos, apps and Kafka namespaces to differ; found ${names.join(", ")}`);
  return {
    serviceAccount: { apiVersion: "v1" as const, kind: "ServiceAccount" as const, metadata: { name, namespace: namespaces.chaos, labels } },
    roles: scoped.map(({ namespace, rules }) => ({
      role: {
        apiVersion: "rbac.authorization.k8s.io/v1" as const,
        kind: "Role" as const,
        metadata: { name, namespace, labels },
        rules,
      },
      binding: {
        apiVersion: "rbac.authorization.k8s.io/v1" as const,
        kind: "RoleBinding" as const,
        metadata: { name, namespace, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
        subjects: [{ kind: "ServiceAccount", name, namespace: namespaces.chaos }],
      },
    })),
  };
}

// ---- probes -----------------------------------------------------------------------------------

interface ProbeTiming {
  readonly timeoutSeconds: number;
  readonly intervalSeconds: number;
  readonly attempts?: number;
}

function runProperties(t: ProbeTiming) {
  // The CRD takes durations as strings.
  return {
    probeTimeout: `${t.timeoutSeconds}s`,
    interval: `${t.intervalSeconds}s`,
    ...(t.attempts ? { attempt: t.attempts } : {}),
    stopOnFailure: false,
  };
}

/**
 * The line litmus-go runs for a promProbe: `/bin/sh -c` over this string (litmus-go 3.28.0
 * pkg/probe/promProbe.go L190 builds it, L199 runs it). The query sits inside shell double quotes
 * and the endpoint is a bare word.
 */
export function promProbeShellLine(endpoint: string, query: string): string {
  return "promql --host " + endpoint + ' "' + query + '"' + " --output csv";
}

/**
 * Inside double quotes, sh still gives `"`, `$`, backquote and backslash their meaning (POSIX
 * Shell Command Language 2.2.3): a double-quoted PromQL label value ends the quote and loses its
 * quotes, `$1` in label_replace expands, a regex's `\\` is halved. Single quotes are safe there,
 * and PromQL takes them for strings. Returns what is wrong, or undefined.
 */
export function promQueryShellProblem(query: string): string | undefined {
  const bad = [...new Set(query.match(/["$`\\]/g) ?? [])];
  if (bad.length > 0)
    return `its query holds ${bad.map((c) => JSON.stringify(c)).join(", ")}, which litmus-go's shell line (/bin/sh -c over promql --host <endpoint> "<query>") would strip or expand; write PromQL strings in single quotes`;
  if (query.trim() === "") return "its query is empty";
  return undefined;
}

/**
 * A Prometheus probe: `query` compared with `criteria value`. Refused when litmus-go's shell line
 * would change the query, naming the probe, so a bad query fails at preview, not in the run.
 */
export function promProbe(name: string, mode: string, endpoint: string, query: string, criteria: string, value: number, t: ProbeTiming) {
  const problem = promQueryShellProblem(query);
  if (problem) throw new Error(`promProbe "${name}": ${problem}; found ${query}`);
  return {
    name,
    type: "promProbe",
    mode,
    "promProbe/inputs": { endpoint, query, comparator: { criteria, value: String(value) } },
    runProperties: runProperties(t),
  };
}

/** A Kubernetes probe: the objects a selector finds are present (or absent). */
export function k8sProbe(
  name: string,
  mode: string,
  inputs: {
    group: string;
    version: string;
    resource: string;
    namespace: string;
    labelSelector?: string;
    fieldSelector?: string;
    resourceNames?: string;
    operation: "present" | "absent";
  },
  t: ProbeTiming,
) {
  return { name, type: "k8sProbe", mode, "k8sProbe/inputs": inputs, runProperties: runProperties(t) };
}

// ---- engines ----------------------------------------------------------------------------------

/** Strimzi's name for a node-pool pod: `<cluster>-<pool>-<id>`. */
export const brokerPodName = (cluster: string, pool: string, id: number): string => `${cluster}-${pool}-${id}`;

/**
 * The node IDs Strimzi gives each KafkaNodePool of a new cluster (strimzi-kafka-operator 1.2.0):
 * the operator lists the pools with a plain LIST (KafkaAssemblyOperator.java L524,
 * AbstractResourceOperator.java L182), which the API server answers in name order; NodeIdAssignor
 * (model/nodepools/NodeIdAssignor.java L101-115) then gives each new pool, in that order, its
 * `replicas` IDs, each the lowest unused one (L151-203: from 0, filling gaps), unless the pool's
 * `strimzi.io/next-node-ids` annotation names a range (L238-247; the program sets none). Pools are
 * created together before the Kafka resource (infra/kafka/cluster.ts), so the first reconciliation
 * sees them all. Scaling a pool later takes the next unused IDs (L83-94) and removes the highest
 * (L73-82): a pool scaled since creation may hold other IDs, and the run then fails on a missing pod
 * ("pod doesn't exist set by TARGET_PODS") rather than hit another broker.
 */
export function strimziNodeIds(pools: readonly { readonly name: string; readonly replicas: number }[]): Record<string, number[]> {
  const used = new Set<number>();
  const ids: Record<string, number[]> = {};
  for (const pool of [...pools].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))) {
    ids[pool.name] = [];
    for (let i = 0; i < pool.replicas; i++) {
      let next = 0;
      while (used.has(next)) next++;
      used.add(next);
      ids[pool.name]!.push(next);
    }
  }
  return ids;
}

/**
 * The broker pods the scenario deletes: the pool's first `brokersAtOnce` node IDs (never above the
 * cluster's fault tolerance, which the config refuses), by name.
 */
export function brokerTargets(cluster: string, pool: string, brokersAtOnce: number, poolNodeIds: readonly number[]): string[] {
  if (poolNodeIds.length < brokersAtOnce)
    throw new Error(`brokerTargets: pool ${pool} holds ${poolNodeIds.length} nodes; the scenario deletes ${brokersAtOnce}`);
  return poolNodeIds.slice(0, brokersAtOnce).map((id) => brokerPodName(cluster, pool, id));
}

export interface EngineContext {
  /** Namespace of the engines, their runners and experiment pods. */
  readonly chaosNamespace: string;
  /** Kafka's namespace: where the probes' consumer group and the broker pods are. */
  readonly kafkaNamespace: string;
  /** The Kafka CR's name: the broker pods and the probes' metrics are named after it. */
  readonly clusterName: string;
  /** The Prometheus the engines' probes query (streamforge:chaos.prometheusAddress). */
  readonly prometheusAddress: string;
}

function engine(
  name: string,
  ctx: EngineContext,
  fault: Fault,
  spec: { selectors?: object; appinfo?: object },
  env: Record<string, string>,
  probes: object[],
) {
  return {
    apiVersion: LITMUS_API_VERSION,
    kind: "ChaosEngine" as const,
    metadata: { name, namespace: ctx.chaosNamespace, labels: { ...labels, "streamforge.io/scenario": name } },
    spec: {
      // Created stopped: a run starts only when someone sets it active.
      engineState: "stop",
      chaosServiceAccount: serviceAccountName(fault),
      jobCleanUpPolicy: "delete",
      ...spec,
      experiments: [
        {
          name: fault,
          spec: {
            components: { env: Object.entries(env).map(([k, v]) => ({ name: k, value: v })) },
            probe: probes,
          },
        },
      ],
    },
  };
}

/** The one engine a stack declares ahead of a run (the worker engines are created by each run). */
export const BROKER_FAILURE_ENGINE = "kafka-broker-failure";

/** `nodePools`: the stack's KafkaNodePools, whose node IDs name the broker pods. */
export function brokerFailureEngine(
  s: BrokerFailureScenario,
  ctx: EngineContext,
  nodePools: readonly { readonly name: string; readonly replicas: number }[],
) {
  const targets = brokerTargets(ctx.clusterName, s.pool, s.brokersAtOnce, strimziNodeIds(nodePools)[s.pool] ?? []);
  const t = { timeoutSeconds: 10, intervalSeconds: 10 };
  return engine(
    BROKER_FAILURE_ENGINE,
    ctx,
    "pod-delete",
    { selectors: { pods: [{ namespace: ctx.kafkaNamespace, names: targets.join(",") }] } },
    {
      TOTAL_CHAOS_DURATION: String(s.durationSeconds),
      CHAOS_INTERVAL: String(s.intervalSeconds),
      FORCE: "true",
      SEQUENCE: SEQUENCE["pod-delete"],
    },
    [
      // No partition goes offline while a broker is down.
      promProbe(
        "no-offline-partitions",
        "Continuous",
        ctx.prometheusAddress,
        "sum(kafka_controller_kafkacontroller_offlinepartitionscount) or vector(0)",
        "==",
        0,
        t,
      ),
      // Under-replicated partitions are back to 0 by the end.
      promProbe(
        "under-replicated-recovered",
        "EOT",
        ctx.prometheusAddress,
        "sum(kafka_server_replicamanager_underreplicatedpartitions)",
        "==",
        0,
        { timeoutSeconds: 10, intervalSeconds: 10, attempts: Math.ceil(s.recoverWithinSeconds / 10) },
      ),
    ],
  );
}

// ---- the opt-in schedule ----------------------------------------------------------------------

export const SCHEDULER = "chaos-scheduler";

/**
 * A CronJob that sets the declared engines active, one kubectl container each, as
 * `chaosStartCommand` does; Litmus sets an engine back to stop when its run ends. Its account may
 * only read and patch those engines. Restricted Pod Security, no token beyond its own.
 */
export function scheduleObjects(schedule: ChaosSchedule, chaosNamespace: string, engines: readonly string[]) {
  const meta = { name: SCHEDULER, namespace: chaosNamespace, labels };
  return {
    ...accountWithRole(meta, [
      { apiGroups: ["litmuschaos.io"], resources: ["chaosengines"], resourceNames: [...engines], verbs: ["get", "patch"] },
    ]),
    cronJob: {
      apiVersion: "batch/v1" as const,
      kind: "CronJob" as const,
      metadata: meta,
      spec: {
        schedule: schedule.cron,
        timeZone: schedule.timeZone,
        suspend: schedule.suspend,
        // A run still going is never started twice.
        concurrencyPolicy: "Forbid",
        startingDeadlineSeconds: 600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            backoffLimit: 2,
            activeDeadlineSeconds: 300,
            ttlSecondsAfterFinished: 86_400,
            template: {
              metadata: { labels: { ...labels, "app.kubernetes.io/name": SCHEDULER } },
              spec: {
                serviceAccountName: SCHEDULER,
                restartPolicy: "Never",
                securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
                containers: engines.map((engine) => ({
                  name: `start-${engine}`,
                  image: schedule.image,
                  // The image's binary; set, not left to its entrypoint.
                  command: ["/bin/kubectl"],
                  args: [
                    "patch",
                    "chaosengine",
                    engine,
                    "-n",
                    chaosNamespace,
                    "--type",
                    "merge",
                    "-p",
                    '{"spec":{"engineState":"active"}}',
                  ],
                  // kubectl caches discovery under $HOME.
                  env: [{ name: "HOME", value: "/tmp" }],
                  volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                  resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
                  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                })),
                volumes: [{ name: "tmp", emptyDir: { sizeLimit: "16Mi" } }],
              },
            },
          },
        },
      },
    },
  };
}

// ---- Job targets, resolved at run time --------------------------------------------------------

/**
 * Which Jobs each worker scenario hits, by queue-manager's name rule `<queue_id>-<target>`. Litmus
 * cannot select Job pods by kind or label (its CRD allows no `job` kind; the Jobs carry no labels)
 * and Job pod names are not predictable, so a run resolves pod names at that moment and creates a
 * fresh engine from the scenario's template with `selectors.pods`: a missing pod fails the run
 * instead of falling back to other pods.
 */
export const WORKER_TARGETS = {
  "loader-pod-delete": /^.+-loader-(producer|ws)$/,
  "arango-connector-pod-delete": /^.+-arango-connector$/,
  "worker-network-latency": /^.+-(loader-(producer|ws)|arango-connector)$/,
} as const;
export type WorkerScenario = keyof typeof WORKER_TARGETS;

/** What a run needs to know of a pod to decide whether it may be hit. */
export interface PodInfo {
  readonly name: string;
  readonly namespace: string;
  readonly phase: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ownerJob?: string;
  readonly deleting?: boolean;
}

/**
 * The pods a worker scenario may hit now: Running pods of Jobs whose name matches the scenario, in
 * the apps namespace, never a chaos pod, at most `percent` of them (at least one). Pure; the order
 * is by name so a run is reproducible from the same listing.
 */
export function selectWorkerPods(scenario: WorkerScenario, pods: readonly PodInfo[], appsNamespace: string, percent: number): string[] {
  const pattern = WORKER_TARGETS[scenario];
  const eligible = pods
    .filter(
      (p) =>
        p.namespace === appsNamespace &&
        p.phase === "Running" &&
        !p.deleting &&
        p.ownerJob !== undefined &&
        pattern.test(p.ownerJob) &&
        p.labels["batch.kubernetes.io/job-name"] === p.ownerJob &&
        !("chaosUID" in p.labels) &&
        p.labels["app.kubernetes.io/part-of"] !== "litmus",
    )
    .map((p) => p.name)
    .sort();
  if (eligible.length === 0) return [];
  return eligible.slice(0, Math.max(1, Math.floor((eligible.length * Math.min(percent, 100)) / 100)));
}

/**
 * The Kafka addresses the network-latency scenario slows (DESTINATION_HOSTS): the bootstrap service
 * and the brokers' headless service. Never empty: without it the helper slows the whole interface
 * (litmus-go 3.28.0 chaoslib/litmus/network-chaos/helper/netem.go L195-200).
 */
export function kafkaHosts(kafka: KafkaConfig): string[] {
  return [bootstrapAddresses(kafka).tls.split(":")[0]!, `${kafka.clusterName}-kafka-brokers.${kafka.namespace}`];
}

/** The self-healing operator's metrics a worker scenario's hypothesis reads. */
export const RELAUNCHES = "streamforge_operator_relaunches_total";

/** The window of `no-failed-relaunch`: the fault, the recovery bound, and a minute of scrapes. */
const failedRelaunchWindow = (s: PodDeleteScenario) => s.durationSeconds + s.recoverWithinSeconds + 60;
/** The window of `no-stuck-relaunch`: the fault and a minute of scrapes. */
const stuckRelaunchWindow = (s: NetworkLatencyScenario) => s.durationSeconds + 60;

/**
 * The longest window over which a worker scenario's probe reads the operator's relaunches. A
 * relaunch sample inside it, from any operator the Prometheus scrapes, counts in the verdict.
 */
export function relaunchProbeWindowSeconds(scenarios: ChaosConfig["scenarios"]): number {
  return Math.max(
    failedRelaunchWindow(scenarios.loaderPodDelete),
    failedRelaunchWindow(scenarios.arangoConnectorPodDelete),
    stuckRelaunchWindow(scenarios.networkLatency),
  );
}

/**
 * The hypothesis "the work is back", as a k8sProbe litmus-go can run (pkg/probe/k8sprobe.go
 * L232-252: a LIST with these selectors; present passes on any item): a Running pod of a Job just
 * hit (the Job controller's `batch.kubernetes.io/job-name` label) other than the pods deleted. A
 * failed Job has no Running pod, another Job is not selected and a deleted pod is excluded by
 * name, so nothing but a replacement pod passes it. A relaunch under a new Job name (the
 * operator's `<job>-r<N>`) does not count: the probe then fails rather than pass on something else.
 */
export function workResumedInputs(appsNamespace: string, podNames: readonly string[], jobNames: readonly string[]) {
  if (podNames.length === 0 || jobNames.length === 0)
    throw new Error("workResumedInputs: expected the pods hit and their Jobs; found none");
  return {
    group: "",
    version: "v1",
    resource: "pods",
    namespace: appsNamespace,
    labelSelector: `batch.kubernetes.io/job-name in (${[...new Set(jobNames)].sort().join(",")})`,
    fieldSelector: ["status.phase=Running", ...podNames.map((p) => `metadata.name!=${p}`)].join(","),
    operation: "present" as const,
  };
}

/** `jobNames`: the Jobs owning `podNames`. */
export function workerPodDeleteEngine(
  scenario: "loader-pod-delete" | "arango-connector-pod-delete",
  s: PodDeleteScenario,
  ctx: EngineContext & { readonly appsNamespace: string },
  podNames: readonly string[],
  jobNames: readonly string[],
) {
  const t = { timeoutSeconds: 10, intervalSeconds: 10 };
  return engine(
    scenario,
    ctx,
    "pod-delete",
    { selectors: { pods: [{ namespace: ctx.appsNamespace, names: podNames.join(",") }] } },
    // One round: litmus re-resolves targets each round, and a deleted pod's name is gone.
    {
      TOTAL_CHAOS_DURATION: String(s.durationSeconds),
      CHAOS_INTERVAL: String(s.durationSeconds),
      FORCE: "true",
      SEQUENCE: SEQUENCE["pod-delete"],
    },
    [
      // The operator is watching while the pods go: its event source stays healthy.
      promProbe(
        "operator-healthy",
        "Continuous",
        ctx.prometheusAddress,
        "max(streamforge_operator_event_source_healthy) or vector(0)",
        "==",
        1,
        t,
      ),
      // The work is back within the bound: a new pod of a Job just hit is Running.
      k8sProbe("work-resumed", "EOT", workResumedInputs(ctx.appsNamespace, podNames, jobNames), {
        timeoutSeconds: 10,
        intervalSeconds: 10,
        attempts: Math.ceil(s.recoverWithinSeconds / 10),
      }),
      // No relaunch failed on the way (the operator counts a failed one as result="error").
      promProbe(
        "no-failed-relaunch",
        "EOT",
        ctx.prometheusAddress,
        `sum(increase(${RELAUNCHES}{result='error'}[${failedRelaunchWindow(s)}s])) or vector(0)`,
        "==",
        0,
        t,
      ),
    ],
  );
}

export function workerNetworkLatencyEngine(
  s: NetworkLatencyScenario,
  ctx: EngineContext & { readonly appsNamespace: string; readonly kafkaHosts: readonly string[] },
  podNames: readonly string[],
) {
  const t = { timeoutSeconds: 10, intervalSeconds: 10 };
  return engine(
    "worker-network-latency",
    ctx,
    "pod-network-latency",
    { selectors: { pods: [{ namespace: ctx.appsNamespace, names: podNames.join(",") }] } },
    {
      TOTAL_CHAOS_DURATION: String(s.durationSeconds),
      NETWORK_LATENCY: String(s.latencyMs),
      JITTER: String(s.jitterMs),
      SEQUENCE: SEQUENCE["pod-network-latency"],
      // Only the path to Kafka is slowed.
      DESTINATION_HOSTS: ctx.kafkaHosts.join(","),
    },
    [
      // Events keep flowing: the operator keeps applying them.
      promProbe(
        "events-flowing",
        "OnChaos",
        ctx.prometheusAddress,
        "sum(rate(streamforge_operator_events_total[1m])) or vector(0)",
        ">",
        0,
        t,
      ),
      // No healthy Job is relaunched for silence while the network is slow.
      promProbe(
        "no-stuck-relaunch",
        "EOT",
        ctx.prometheusAddress,
        `sum(increase(${RELAUNCHES}{reason='stuck'}[${stuckRelaunchWindow(s)}s])) or vector(0)`,
        "==",
        0,
        t,
      ),
    ],
  );
}
