/**
 * An admission guard on ChaosEngines: a ValidatingAdmissionPolicy and its binding that refuse, in
 * the chaos namespace, any engine that breaks the safety rules, whoever creates it (Pulumi, the
 * launcher, or anyone with RBAC on chaosengines). The rules restate what spec.ts builds: targets
 * only by pod name, only worker Job pods or at most the tolerated number of brokers, a capped
 * duration, an experiment's own ServiceAccount. Pure: plain objects for the component to declare.
 */
import { denyBinding, validatingPolicy } from "../infra/cluster/admission-spec";
import { FAULTS, LITMUS_API_VERSION, WORKER_TARGETS, serviceAccountName } from "./spec";

export interface EngineGuardArgs {
  readonly chaosNamespace: string;
  readonly appsNamespace: string;
  readonly kafkaNamespace: string;
  /** The longest TOTAL_CHAOS_DURATION an experiment may ask for. */
  readonly maxDurationSeconds: number;
  /** The Kafka cluster's fault tolerance: how many broker pods an engine may name (0: none). */
  readonly maxBrokersAtOnce: number;
  /** RE2: the pod names worker scenarios may hit in the apps namespace (see WORKER_POD_PATTERN). */
  readonly workerPodPattern: string;
  /** RE2: the broker pod names in the Kafka namespace (see brokerPodPattern). */
  readonly kafkaPodPattern: string;
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

/** The per-experiment accounts: exactly these, as a look-alike such as chaos-admin could hold more. */
const ACCOUNTS = FAULTS.map(serviceAccountName);

/** A CEL string literal (CEL's escapes include JSON's). */
const lit = (s: string): string => JSON.stringify(s);

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

  const name = `${args.namePrefix}-chaosengine-guard`;
  const labels = { "app.kubernetes.io/part-of": "streamforge", "app.kubernetes.io/component": "chaos" };
  // `p.namespace`, not the escaped `p.__namespace__`: the type check accepts both, but at run time
  // the API server (1.37) finds no `__namespace__` key in the engine and refuses every engine.
  const inNamespace = (ns: string) => `p.namespace == ${lit(ns)}`;
  const integerEnv = (env: string, max: number) =>
    `variables.envs.all(env, env.all(e, e.name != ${lit(env)} || (e.?value.orValue("").matches("^[0-9]{1,9}$") && int(e.value) <= ${max})))`;

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
      { name: "envs", expression: "object.spec.?experiments.orValue([]).map(x, x.?spec.?components.?env.orValue([]))" },
    ],
    validations: [
      {
        // Label or kind selection falls back to random pods of the namespace: queue-manager, the operator.
        expression: "!has(object.spec.appinfo)",
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
        expression: 'variables.envs.all(env, env.exists(e, e.name == "TOTAL_CHAOS_DURATION"))',
        message: `spec.experiments[].spec.components.env: expected TOTAL_CHAOS_DURATION in every experiment, at most ${maxDuration} seconds; found an experiment without it`,
      },
      {
        expression: integerEnv("TOTAL_CHAOS_DURATION", maxDuration),
        message: `spec.experiments[].spec.components.env TOTAL_CHAOS_DURATION: expected a value of whole seconds, at most ${maxDuration}`,
      },
      {
        expression: integerEnv("PODS_AFFECTED_PERC", 100),
        message: "spec.experiments[].spec.components.env PODS_AFFECTED_PERC: expected a value of whole percent, at most 100",
      },
      {
        // The per-experiment accounts hold exactly what their fault declares; any other could do more.
        expression: `object.spec.?chaosServiceAccount.orValue("") in ${JSON.stringify(ACCOUNTS)}`,
        messageExpression: `"spec.chaosServiceAccount: expected an experiment's own account (${ACCOUNTS.join(", ")}); found '" + object.spec.?chaosServiceAccount.orValue("") + "'"`,
      },
    ],
  });

  return { policy, binding: denyBinding(name, labels, chaosNamespace) };
}
