/**
 * What the Argo Rollouts controller may write with its token. The chart binds it cluster-wide
 * (argo-helm argo-rollouts-2.41.0 charts/argo-rollouts/templates/_helpers.tpl
 * `argo-rollouts.controller.roleRules`, L116-271): create and update ReplicaSets and Jobs, update
 * Deployments and pods, in every namespace. Its token would start a pod of any spec, as any
 * account, anywhere (a ReplicaSet in kube-system, a new image in Strimzi's Deployment). Its
 * namespaced mode would need it to run in the apps namespace and still read the Secrets there, so
 * it stays cluster-wide, and two ValidatingAdmissionPolicies hold its writes to what this stack's
 * canary needs:
 * - scope: writes only in the namespaces it serves (the apps namespace, its own for its Lease and
 *   events), and never to Deployments, pod templates, Jobs or Ingresses, which the chart grants for
 *   workloadRef, the Job metric provider and the ingress routers, none of them used here
 *   (rollouts/config.ts);
 * - ReplicaSets: only queue-manager's pod template, as the Rollout declares it (the binding's
 *   parameter is the Rollout): the same containers (name, image, command, args) and account;
 *   scaling an existing ReplicaSet leaves its pod spec as it was. Argo copies the Rollout's
 *   template into each ReplicaSet (argo-rollouts v1.10.2 rollout/replicaset.go
 *   `createDesiredReplicaSet`) and scales old ones by updating their replicas
 *   (rollout/replicaset.go `scaleReplicaSet`).
 * Pure: plain objects for the component.
 */
import { denyBindingIn, list, lit, paramDenyBinding, serviceAccountUser, validatingPolicy } from "../infra/cluster/admission-spec";

export interface ControllerGuardArgs {
  readonly controllerNamespace: string;
  /** The chart's ServiceAccount for the controller (the chart's fullname). */
  readonly controllerServiceAccount: string;
  /** Where the queue-manager Rollout lives. */
  readonly appsNamespace: string;
  readonly rolloutName: string;
  /** Names the cluster-scoped policies: one pair per stack. */
  readonly namePrefix: string;
}

/** What the chart grants and this stack's canary never needs the controller to write: [group, resource]. */
export const UNNEEDED_WRITES: readonly (readonly [string, string])[] = [
  ["apps", "deployments"],
  ["", "podtemplates"],
  ["batch", "jobs"],
  ["networking.k8s.io", "ingresses"],
  ["extensions", "ingresses"],
];

/** The Rollout's fields the controller never writes and its ReplicaSet check relies on. */
export const ROLLOUT_FIXED = ["template", "selector", "strategy", "workloadRef"] as const;

export const controllerGuardNames = (prefix: string) => ({
  scope: `${prefix}-argo-rollouts-scope`,
  replicaSets: `${prefix}-argo-rollouts-replicasets`,
});

export function controllerGuard(args: ControllerGuardArgs) {
  const names = controllerGuardNames(args.namePrefix);
  const labels = { "app.kubernetes.io/part-of": "streamforge", "app.kubernetes.io/component": "argo-rollouts-guard" };
  const controller = [
    {
      name: "argo-rollouts-only",
      expression: `request.userInfo.username == ${lit(serviceAccountUser(args.controllerNamespace, args.controllerServiceAccount))}`,
    },
  ];
  const served = [...new Set([args.appsNamespace, args.controllerNamespace])].sort();
  const what = `request.operation + " " + (request.resource.group == "" ? "" : request.resource.group + "/") + request.resource.resource + " " + request.name`;

  const scope = validatingPolicy(names.scope, labels, {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [{ apiGroups: ["*"], apiVersions: ["*"], operations: ["CREATE", "UPDATE", "DELETE", "CONNECT"], resources: ["*/*"] }],
    },
    matchConditions: controller,
    validations: [
      {
        expression: `request.namespace in ${list(served)}`,
        messageExpression: `${lit(`expected the Argo Rollouts controller to write only in the namespaces it serves (${served.join(", ")}); found `)} + ${what} + (request.namespace == "" ? " (cluster-scoped)" : " in " + request.namespace)`,
      },
      {
        // Its own namespace holds its Lease and events: a ReplicaSet or pod there would escape the
        // template check below.
        expression: `!(request.namespace == ${lit(args.controllerNamespace)} && request.resource.group in ["", "apps"] && request.resource.resource in ["replicasets", "pods"])`,
        messageExpression: `${lit(`expected no ReplicaSet or pod written by the Argo Rollouts controller in its own namespace (${args.controllerNamespace}); found `)} + ${what}`,
      },
      {
        // The ReplicaSet check's parameter is the Rollout: the controller writes its spec.replicas
        // default, annotations and status (argo-rollouts v1.10 rollout/controller.go, sync.go), never
        // the template, selector, strategy or workloadRef, which would let it choose what it checks against.
        expression: `!(request.resource.group == "argoproj.io" && request.resource.resource == "rollouts" && request.?subResource.orValue("") == "" && request.operation == "UPDATE") || ${ROLLOUT_FIXED.map(
          (f) =>
            `(has(object.spec.${f}) == has(oldObject.spec.${f}) && (!has(object.spec.${f}) || object.spec.${f} == oldObject.spec.${f}))`,
        ).join(" && ")}`,
        messageExpression: `${lit(`expected the Argo Rollouts controller to leave a Rollout's ${ROLLOUT_FIXED.join(", ")} as declared; found a change to `)} + request.name`,
      },
      {
        // It moves Services' selectors between ReplicaSets (rollout/service.go); an external IP or
        // a node port would intercept or expose traffic (CVE-2020-8554).
        expression: `!(request.resource.group == "" && request.resource.resource == "services" && request.operation in ["CREATE", "UPDATE"]) || (object.spec.?type.orValue("ClusterIP") == "ClusterIP" && !has(object.spec.externalIPs))`,
        messageExpression: `${lit("expected only ClusterIP Services without external IPs from the Argo Rollouts controller; found ")} + ${what}`,
      },
      {
        expression: `!(${UNNEEDED_WRITES.map(([g, r]) => `(request.resource.group == ${lit(g)} && request.resource.resource == ${lit(r)})`).join(" || ")})`,
        messageExpression: `${lit("expected no Deployment, pod template, Job or Ingress written by the Argo Rollouts controller (no workloadRef, Job metric or ingress router here); found ")} + ${what}`,
      },
    ],
  });

  // name, image, command and args of each container of a pod spec `p`.
  const shape = (p: string) =>
    `${p}.containers.map(c, [string(c.name), string(c.image), string(c.?command.orValue([]).join(" ")), string(c.?args.orValue([]).join(" "))])`;
  const template = "object.spec.template.spec";
  const declared = "params.spec.template.spec";
  const replicaSets = validatingPolicy(names.replicaSets, labels, {
    failurePolicy: "Fail",
    paramKind: { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout" },
    matchConstraints: {
      resourceRules: [{ apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["replicasets"] }],
    },
    matchConditions: controller,
    validations: [
      {
        expression: `(request.operation == "UPDATE" && ${template} == oldObject.spec.template.spec) || (${shape(template)} == ${shape(declared)} && !has(${template}.initContainers) == !has(${declared}.initContainers) && ${template}.?serviceAccountName.orValue("default") == ${declared}.?serviceAccountName.orValue("default"))`,
        messageExpression: `${lit(`spec.template.spec: expected the pod template of the Rollout ${args.appsNamespace}/${args.rolloutName} (containers `)} + ${shape(declared)}.map(c, c.join(" ")).join(", ") + " as " + ${declared}.?serviceAccountName.orValue("default") + "); found " + ${shape(template)}.map(c, c.join(" ")).join(", ") + " as " + ${template}.?serviceAccountName.orValue("default")`,
      },
    ],
  });
  return {
    scope: { policy: scope, binding: denyBindingIn(names.scope, labels, "all") },
    // No Rollout, no ReplicaSet from the controller's token.
    replicaSets: {
      policy: replicaSets,
      binding: paramDenyBinding(names.replicaSets, labels, args.appsNamespace, { name: args.rolloutName, namespace: args.appsNamespace }),
    },
  };
}
