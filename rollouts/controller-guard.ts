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
import { denyBindingIn, list, lit, paramDenyBinding, serviceAccountUser, validatingPolicy } from "../infra/kit/admission-spec";
import { QUEUE_MANAGER } from "./spec";

export interface ControllerGuardArgs {
  /** Namespace of the controller's ServiceAccount. */
  readonly controllerNamespace: string;
  /** The chart's ServiceAccount for the controller (the chart's fullname). */
  readonly controllerServiceAccount: string;
  /** Where the queue-manager Rollout lives. */
  readonly appsNamespace: string;
  /** queue-manager's Rollout: the only one whose ReplicaSets the controller may give a template. */
  readonly rolloutName: string;
  /** Names the cluster-scoped policies: one pair per stack. */
  readonly namePrefix: string;
}

/** The guard a stack declares for its controller's account: its apps namespace and queue-manager's Rollout. */
export function stackControllerGuard(controllerNamespace: string, serviceAccount: string, appsNamespace: string) {
  return controllerGuard({
    controllerNamespace,
    controllerServiceAccount: serviceAccount,
    appsNamespace,
    rolloutName: QUEUE_MANAGER,
    namePrefix: `streamforge-${appsNamespace}`,
  });
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
        // It updates pods only for ephemeral metadata (rollout/ephemeralmetadata.go: labels and
        // annotations), which this stack does not use: never a pod's spec (a worker's image swapped
        // would run with that worker's credentials).
        expression: `!(request.resource.group == "" && request.resource.resource == "pods" && request.operation == "UPDATE") || object.spec == oldObject.spec`,
        messageExpression: `${lit("expected the Argo Rollouts controller to change a pod's metadata only; found a change of the spec of ")} + request.name`,
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

  // What of each container of a pod spec `p` decides what runs and with what: name, image,
  // command, args, working directory, env (values, and the source of each valueFrom), envFrom,
  // mounts, and whether it has lifecycle hooks or exec probes (commands of their own). The fields
  // the API server defaults in a ReplicaSet's template (probe timings, ports' protocol, a secret
  // volume's defaultMode) are left out, so the controller's copy of the Rollout's template matches.
  const envShape =
    'c.?env.orValue([]).map(e, e.name + "=" + (has(e.value) ? e.value : !has(e.valueFrom) ? "" : has(e.valueFrom.secretKeyRef) ? "secret:" + e.valueFrom.secretKeyRef.name + "/" + e.valueFrom.secretKeyRef.key : has(e.valueFrom.configMapKeyRef) ? "configMap:" + e.valueFrom.configMapKeyRef.name + "/" + e.valueFrom.configMapKeyRef.key : has(e.valueFrom.fieldRef) ? "field:" + e.valueFrom.fieldRef.fieldPath : "other")).join(",")';
  const envFromShape =
    'c.?envFrom.orValue([]).map(e, e.?prefix.orValue("") + (has(e.secretRef) ? "secret:" + e.secretRef.name : has(e.configMapRef) ? "configMap:" + e.configMapRef.name : "other")).join(",")';
  const mountShape =
    'c.?volumeMounts.orValue([]).map(m, m.name + ":" + m.mountPath + ":" + m.?subPath.orValue("") + ":" + string(m.?readOnly.orValue(false))).join(",")';
  const commandsOfItsOwn =
    "string(has(c.lifecycle)) + string(c.?livenessProbe.?exec.hasValue()) + string(c.?readinessProbe.?exec.hasValue()) + string(c.?startupProbe.?exec.hasValue())";
  const shape = (p: string) =>
    `${p}.containers.map(c, [string(c.name), string(c.image), string(c.?command.orValue([]).join(" ")), string(c.?args.orValue([]).join(" ")), string(c.?workingDir.orValue("")), string(${envShape}), string(${envFromShape}), string(${mountShape}), string(${commandsOfItsOwn})])`;
  // Each volume's name and what it reads (defaults such as defaultMode left out).
  const volumes = (p: string) =>
    `${p}.?volumes.orValue([]).map(v, string(v.name) + "=" + (has(v.secret) ? "secret:" + v.secret.secretName : has(v.configMap) ? "configMap:" + v.configMap.name : has(v.emptyDir) ? "emptyDir" : has(v.persistentVolumeClaim) ? "pvc:" + v.persistentVolumeClaim.claimName : "other"))`;
  // The pod-level fields that pick the account, the node's namespaces or names' resolution.
  const podShape = (p: string) =>
    `[string(${p}.?serviceAccountName.orValue("default")), string(has(${p}.initContainers)), string(has(${p}.hostAliases)), string(${p}.?dnsPolicy.orValue("ClusterFirst")), string(${p}.?shareProcessNamespace.orValue(false))]`;
  const template = "object.spec.template.spec";
  const declared = "params.spec.template.spec";
  // The template's labels: the Rollout's, plus the hash Argo adds (rollout/sync.go createDesiredReplicaSet, L134-167).
  const labelsMatch =
    'object.spec.template.?metadata.?labels.orValue({}).all(k, k == "rollouts-pod-template-hash" || (k in params.spec.template.?metadata.?labels.orValue({}) && params.spec.template.metadata.labels[k] == object.spec.template.metadata.labels[k])) && params.spec.template.?metadata.?labels.orValue({}).all(k, k in object.spec.template.?metadata.?labels.orValue({}))';
  const replicaSets = validatingPolicy(names.replicaSets, labels, {
    failurePolicy: "Fail",
    paramKind: { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout" },
    matchConstraints: {
      resourceRules: [{ apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["replicasets"] }],
    },
    matchConditions: controller,
    variables: [
      { name: "containers", expression: shape(template) },
      { name: "declaredContainers", expression: shape(declared) },
      { name: "volumes", expression: volumes(template) },
      { name: "declaredVolumes", expression: volumes(declared) },
      { name: "pod", expression: podShape(template) },
      { name: "declaredPod", expression: podShape(declared) },
      { name: "labelsMatch", expression: labelsMatch },
    ],
    validations: [
      {
        expression: `(request.operation == "UPDATE" && object.spec.template == oldObject.spec.template) || (variables.containers == variables.declaredContainers && variables.volumes == variables.declaredVolumes && variables.pod == variables.declaredPod && variables.labelsMatch)`,
        messageExpression: `${lit(`spec.template: expected the pod template of the Rollout ${args.appsNamespace}/${args.rolloutName} (containers `)} + variables.declaredContainers.map(c, c.join(" ")).join(", ") + " as " + variables.declaredPod[0] + "); found " + variables.containers.map(c, c.join(" ")).join(", ") + " as " + variables.pod[0] + (variables.volumes == variables.declaredVolumes ? "" : ", volumes " + variables.volumes.join(" ")) + (variables.pod == variables.declaredPod ? "" : ", pod fields " + variables.pod.join(" ")) + (variables.labelsMatch ? "" : ", labels other than the Rollout's")`,
      },
      {
        // A ReplicaSet's own labels choose which Rollout adopts it (rollout/replicaset.go
        // getReplicaSetsForRollouts): Argo sets them to its template's (rollout/sync.go L156).
        expression: `object.metadata.?labels.orValue({}).all(k, k in object.spec.template.?metadata.?labels.orValue({}) && object.spec.template.metadata.labels[k] == object.metadata.labels[k])`,
        messageExpression: `${lit("metadata.labels: expected a ReplicaSet's labels to be its template's; found ")} + object.metadata.?labels.orValue({}).filter(k, !(k in object.spec.template.?metadata.?labels.orValue({}))).join(", ")`,
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
