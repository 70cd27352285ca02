/**
 * What Litmus' own operator may write with its token. The litmus-core chart gives it, in the
 * namespace it runs in, create, update, patch and delete on pods, pods/exec, Jobs, Deployments,
 * DaemonSets, StatefulSets, Services, ConfigMaps, ChaosExperiments and more (litmus-helm
 * litmus-core-3.28.1 charts/litmus-core/templates/namespaced-role.yaml L8-13), and that namespace
 * is the privileged chaos namespace: its token would start a privileged pod (or a Deployment of
 * one) on any node, exec into the fault accounts' pods, or rewrite an experiment. The chart has no
 * switch for a narrower Role, so a ValidatingAdmissionPolicy on the operator's requests admits only
 * what chaos-operator 3.18.0 does (controllers/chaosengine_controller.go):
 * - create the runner pod (L170-244, L252): one container `chaos-runner`, the engine's runner image,
 *   its env (L142-154), no command or args (those come from the engine, whose guard refuses
 *   them), the engine's chaosServiceAccount (a fault account), no root, nothing of the host;
 * - patch and update its ChaosEngines (L360, L408, L520, L541, L694, L710) and update a
 *   ChaosResult's status (L762);
 * - delete the Jobs and pods it made, all labelled with the engine's `chaosUID` (L375-391 by
 *   label, L450-462 listed by it);
 * - events (its recorder).
 * Everything else (other kinds, pods/exec, ChaosExperiments) is refused. Pure.
 */
import { denyBinding, list, lit, serviceAccountUser, validatingPolicy } from "../infra/kit/admission-spec";
import { API_TOKEN_VOLUME, noRoot } from "./pod-guard";
import { FAULTS, serviceAccountName } from "./spec";

/** The runner's env as chaos-operator 3.18.0 sets it (controllers/chaosengine_controller.go `getChaosRunnerENV` L142-154). */
export const RUNNER_ENV = [
  "CHAOSENGINE",
  "TARGETS",
  "EXPERIMENT_LIST",
  "CHAOS_SVC_ACC",
  "AUXILIARY_APPINFO",
  "CLIENT_UUID",
  "CHAOS_NAMESPACE",
];

/** The tolerations the API server adds to every pod (DefaultTolerationSeconds admission): the only ones a runner carries. */
const DEFAULT_TOLERATIONS = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"];

export interface LitmusOperatorGuardArgs {
  /** Namespace of Litmus' operator and of everything it may write. */
  readonly chaosNamespace: string;
  /** The operator's ServiceAccount: the chart's fullname (litmus-core, with the stack's release name). */
  readonly operatorServiceAccount: string;
  /** The chaos-runner image the engines name (the engine guard admits only it). */
  readonly chaosRunnerImage: string;
  /** Names the cluster-scoped policy: one per stack. */
  readonly namePrefix: string;
}

/** The API groups of the chart's Role (namespaced-role.yaml L11). */
const CHART_GROUPS = ["", "apps", "batch", "extensions", "litmuschaos.io", "argoproj.io"];

export const litmusOperatorGuardName = (prefix: string): string => `${prefix}-litmus-operator-guard`;

export function litmusOperatorGuard(args: LitmusOperatorGuardArgs) {
  const name = litmusOperatorGuardName(args.namePrefix);
  const labels = { "app.kubernetes.io/part-of": "streamforge", "app.kubernetes.io/component": "chaos" };
  const faults = list(FAULTS.map(serviceAccountName));
  const r = "request.resource";
  const is = (group: string, resource: string) => `${r}.group == ${lit(group)} && ${r}.resource == ${lit(resource)}`;
  const runnerCreate = `${is("", "pods")} && request.?subResource.orValue("") == "" && request.operation == "CREATE"`;
  const allowed = [
    is("", "events"),
    runnerCreate,
    `${is("litmuschaos.io", "chaosengines")} && request.operation == "UPDATE"`,
    `${is("litmuschaos.io", "chaosresults")} && request.operation == "UPDATE"`,
    `request.operation == "DELETE" && (${is("", "pods")} || ${is("batch", "jobs")}) && request.?subResource.orValue("") == "" && "chaosUID" in oldObject.metadata.?labels.orValue({})`,
  ];
  const pod = "object.spec";
  const hostFree = `!${pod}.?hostNetwork.orValue(false) && !${pod}.?hostPID.orValue(false) && !${pod}.?hostIPC.orValue(false) && !has(${pod}.nodeName) && ${pod}.?volumes.orValue([]).all(v, !has(v.hostPath))`;
  // The runner's command, args, volumes and placement come only from the engine's runner
  // components (L187-227), which the engine guard refuses: none here.
  const container = `c.name == "chaos-runner" && c.image == ${lit(args.chaosRunnerImage)} && !has(c.command) && !has(c.args) && !has(c.workingDir) && !has(c.envFrom) && c.?env.orValue([]).all(e, e.name in ${list(RUNNER_ENV)} && !has(e.valueFrom)) && !c.?securityContext.?privileged.orValue(false) && !c.?securityContext.?allowPrivilegeEscalation.orValue(false) && c.?securityContext.?capabilities.?add.orValue([]).size() == 0 && ${noRoot("c.?securityContext")}`;
  const placement = `!has(${pod}.nodeSelector) && ${pod}.?tolerations.orValue([]).all(t, t.?key.orValue("") in ${list(DEFAULT_TOLERATIONS)}) && ${noRoot(`${pod}.?securityContext`)} && ${pod}.?volumes.orValue([]).all(v, ${API_TOKEN_VOLUME})`;
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
        messageExpression: `${lit("expected only what chaos-operator 3.18.0 does (create runner pods, update engines and results, delete its own pods and Jobs by chaosUID, events); found ")} + request.operation + " " + (${r}.group == "" ? "" : ${r}.group + "/") + ${r}.resource + (request.?subResource.orValue("") == "" ? "" : "/" + request.subResource) + " " + request.name`,
      },
      {
        expression: `!(${runnerCreate}) || (${pod}.?serviceAccountName.orValue("default") in ${faults} && !has(${pod}.initContainers) && ${pod}.containers.size() == 1 && ${pod}.containers.all(c, ${container}) && ${hostFree} && ${placement})`,
        messageExpression: `${lit(`pods: expected the runner pod as chaos-operator builds it (one chaos-runner container of ${args.chaosRunnerImage} with its env only, a fault's account, no command, no root, nothing of the host); found `)} + ${pod}.containers.map(c, c.name + " " + c.image).join(", ") + " as " + ${pod}.?serviceAccountName.orValue("default")`,
      },
    ],
  });
  return { policy, binding: denyBinding(name, labels, args.chaosNamespace) };
}
