/**
 * Who may write the platform's workloads in the apps namespaces. The workload guard
 * (workload-guard-spec.ts) trusts every pod the ReplicaSet controller makes: only such pods may run
 * as queue-manager's or the operator's account (whose tokens carry Roles) or carry their labels
 * (which their NetworkPolicies, Services and PodMonitors select). That trust holds only if nobody
 * else can write a ReplicaSet, or the Deployment or Rollout behind one, with such a template: `edit`
 * may write all three, and a person's ReplicaSet running as the operator would read its token.
 *
 * This policy, for every requester in those namespaces:
 * - a Deployment or Rollout whose pod template is the platform's (a platform account or label; a
 *   Rollout's `workloadRef`, whose template is elsewhere) is created or changed only by the
 *   deployers (`apps.deployers`: the identities that run `pulumi up`); anyone else with the verbs
 *   may change only `replicas`, `paused` and a Rollout's `restartAt` (the runbook's scale, pause
 *   and restart), and Argo Rollouts' controller, held to its own fields by its guard
 *   (rollouts/controller-guard.ts), may update the Rollout;
 * - a ReplicaSet with the platform's template is created or given a new template only by the
 *   controllers that derive it from those (Kubernetes' Deployment controller, kubernetes v1.34.5
 *   pkg/controller/deployment/sync.go `getNewReplicaSet` L146-232; Argo Rollouts', whose guard holds it to the
 *   Rollout's template) or the deployers, who may write the Deployment anyway (the local platform
 *   runs Argo's controller as its admin); scaling it or editing its metadata stays open (the garbage
 *   collector, the autoscaler, `kubectl scale`);
 * - StatefulSets, DaemonSets and ReplicationControllers never carry the platform's template: the
 *   platform declares none, and where the controller manager runs under one identity their pods
 *   would look like a ReplicaSet's.
 * Pure: plain objects for the component to declare.
 */
import { ACCOUNT_VARIABLES, denyBindingIn, list, lit, serviceAccountUser, validatingPolicy } from "../kit/admission-spec";
import { APPS_GUARD_LABELS, platformMarks } from "./workload-guard-spec";

/** Kubernetes users and groups, as `kubectl auth whoami` names them. */
export interface Identities {
  /** User names, as `kubectl auth whoami` gives them. */
  readonly users: readonly string[];
  /** Group names, as `kubectl auth whoami` gives them. */
  readonly groups: readonly string[];
}

/** The identities that run `pulumi up` for the stack (`streamforge:apps.deployers`). */
export type Deployers = Identities;

export interface PlatformWorkloadsGuardArgs {
  /** The apps namespaces the guard holds. */
  readonly namespaces: readonly string[];
  /** queue-manager's and the operator's accounts. */
  readonly platformServiceAccounts: readonly string[];
  /** The identities that run `pulumi up`: the only writers of the platform's workloads. */
  readonly deployers: Deployers;
  /** Argo Rollouts' controller (`system:serviceaccount:<ns>:<account>`), where the stack runs a canary. */
  readonly rolloutsController?: string | undefined;
  /** Names the cluster-scoped policies: one per stack. */
  readonly namePrefix: string;
}

/**
 * Kubernetes' Deployment controller: its own account under --use-service-account-credentials (as
 * kubeadm and managed clusters run it), or the controller manager's identity where it shares one.
 */
export const DEPLOYMENT_CONTROLLER_USERS = [serviceAccountUser("kube-system", "deployment-controller"), "system:kube-controller-manager"];

/** What anyone allowed to update a platform Deployment or Rollout may change in its spec: scale, pause, restart. */
export const OPEN_SPEC_FIELDS = ["replicas", "paused", "restartAt"] as const;

/** CEL: the request comes from one of the deployers (a user named, or a member of a group named). */
export const byDeployer = (deployers: Deployers): string =>
  `request.userInfo.username in ${list(deployers.users)} || request.userInfo.?groups.orValue([]).exists(g, g in ${list(deployers.groups)})`;

export const platformWorkloadsGuardName = (prefix: string): string => `${prefix}-apps-platform-workloads`;

export function platformWorkloadsGuard(args: PlatformWorkloadsGuardArgs) {
  const { deployers, platformServiceAccounts: platform } = args;
  if (deployers.users.length + deployers.groups.length === 0)
    throw new Error("deployers: expected at least one user or group that runs `pulumi up`; found none");
  const name = platformWorkloadsGuardName(args.namePrefix);
  const labels = APPS_GUARD_LABELS;
  const marks = platformMarks(platform);
  const makers = [...DEPLOYMENT_CONTROLLER_USERS, ...(args.rolloutsController ? [args.rolloutsController] : [])];
  const kind = "request.kind.kind";
  // Whether an object's pod template is the platform's; `o` is object or oldObject.
  // A ReplicaSet's own labels count too: they decide which Rollout adopts it (argo-rollouts v1.10.2
  // rollout/replicaset.go getReplicaSetsForRollouts), so a person's ReplicaSet labelled with
  // queue-manager's name and hash would become its stable version.
  const platformTemplate = (o: string) =>
    `(${o}.spec.?template.?spec.?serviceAccountName.orValue("") in ${list(platform)} || ${o}.spec.?template.?spec.?serviceAccount.orValue("") in ${list(platform)} || ${marks(`${o}.spec.?template.?metadata.?labels.orValue({})`)} != ["", ""] || ${marks(`${o}.metadata.?labels.orValue({})`)} != ["", ""] || has(${o}.spec.workloadRef))`;
  const deployersText = [
    ...(deployers.users.length > 0 ? [`users ${deployers.users.join(", ")}`] : []),
    ...(deployers.groups.length > 0 ? [`groups ${deployers.groups.join(", ")}`] : []),
  ].join("; ");
  const open = list([...OPEN_SPEC_FIELDS]);

  const policy = validatingPolicy(name, labels, {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [
        {
          apiGroups: ["apps"],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE"],
          resources: ["deployments", "replicasets", "statefulsets", "daemonsets"],
        },
        { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["replicationcontrollers"] },
        { apiGroups: ["argoproj.io"], apiVersions: ["v1alpha1"], operations: ["CREATE", "UPDATE"], resources: ["rollouts"] },
      ],
    },
    variables: [
      // The pod spec, for the account variables the other guards share.
      { name: "pod", expression: "object.spec.?template.?spec.orValue({})" },
      ...ACCOUNT_VARIABLES,
      {
        name: "platform",
        expression: `${platformTemplate("object")} || (request.operation == "UPDATE" && ${platformTemplate("oldObject")})`,
      },
      {
        name: "deployer",
        expression: byDeployer(deployers),
      },
      { name: "maker", expression: `request.userInfo.username in ${list(makers)}` },
      // The spec fields an update changed, beyond scale, pause and restart.
      {
        name: "changed",
        // Owner references too: one naming an owner that does not exist has the garbage collector
        // delete the object (a delete by patch).
        expression: `request.operation == "UPDATE" ? (object.spec.filter(k, !(k in ${open}) && (!(k in oldObject.spec) || object.spec[k] != oldObject.spec[k])) + oldObject.spec.filter(k, !(k in ${open}) && !(k in object.spec))).map(k, "spec." + k) + (object.metadata.?ownerReferences.orValue([]) == oldObject.metadata.?ownerReferences.orValue([]) ? [] : ["metadata.ownerReferences"]) : []`,
      },
    ],
    validations: [
      {
        expression: `!(${kind} in ["Deployment", "Rollout"]) || !variables.platform || variables.deployer || (request.operation == "UPDATE" && size(variables.changed) == 0) || (${kind} == "Rollout" && variables.maker)`,
        messageExpression: `(request.operation == "CREATE" ? "spec" : variables.changed.join(", ")) + ": expected a " + ${kind} + ${lit(` of the platform's pods (accounts ${platform.join(", ")}, or their labels) to be written only by the deployers (apps.deployers: ${deployersText}), anyone else changing at most spec.${OPEN_SPEC_FIELDS.join(", spec.")}; found `)} + (request.operation == "CREATE" ? "one created" : "a change") + " by " + request.userInfo.username`,
      },
      {
        expression: `${kind} != "ReplicaSet" || !variables.platform || variables.maker || variables.deployer || (request.operation == "UPDATE" && object.spec.template == oldObject.spec.template && object.metadata.?labels.orValue({}) == oldObject.metadata.?labels.orValue({}))`,
        messageExpression: `${lit(`spec.template: expected a ReplicaSet of the platform's pods (accounts ${platform.join(", ")}, or their labels) to be made only by its Deployment's or Rollout's controller (${makers.join(", ")}) or the deployers; found `)} + (request.operation == "CREATE" ? "one created" : "its template or labels changed") + " by " + request.userInfo.username`,
      },
      {
        expression: `${kind} in ["Deployment", "Rollout", "ReplicaSet"] || !variables.platform`,
        messageExpression: `"spec.template: expected no " + ${kind} + ${lit(` of the platform's pods (accounts ${platform.join(", ")}, or their labels): the platform runs them only as Deployments and Rollouts; found one running as `)} + variables.accounts.join(", ")`,
      },
    ],
  });
  return { policy, binding: denyBindingIn(name, labels, [...new Set(args.namespaces)].sort()) };
}

export const platformTokenGuardName = (prefix: string): string => `${prefix}-apps-platform-tokens`;

/**
 * No token of a platform account on request: Kubernetes' `edit` grants `serviceaccounts/token`
 * create in its namespace, and a TokenRequest for queue-manager's or the operator's account
 * returns a token carrying their Roles. Only the kubelet asks for them (`system:node:<node>`,
 * the projected token of their pods) and the deployers (who may write the workloads anyway).
 * Pure.
 */
export function platformTokenGuard(
  args: Pick<PlatformWorkloadsGuardArgs, "namespaces" | "platformServiceAccounts" | "deployers" | "namePrefix">,
) {
  const name = platformTokenGuardName(args.namePrefix);
  const labels = APPS_GUARD_LABELS;
  const policy = validatingPolicy(name, labels, {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["serviceaccounts/token"] }],
    },
    validations: [
      {
        expression: `!(request.name in ${list(args.platformServiceAccounts)}) || request.userInfo.username.startsWith("system:node:") || ${byDeployer(args.deployers)}`,
        messageExpression: `${lit(`serviceaccounts/token: expected a token of the platform's accounts (${args.platformServiceAccounts.join(", ")}) only for their pods (the kubelet) or the deployers; found a request for `)} + request.name + " by " + request.userInfo.username`,
      },
    ],
  });
  return { policy, binding: denyBindingIn(name, labels, [...new Set(args.namespaces)].sort()) };
}

export const serviceGuardName = (prefix: string): string => `${prefix}-apps-cluster-services`;

/**
 * Services in the apps namespaces stay inside the cluster: ClusterIP (or headless), no external
 * IPs. A NodePort or LoadBalancer selecting queue-manager's pods would expose them past the
 * ingress, and an external IP intercepts the traffic every pod sends to it (CVE-2020-8554);
 * `edit` may create either. The platform declares none (its Services are ClusterIP; traffic comes
 * in through the mesh's gateway or an Ingress in its own namespace). A Service that selects the
 * platform's pods is written only by the deployers (and Argo Rollouts' controller, which moves
 * queue-manager's selectors): `edit` could otherwise point it at a pod of its own. Pure.
 */
export function serviceGuard(
  args: Pick<PlatformWorkloadsGuardArgs, "namespaces" | "namePrefix" | "platformServiceAccounts" | "deployers" | "rolloutsController">,
) {
  const name = serviceGuardName(args.namePrefix);
  const labels = APPS_GUARD_LABELS;
  const marks = platformMarks(args.platformServiceAccounts);
  // A Service that selects the platform's pods, before or after the request.
  const selects = (o: string) => `${marks(`${o}.spec.?selector.orValue({})`)} != ["", ""]`;
  const writers = args.rolloutsController ? [args.rolloutsController] : [];
  // Deleting a namespace deletes its Services (kubernetes v1.37.2 pkg/controller/namespace/deletion).
  const cleaners = [serviceAccountUser("kube-system", "namespace-controller"), "system:kube-controller-manager"];
  const policy = validatingPolicy(name, labels, {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE", "DELETE"], resources: ["services"] }],
    },
    variables: [
      {
        name: "platform",
        expression: `(request.operation != "DELETE" && ${selects("object")}) || (request.operation != "CREATE" && ${selects("oldObject")})`,
      },
      {
        name: "unchanged",
        expression: `request.operation == "UPDATE" && object.spec == oldObject.spec && object.metadata.?ownerReferences.orValue([]) == oldObject.metadata.?ownerReferences.orValue([])`,
      },
    ],
    validations: [
      {
        expression:
          'request.operation == "DELETE" || (object.spec.?type.orValue("ClusterIP") == "ClusterIP" && !has(object.spec.externalIPs))',
        messageExpression: `"spec.type, spec.externalIPs: expected a ClusterIP Service without external IPs in the apps namespaces; found " + object.spec.?type.orValue("ClusterIP") + (has(object.spec.externalIPs) ? " with external IPs " + object.spec.externalIPs.join(", ") : "")`,
      },
      {
        // Re-pointed at a pod of one's own (or deleted and made again so), a platform Service would
        // hand it the platform's traffic: the API server's calls to the relaunch guard, queue-manager's requests.
        expression: `!variables.platform || variables.unchanged || ${byDeployer(args.deployers)} || request.userInfo.username in ${list(writers)} || (request.operation == "DELETE" && request.userInfo.username in ${list(cleaners)})`,
        messageExpression: `${lit(`spec: expected a Service of the platform's pods (${args.platformServiceAccounts.join(", ")}) to be written only by the deployers${writers.length ? " or Argo Rollouts' controller" : ""}; found `)} + (request.operation == "CREATE" ? "one created" : request.operation == "DELETE" ? "a deletion" : "a change") + " by " + request.userInfo.username`,
      },
    ],
  });
  return { policy, binding: denyBindingIn(name, labels, [...new Set(args.namespaces)].sort()) };
}
