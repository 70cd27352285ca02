/**
 * What Litmus' own operator may write with its token. Its Role (./litmus-operator.ts) is what
 * chaos-operator calls, but two of those calls RBAC cannot shape: it creates pods in the
 * privileged chaos namespace, and it deletes pods. So a ValidatingAdmissionPolicy on the operator's
 * requests admits only what chaos-operator 3.18.0 does (controllers/chaosengine_controller.go):
 * - create the runner pod (L170-244, L252): named `<engine>-runner` (L210), one container
 *   `chaos-runner`, the engine's runner image, its env (L142-154) with the values the engine gives
 *   (this namespace, the engine's fault account and that account's fault, targets among the
 *   scenarios' pods), no command or args (those come from the engine, whose guard refuses them),
 *   no root, nothing of the host, no volume but the API server's token;
 * - update its ChaosEngines (L360, L408, L520, L541, L694, L710), moving `engineState` only as it
 *   does: to `stop` (L406, L693), or from unset to `active` (L531); and a ChaosResult's
 *   annotations and target history (L758-762), never its verdict;
 * - delete the Jobs and pods it made, all labelled with the engine's `chaosUID` (L375-391 by
 *   label, L450-462 listed by it);
 * - events (its recorder).
 * Everything else is refused. Pure.
 */
import { denyBinding, list, lit, priorityClassAllowed, serviceAccountUser, validatingPolicy } from "../infra/kit/admission-spec";
import { API_TOKEN_VOLUME, noRoot } from "./pod-guard";
import { FAULTS, serviceAccountName } from "./spec";

/** Where an engine may aim: the pods of one namespace whose names match an RE2 pattern. */
export interface RunnerTargets {
  readonly namespace: string;
  /** Anchored RE2 over one pod name (WORKER_POD_PATTERN, brokerPodPattern). */
  readonly podPattern: string;
}

/** A pod's name: a DNS subdomain (no `,`, `;` or bracket to smuggle a second target in). */
const POD_NAME = "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$";

/**
 * CEL over the runner's TARGETS `v` as chaos-operator builds it from the engine's `selectors.pods`
 * (`getTargets` L632-660): `pod:<namespace>:[<names, comma-separated>]`, joined by `;`. Each name
 * must be a pod name of a namespace the scenarios target, matching its pattern.
 */
export function runnerTargetsCel(v: string, targets: readonly RunnerTargets[]): string {
  const within = targets.map(({ namespace, podPattern }) => {
    const prefix = `pod:${namespace}:[`;
    return `(t.startsWith(${lit(prefix)}) && t.endsWith("]") && t.substring(${prefix.length}, t.size() - 1).split(",").all(n, n.matches(${lit(POD_NAME)}) && n.matches(${lit(podPattern)})))`;
  });
  return `${v}.split(";").all(t, ${within.join(" || ")})`;
}

/**
 * The runner's env as chaos-operator 3.18.0 sets it (`getChaosRunnerENV` L142-154; empty values
 * are left out, pkg/utils/utils.go L38-46), each name with the CEL its value `v` must pass.
 * AUXILIARY_APPINFO is not among them: the engine guard refuses the field it comes from.
 * TRACE_PARENT: chaos-operator commit 9d38a70b (distributed tracing, after 3.18.0) adds it, the
 * span context as JSON, should the 3.28.0 image carry it; its OTEL_EXPORTER_OTLP_ENDPOINT is the
 * operator's own, which the stack leaves unset, so it never appears.
 */
function runnerEnv(chaosNamespace: string, targets: readonly RunnerTargets[]): Readonly<Record<string, (v: string) => string>> {
  const account = 'object.spec.?serviceAccountName.orValue("default")';
  return {
    CHAOSENGINE: (v) => `object.metadata.?name.orValue("") == ${v} + "-runner"`,
    TARGETS: (v) => runnerTargetsCel(v, targets),
    EXPERIMENT_LIST: (v) => FAULTS.map((f) => `(${account} == ${lit(serviceAccountName(f))} && ${v} == ${lit(f)})`).join(" || "),
    CHAOS_SVC_ACC: (v) => `${v} == ${account}`,
    CLIENT_UUID: (v) => `${v}.matches("^[A-Za-z0-9-]*$")`,
    CHAOS_NAMESPACE: (v) => `${v} == ${lit(chaosNamespace)}`,
    // At most 1 KiB, as GetMarshalledSpanFromContext keeps it (pkg/telemetry/tracing.go); RE2 refuses large nested counted repeats.
    TRACE_PARENT: (v) =>
      `${v}.size() < 1024 && ${v}.matches(${lit('^\\{"[a-z]+":"[A-Za-z0-9=,;. _/-]*"(,"[a-z]+":"[A-Za-z0-9=,;. _/-]*")*\\}$')})`,
  };
}

/** Those the runner always has: the engine guard requires its targets by name (spec.selectors.pods). */
const RUNNER_ENV_REQUIRED = ["CHAOSENGINE", "TARGETS", "EXPERIMENT_LIST", "CHAOS_SVC_ACC", "CHAOS_NAMESPACE"];

/** The tolerations the API server adds to every pod (DefaultTolerationSeconds admission): the only ones a runner carries. */
const DEFAULT_TOLERATIONS = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"];

export interface LitmusOperatorGuardArgs {
  /** Namespace of Litmus' operator and of everything it may write. */
  readonly chaosNamespace: string;
  /** The operator's ServiceAccount (./litmus-operator.ts). */
  readonly operatorServiceAccount: string;
  /** What the scenarios may target (the engine guard's limits): the runner's TARGETS stay within them. */
  readonly targets: readonly RunnerTargets[];
  /** The chaos-runner image the engines name (the engine guard admits only it). */
  readonly chaosRunnerImage: string;
  /** The PriorityClasses a runner pod may carry (infra/kit/admission-spec.ts priorityClassRule); chaos-operator names none. */
  readonly priorityClasses: readonly string[];
  /** Names the cluster-scoped policy: one per stack. */
  readonly namePrefix: string;
}

/** Every API group the litmus-core chart's Role named (namespaced-role.yaml L11): a Role wider than ours is still held. */
const CHART_GROUPS = ["", "apps", "batch", "extensions", "litmuschaos.io", "argoproj.io"];

/** A ChaosResult's verdict, probes and run counts, which the operator never changes (L758-762 set only the targets). */
const RESULT_VERDICT = [
  "spec",
  "status.experimentStatus",
  "status.probeStatuses",
  ...["passedRuns", "failedRuns", "stoppedRuns"].map((k) => `status.history.${k}`),
];

/** CEL: the field at `path` (dotted) is absent in both the old and new object, or present and equal. */
function unchanged(path: string): string {
  const opt = (o: string) => `${o}.?${path.split(".").join(".?")}`;
  return `(${opt("object")}.hasValue() == ${opt("oldObject")}.hasValue() && (!${opt("object")}.hasValue() || object.${path} == oldObject.${path}))`;
}

export const litmusOperatorGuardName = (prefix: string): string => `${prefix}-litmus-operator-guard`;

export function litmusOperatorGuard(args: LitmusOperatorGuardArgs) {
  const name = litmusOperatorGuardName(args.namePrefix);
  const labels = { "app.kubernetes.io/part-of": "streamforge", "app.kubernetes.io/component": "chaos" };
  const faults = list(FAULTS.map(serviceAccountName));
  const r = "request.resource";
  const is = (group: string, resource: string) => `${r}.group == ${lit(group)} && ${r}.resource == ${lit(resource)}`;
  const state = (o: string) => `${o}.?spec.?engineState.orValue("")`;
  const runnerCreate = `${is("", "pods")} && request.?subResource.orValue("") == "" && request.operation == "CREATE"`;
  const allowed = [
    is("", "events"),
    runnerCreate,
    `${is("litmuschaos.io", "chaosengines")} && request.operation == "UPDATE" && (${state("object")} == ${state("oldObject")} || ${state("object")} == "stop" || (${state("oldObject")} == "" && ${state("object")} == "active"))`,
    // No status subresource (the CRD's `subresources: {}`): the verdict is in the object it updates.
    `${is("litmuschaos.io", "chaosresults")} && request.operation == "UPDATE" && ${RESULT_VERDICT.map(unchanged).join(" && ")}`,
    `request.operation == "DELETE" && (${is("", "pods")} || ${is("batch", "jobs")}) && request.?subResource.orValue("") == "" && "chaosUID" in oldObject.metadata.?labels.orValue({})`,
  ];
  const pod = "object.spec";
  const hostFree = `!${pod}.?hostNetwork.orValue(false) && !${pod}.?hostPID.orValue(false) && !${pod}.?hostIPC.orValue(false) && !has(${pod}.nodeName) && ${pod}.?volumes.orValue([]).all(v, !has(v.hostPath))`;
  const env = runnerEnv(args.chaosNamespace, args.targets);
  const envValues = `c.?env.orValue([]).all(e, !has(e.valueFrom) && (${Object.entries(env)
    .map(([n, ok]) => `(e.name == ${lit(n)} && ${ok('e.?value.orValue("")')})`)
    .join(" || ")})) && ${RUNNER_ENV_REQUIRED.map((n) => `c.?env.orValue([]).exists(e, e.name == ${lit(n)})`).join(" && ")}`;
  // The runner's command, args, volumes and placement come only from the engine's runner
  // components (L187-227), which the engine guard refuses: none here.
  const container = `c.name == "chaos-runner" && c.image == ${lit(args.chaosRunnerImage)} && !has(c.command) && !has(c.args) && !has(c.workingDir) && !has(c.envFrom) && !has(c.ports) && ${envValues} && !c.?securityContext.?privileged.orValue(false) && !c.?securityContext.?allowPrivilegeEscalation.orValue(false) && c.?securityContext.?capabilities.?add.orValue([]).size() == 0 && ${noRoot("c.?securityContext")}`;
  const placement = `${priorityClassAllowed(pod, args.priorityClasses)} && !has(${pod}.nodeSelector) && !has(${pod}.affinity) && ${pod}.?tolerations.orValue([]).all(t, t.?key.orValue("") in ${list(DEFAULT_TOLERATIONS)}) && ${noRoot(`${pod}.?securityContext`)} && ${pod}.?volumes.orValue([]).all(v, ${API_TOKEN_VOLUME})`;
  const policy = validatingPolicy(name, labels, {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [
        { apiGroups: CHART_GROUPS, apiVersions: ["*"], operations: ["CREATE", "UPDATE", "DELETE", "CONNECT"], resources: ["*/*"] },
      ],
    },
    matchConditions: [
      {
        name: "litmus-operator-only",
        expression: `request.userInfo.username == ${lit(serviceAccountUser(args.chaosNamespace, args.operatorServiceAccount))}`,
      },
    ],
    validations: [
      {
        expression: allowed.map((a) => `(${a})`).join(" || "),
        messageExpression: `${lit("expected only what chaos-operator 3.18.0 does (create runner pods, update engines (engineState only to stop, or unset to active) and results (never their verdict), delete its own pods and Jobs by chaosUID, events); found ")} + request.operation + " " + (${r}.group == "" ? "" : ${r}.group + "/") + ${r}.resource + (request.?subResource.orValue("") == "" ? "" : "/" + request.subResource) + " " + request.name`,
      },
      {
        expression: `!(${runnerCreate}) || (${pod}.?serviceAccountName.orValue("default") in ${faults} && !has(${pod}.initContainers) && ${pod}.containers.size() == 1 && ${pod}.containers.all(c, ${container}) && ${hostFree} && ${placement})`,
        messageExpression: `${lit(`pods: expected the runner pod as chaos-operator builds it (one chaos-runner container of ${args.chaosRunnerImage}, named after its engine, its env as the engine gives it: this namespace, a fault's account and that fault, targets among the scenarios' pods; no command, no root, nothing of the host, no priority class beyond streamforge:chaos.priorityClasses); found `)} + ${pod}.containers.map(c, c.name + " " + c.image).join(", ") + " as " + ${pod}.?serviceAccountName.orValue("default")`,
      },
    ],
  });
  return { policy, binding: denyBinding(name, labels, args.chaosNamespace) };
}
