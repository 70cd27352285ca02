/**
 * An admission guard on ChaosEngines: a ValidatingAdmissionPolicy and its binding that admit only
 * the engines this program builds, whoever writes them (Pulumi, the launcher, the scheduler, a
 * person). It is an allow-list, because an engine's env overrides every variable the runner and the
 * ChaosExperiment set (chaos-runner 3.18.0 pkg/utils/environment.go L37-63; no 3.28 tag exists,
 * 3.18.0 is the newest): named pod targets only (worker Job pods, at most the tolerated brokers),
 * the program's env names with the value forms it sets, the fault's own account, no runner or
 * experiment overrides, read-only probes. Pure: plain objects for the component to declare.
 */
import { denyBindingIn, lit, list, validatingPolicy } from "../infra/kit/admission-spec";
import { FAULTS, type Fault, LITMUS_API_VERSION, SEQUENCE, WORKER_TARGETS } from "./spec";

export interface EngineGuardArgs {
  /** Namespace of the engines the guard admits. */
  readonly chaosNamespace: string;
  /** The apps namespace: the worker pods the worker scenarios may target. */
  readonly appsNamespace: string;
  /** Kafka's namespace: the broker pods the broker scenario may target. */
  readonly kafkaNamespace: string;
  /** The longest TOTAL_CHAOS_DURATION (and CHAOS_INTERVAL) an experiment may ask for. */
  readonly maxDurationSeconds: number;
  /** The Kafka cluster's fault tolerance: how many broker pods an engine may name (0: none). */
  readonly maxBrokersAtOnce: number;
  /** RE2: the pod names worker scenarios may hit in the apps namespace (see WORKER_POD_PATTERN). */
  readonly workerPodPattern: string;
  /** RE2: the broker pod names in the Kafka namespace (see brokerPodPattern). */
  readonly kafkaPodPattern: string;
  /** DESTINATION_HOSTS of network latency: exactly these (spec.ts kafkaHosts). */
  readonly kafkaHosts: readonly string[];
  /** The only endpoint a promProbe may query. */
  readonly prometheusAddress: string;
  /** The chaos-runner image the operator may write into an engine (the chart's runner image). */
  readonly chaosRunnerImage: string;
  /** The namespaces the binding covers, or "all" where Litmus may act in any namespace. */
  readonly bindTo: readonly string[] | "all";
  /** The policy is cluster-scoped: one per stack, named `<namePrefix>-chaosengine-guard`. */
  readonly namePrefix: string;
}

/**
 * The pods of the Jobs any worker scenario hits: a Job's pod is `<job name>-<5 characters>`
 * (Kubernetes' generateName suffix). Built from WORKER_TARGETS so the guard and the launcher
 * cannot drift apart.
 */
export const WORKER_POD_PATTERN = `^(?:${Object.values(WORKER_TARGETS)
  .map((r) => r.source.replace(/^\^/, "").replace(/\$$/, ""))
  .join("|")})-[a-z0-9]{5}$`;

/** Strimzi's node-pool pods, `<cluster>-<pool>-<id>` (both are DNS labels: nothing to escape). */
export const brokerPodPattern = (cluster: string, pool: string): string => `^${cluster}-${pool}-[0-9]+$`;

/** The labels the program puts on an engine: the runner copies them onto the experiment and helper pods. */
export const ENGINE_LABELS = ["app.kubernetes.io/part-of", "app.kubernetes.io/component", "streamforge.io/scenario"] as const;

/**
 * The engine's fields the program sets. `appinfo` and `components` only as Litmus writes them back
 * through its Go types (chaos-operator 3.18.0 api/litmuschaos/v1alpha1/chaosengine_types.go: struct
 * fields are never omitted, so an update from the operator or runner carries `appinfo: {}`,
 * `components.runner.resources: {}`, the runner image the operator filled in (controllers/
 * chaosengine_controller.go L312-320, L608) and `experiments[].spec.components.statusCheckTimeouts:
 * {}` and `resources: {}`), empty.
 */
const SPEC_KEYS = ["engineState", "chaosServiceAccount", "jobCleanUpPolicy", "selectors", "experiments", "appinfo", "components"];
const PROBE_KEYS = ["name", "type", "mode", "runProperties", "k8sProbe/inputs", "promProbe/inputs"];

/**
 * `dyn(x)`: the CRD keeps unknown fields in `spec`, `components.runner` and
 * `experiments[].spec.components` (x-kubernetes-preserve-unknown-fields), and Litmus reads some it
 * does not declare (runner command, args, secrets; experiment resources). Typed field access sees
 * only declared fields, and escaped names such as `k8sProbe__slash__inputs` type-check but read
 * nothing at run time (API server 1.37, tried in guard.itest.ts); through dyn() the macros and
 * `[?"key"]` see every key as stored.
 */
const keysOutside = (obj: string, allowed: readonly string[]) => `${obj}.filter(k, !(k in ${list(allowed)})).join(", ")`;

export function engineGuard(args: EngineGuardArgs) {
  const {
    chaosNamespace,
    appsNamespace: apps,
    kafkaNamespace: kafka,
    maxDurationSeconds: maxDuration,
    maxBrokersAtOnce: maxBrokers,
  } = args;
  if (!Number.isInteger(maxDuration) || maxDuration < 1)
    throw new Error(`maxDurationSeconds: expected a whole number >= 1; found ${maxDuration}`);
  if (!Number.isInteger(maxBrokers) || maxBrokers < 0)
    throw new Error(`maxBrokersAtOnce: expected a whole number >= 0; found ${maxBrokers}`);
  for (const [key, pattern] of [
    ["workerPodPattern", args.workerPodPattern],
    ["kafkaPodPattern", args.kafkaPodPattern],
  ] as const)
    if (!pattern.startsWith("^") || !pattern.endsWith("$"))
      throw new Error(`${key}: expected a pattern anchored with ^ and $; found ${pattern}`);
  if (args.kafkaHosts.length === 0) throw new Error("kafkaHosts: expected at least one host (empty slows the whole interface)");
  if (args.bindTo !== "all" && !args.bindTo.includes(chaosNamespace))
    throw new Error(`bindTo: expected the chaos namespace ${chaosNamespace} among the bound namespaces; found ${args.bindTo.join(", ")}`);

  const name = `${args.namePrefix}-chaosengine-guard`;
  const labels = { "app.kubernetes.io/part-of": "streamforge", "app.kubernetes.io/component": "chaos" };
  // `p.namespace`, not the escaped `p.__namespace__`: the type check accepts both, but at run time
  // the API server (1.37) finds no `__namespace__` key in the engine and refuses every engine.
  const inNamespace = (ns: string) => `p.namespace == ${lit(ns)}`;
  const whole = (max: number) => `e.?value.orValue("").matches("^[0-9]{1,9}$") && int(e.value) <= ${max}`;
  const hosts = args.kafkaHosts.join(",");

  /** Per fault: each env name it may set, the CEL that its entry `e` must pass, and the expected form. */
  const ENV: Record<Fault, Record<string, { ok: string; expected: string; required?: boolean }>> = {
    "pod-delete": {
      TOTAL_CHAOS_DURATION: { ok: whole(maxDuration), expected: `whole seconds, at most ${maxDuration}`, required: true },
      CHAOS_INTERVAL: { ok: whole(maxDuration), expected: `whole seconds, at most ${maxDuration}` },
      FORCE: { ok: 'e.?value.orValue("") == "true"', expected: '"true"' },
      SEQUENCE: { ok: `e.?value.orValue("") == ${lit(SEQUENCE["pod-delete"])}`, expected: lit(SEQUENCE["pod-delete"]), required: true },
    },
    "pod-network-latency": {
      TOTAL_CHAOS_DURATION: { ok: whole(maxDuration), expected: `whole seconds, at most ${maxDuration}`, required: true },
      NETWORK_LATENCY: { ok: whole(10_000), expected: "whole milliseconds, at most 10000", required: true },
      JITTER: { ok: whole(10_000), expected: "whole milliseconds, at most 10000" },
      SEQUENCE: {
        ok: `e.?value.orValue("") == ${lit(SEQUENCE["pod-network-latency"])}`,
        expected: lit(SEQUENCE["pod-network-latency"]),
        required: true,
      },
      DESTINATION_HOSTS: { ok: `e.?value.orValue("") == ${lit(hosts)}`, expected: lit(hosts), required: true },
    },
  };
  const ENV_PATH = "spec.experiments[0].spec.components.env";
  const envRules = FAULTS.flatMap((fault) => {
    const allowed = Object.keys(ENV[fault]);
    const isFault = `variables.fault == ${lit(fault)}`;
    return [
      {
        // Everything else (TARGET_PODS, TARGETS, CHAOS_NAMESPACE, CHAOS_SERVICE_ACCOUNT, LIB_IMAGE,
        // SOCKET_PATH, CONTAINER_RUNTIME, PODS_AFFECTED_PERC, ...) would override what the program set.
        expression: `!(${isFault}) || variables.env.all(e, e.name in ${list(allowed)})`,
        messageExpression: `${lit(`${ENV_PATH}: expected only ${allowed.join(", ")} for ${fault}; found `)} + variables.env.filter(e, !(e.name in ${list(allowed)})).map(e, e.name).join(", ")`,
      },
      ...Object.entries(ENV[fault]).flatMap(([env, { ok, expected, required }]) => [
        ...(required
          ? [
              {
                expression: `!(${isFault}) || variables.env.exists(e, e.name == ${lit(env)})`,
                message: `${ENV_PATH}: expected ${env} (${expected}) for ${fault}; found none`,
              },
            ]
          : []),
        {
          expression: `!(${isFault}) || variables.env.all(e, e.name != ${lit(env)} || (${ok}))`,
          message: `${ENV_PATH} ${env}: expected ${expected}`,
        },
      ]),
    ];
  });

  const spec = "dyn(object.spec)";
  const components = `${spec}[?"components"].orValue({})`;
  const runner = `dyn(dyn(${components})[?"runner"].orValue({}))`;
  const xc = 'dyn(dyn(dyn(x)[?"spec"].orValue({}))[?"components"].orValue({}))';

  const policy = validatingPolicy(name, labels, {
    // A rule that cannot be evaluated refuses the engine rather than letting it through.
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [
        {
          apiGroups: [LITMUS_API_VERSION.split("/")[0]!],
          apiVersions: [LITMUS_API_VERSION.split("/")[1]!],
          operations: ["CREATE", "UPDATE"],
          resources: ["chaosengines"],
        },
      ],
    },
    matchConditions: [
      {
        // Stopping an engine, and the operator's clean-up of one being deleted, must always get
        // through, even for an engine created before the guard or under older limits. A stopped
        // or terminating engine runs nothing; starting one (engineState active) is checked.
        name: "may-run",
        expression:
          'request.operation == "CREATE" || (object.spec.?engineState.orValue("") != "stop" && !has(object.metadata.deletionTimestamp))',
      },
    ],
    variables: [
      // Absent fields read as empty, so each rule below says what is wrong instead of erroring.
      { name: "pods", expression: "object.spec.?selectors.?pods.orValue([])" },
      { name: "brokerNames", expression: `variables.pods.filter(p, ${inNamespace(kafka)}).map(p, p.names).join(",")` },
      { name: "experiments", expression: "object.spec.?experiments.orValue([])" },
      { name: "fault", expression: 'size(variables.experiments) == 1 ? variables.experiments[0].name : ""' },
      { name: "env", expression: "size(variables.experiments) == 1 ? variables.experiments[0].?spec.?components.?env.orValue([]) : []" },
      {
        name: "probes",
        expression: "size(variables.experiments) == 1 ? variables.experiments[0].?spec.?probe.orValue([]).map(p, dyn(p)) : []",
      },
    ],
    validations: [
      {
        // Where Litmus acts: the binding may cover every namespace (an operator installed elsewhere).
        expression: `object.metadata.namespace == ${lit(chaosNamespace)}`,
        messageExpression: `${lit(`metadata.namespace: expected ${chaosNamespace} (the only namespace chaos runs in); found `)} + object.metadata.namespace`,
      },
      {
        // The runner copies the engine's labels onto the experiment and helper pods (chaos-runner
        // pkg/utils/engineHelper.go L239-244; litmus-go pkg/utils/common/pods.go L92-100).
        expression: `object.metadata.?labels.orValue({}).all(k, k in ${list(ENGINE_LABELS)})`,
        messageExpression: `${lit(`metadata.labels: expected only ${ENGINE_LABELS.join(", ")}; found `)} + object.metadata.labels.filter(k, !(k in ${list(ENGINE_LABELS)})).join(", ")`,
      },
      {
        // `sidecar/enabled` adds the engine's sidecars to the experiment pod (chaos-runner
        // pkg/utils/engineHelper.go L17, L178).
        expression: '!("sidecar/enabled" in object.metadata.?annotations.orValue({}))',
        message: "metadata.annotations sidecar/enabled: expected absent (sidecars add any image to the experiment and helper pods)",
      },
      {
        expression: "size(variables.experiments) == 1",
        messageExpression: '"spec.experiments: expected exactly one experiment; found " + string(size(variables.experiments))',
      },
      {
        expression: `variables.fault in ${list(FAULTS)}`,
        messageExpression: `${lit(`spec.experiments[0].name: expected one of ${FAULTS.join(", ")}; found `)} + variables.fault`,
      },
      {
        // The fault's own account holds exactly what that fault does (spec.ts RULES); another
        // fault's could do more (network latency creates privileged pods).
        expression: `object.spec.?chaosServiceAccount.orValue("") == "chaos-" + variables.fault`,
        messageExpression: `"spec.chaosServiceAccount: expected chaos-" + variables.fault + " (the account of the engine's own fault); found '" + object.spec.?chaosServiceAccount.orValue("") + "'"`,
      },
      {
        // retain leaves the helper pods behind (litmus-go pkg/utils/common/pods.go L378-387).
        expression: 'object.spec.?jobCleanUpPolicy.orValue("") == "delete"',
        messageExpression: '"spec.jobCleanUpPolicy: expected delete; found \'" + object.spec.?jobCleanUpPolicy.orValue("") + "\'"',
      },
      {
        // defaultHealthCheck, auxiliaryAppInfo (checks of other apps), terminationGracePeriodSeconds, ...
        expression: `${spec}.all(k, k in ${list(SPEC_KEYS)})`,
        messageExpression: `${lit(`spec: expected only ${SPEC_KEYS.join(", ")}; found `)} + ${keysOutside(spec, SPEC_KEYS)}`,
      },
      {
        // Label or kind selection falls back to random pods of the namespace: queue-manager, the operator.
        expression: `size(dyn(${spec}[?"appinfo"].orValue({}))) == 0`,
        message:
          "spec.appinfo: expected absent (label or kind selection can pick any pod, such as queue-manager); name the pods in spec.selectors.pods",
      },
      {
        expression: "!has(object.spec.selectors) || !has(object.spec.selectors.workloads)",
        message: "spec.selectors.workloads: expected absent (a workload's pods are picked at random); name the pods in spec.selectors.pods",
      },
      {
        expression: "size(variables.pods) > 0",
        message: "spec.selectors.pods: expected the target pods by namespace and names; found none",
      },
      {
        expression: `variables.pods.all(p, ${inNamespace(apps)} || ${inNamespace(kafka)})`,
        messageExpression: `${lit(`spec.selectors.pods[].namespace: expected ${apps} (worker pods) or ${kafka} (broker pods); found `)} + variables.pods.map(p, p.namespace).join(",")`,
      },
      {
        // queue-manager and the self-healing operator run in the apps namespace too: only worker Job pods.
        expression: `variables.pods.all(p, !(${inNamespace(apps)}) || p.names.split(",").all(n, n.matches(${lit(args.workerPodPattern)})))`,
        messageExpression: `${lit(`spec.selectors.pods[].names in ${apps}: expected worker Job pods matching ${args.workerPodPattern} (never queue-manager or the operator); found `)} + variables.pods.filter(p, ${inNamespace(apps)}).map(p, p.names).join(",")`,
      },
      {
        expression: `variables.pods.all(p, !(${inNamespace(kafka)}) || p.names.split(",").all(n, n.matches(${lit(args.kafkaPodPattern)})))`,
        messageExpression: `${lit(`spec.selectors.pods[].names in ${kafka}: expected broker pods matching ${args.kafkaPodPattern}; found `)} + variables.brokerNames`,
      },
      {
        // More brokers down than replication factor minus min ISR and acks=all writes are refused.
        expression: `variables.brokerNames == "" || size(variables.brokerNames.split(",")) <= ${maxBrokers}`,
        messageExpression: `${lit(`spec.selectors.pods[].names in ${kafka}: expected at most ${maxBrokers} broker pod(s) at once (the cluster's fault tolerance); found `)} + variables.brokerNames`,
      },
      {
        // Only the network-latency fault touches the network, and never Kafka's own pods.
        expression: `variables.fault != "pod-network-latency" || variables.pods.all(p, ${inNamespace(apps)})`,
        message: `spec.selectors.pods[].namespace: expected ${apps} for pod-network-latency (worker pods only)`,
      },
      {
        // Sidecars: any image in the experiment and helper pods (chaos-runner pkg/utils/engineHelper.go L167-208).
        expression: `dyn(${components}).all(k, k == "runner")`,
        messageExpression: `"spec.components: expected only runner; found " + ${keysOutside(`dyn(${components})`, ["runner"])}`,
      },
      {
        // The runner: any image with any command, secrets or config maps mounted, under the engine's
        // account (chaos-operator controllers/chaosengine_controller.go L171-236).
        expression: `${runner}.all(k, k in ["image", "resources"]) && size(dyn(${runner}[?"resources"].orValue({}))) == 0`,
        messageExpression: `"spec.components.runner: expected only the image and an empty resources (as Litmus writes them back); found " + (${keysOutside(runner, ["image", "resources"])} != "" ? ${keysOutside(runner, ["image", "resources"])} : "resources")`,
      },
      {
        // Only the image the operator itself fills in (the chart's CHAOS_RUNNER_IMAGE).
        expression: `${runner}[?"image"].orValue(${lit(args.chaosRunnerImage)}) == ${lit(args.chaosRunnerImage)}`,
        message: `spec.components.runner.image: expected ${args.chaosRunnerImage} or absent`,
      },
      {
        // experimentImage, secrets, configMaps, node placement, tolerations (which the helper
        // inherits), resources of the experiment pod (chaos-runner pkg/utils/engineHelper.go L42-115).
        expression: `variables.experiments.all(x, ${xc}.all(k, k in ["env", "statusCheckTimeouts", "resources"]) && size(dyn(${xc}[?"statusCheckTimeouts"].orValue({}))) == 0 && size(dyn(${xc}[?"resources"].orValue({}))) == 0)`,
        messageExpression: `"spec.experiments[0].spec.components: expected only env (and an empty statusCheckTimeouts and resources, as Litmus writes them back); found " + variables.experiments.map(x, ${xc}.filter(k, k != "env" && (!(k in ["statusCheckTimeouts", "resources"]) || size(dyn(${xc}[k])) > 0)).join(", ")).join(", ")`,
      },
      {
        // Entries are full EnvVars (chaosengine_types.go L449): valueFrom reads any Secret of the namespace.
        expression: 'variables.env.all(e, dyn(e).all(k, k in ["name", "value"]))',
        messageExpression: `${lit("spec.experiments[0].spec.components.env: expected literal values; found valueFrom in ")} + variables.env.filter(e, !dyn(e).all(k, k in ["name", "value"])).map(e, e.name).join(", ")`,
      },
      ...envRules,
      {
        // cmdProbe runs commands, or a privileged hostNetwork pod of any image (litmus-go
        // pkg/probe/cmdprobe.go L160-202); httpProbe and sloProbe call out of the cluster.
        expression: 'variables.probes.all(p, p.type in ["promProbe", "k8sProbe"])',
        messageExpression:
          '"spec.experiments[0].spec.probe[].type: expected promProbe or k8sProbe; found " + variables.probes.filter(p, !(p.type in ["promProbe", "k8sProbe"])).map(p, p.type).join(", ")',
      },
      {
        expression: `variables.probes.all(p, p.all(k, k in ${list(PROBE_KEYS)}))`,
        messageExpression: `"spec.experiments[0].spec.probe[]: expected only ${PROBE_KEYS.join(", ")}; found " + variables.probes.map(p, ${keysOutside("p", PROBE_KEYS)}).filter(s, s != "").join(", ")`,
      },
      {
        // create and delete act on any resource with the fault's account (litmus-go pkg/probe/k8sprobe.go L92-114).
        expression: `variables.probes.all(p, !("k8sProbe/inputs" in p) || (dyn(p["k8sProbe/inputs"])[?"operation"].orValue("") in ["present", "absent"] && dyn(p["k8sProbe/inputs"])[?"namespace"].orValue("") == ${lit(apps)}))`,
        message: `spec.experiments[0].spec.probe[] k8sProbe/inputs: expected operation present or absent, in namespace ${apps}`,
      },
      {
        expression: `variables.probes.all(p, !("promProbe/inputs" in p) || dyn(p["promProbe/inputs"])[?"endpoint"].orValue("") == ${lit(args.prometheusAddress)})`,
        message: `spec.experiments[0].spec.probe[] promProbe/inputs.endpoint: expected ${args.prometheusAddress}`,
      },
      {
        // litmus-go runs a promProbe as /bin/sh -c "promql --host <endpoint> \"<query>\" --output csv"
        // (pkg/probe/promProbe.go L190-199), and queryPath as "$(cat <path>)": a query holding a
        // double quote, $, backquote or backslash runs shell code as the fault's account.
        expression: `variables.probes.all(p, !("promProbe/inputs" in p) || (dyn(p["promProbe/inputs"]).all(k, k in ["endpoint", "query", "comparator"]) && !string(dyn(p["promProbe/inputs"])[?"query"].orValue("")).matches(${lit('["$`\\\\]')})))`,
        message:
          'spec.experiments[0].spec.probe[] promProbe/inputs: expected only endpoint, query and comparator, and a query without ", $, ` or \\ (litmus-go runs it through /bin/sh)',
      },
    ],
  });

  const binding = denyBindingIn(name, labels, args.bindTo);
  return { policy, binding };
}
