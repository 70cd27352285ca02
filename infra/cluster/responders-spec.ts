/**
 * What a person on call needs in the apps namespaces, and no more: the runbook's procedures
 * (docs/runbook.md) without the cluster's `edit`. `edit` reads every Secret there (each app's Kafka
 * password), execs into any pod and writes any workload; this Role reads the platform's state, and
 * writes only what the procedures write:
 * - the self-healing opt-out and budget annotations on a Job (`kubectl annotate job`; a Job's
 *   template is immutable, and the operator's guard checks the operator, not people);
 * - the operator's scale (`kubectl scale deployment`: the scale subresource);
 * - the canary's promote, abort and retry, as the `kubectl argo rollouts` plugin sends them
 *   (argo-rollouts v1.10.2 pkg/kubectl-argo-rollouts/cmd/abort/abort.go L65, promote/promote.go
 *   L119-130, retry/retry.go L89: merge patches of `rollouts/status`, and of the Rollout's
 *   `spec.paused` to unpause); the platform workloads guard (platform-workloads-spec.ts) keeps
 *   those patches to scale, pause and restart.
 * No Secrets, no pod creation, no exec, attach or port-forward: `undo` (a new template) and every
 * other change go through `pulumi up`. Pure.
 */
import type { Identities } from "./platform-workloads-spec";

/** The ClusterRole's name: cluster-scoped, so one per stack like the guards. */
export const responderRoleName = (prefix: string): string => `${prefix}-apps-responder`;

const READ = ["get", "list", "watch"];

/** The ClusterRole, bound per namespace (a RoleBinding), so it grants nothing cluster-wide. */
export function responderRole(name: string, labels: Readonly<Record<string, string>>) {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1" as const,
    kind: "ClusterRole" as const,
    metadata: { name, labels },
    rules: [
      // State: pods and their logs, events, Services, Endpoints, ConfigMaps; not Secrets.
      { apiGroups: [""], resources: ["pods", "pods/log", "events", "services", "endpoints", "configmaps", "serviceaccounts"], verbs: READ },
      { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: READ },
      { apiGroups: ["apps"], resources: ["deployments", "replicasets"], verbs: READ },
      { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["get", "patch", "update"] },
      { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: READ },
      { apiGroups: ["batch"], resources: ["jobs"], verbs: ["patch"] },
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: READ },
      { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: READ },
      { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: READ },
      { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: READ },
      { apiGroups: ["argoproj.io"], resources: ["rollouts", "analysisruns", "analysistemplates", "experiments"], verbs: READ },
      { apiGroups: ["argoproj.io"], resources: ["rollouts", "rollouts/status"], verbs: ["patch"] },
      // kubectl reads a subresource before it patches it (`kubectl patch --subresource=status`).
      { apiGroups: ["argoproj.io"], resources: ["rollouts/status"], verbs: ["get"] },
      { apiGroups: ["networking.istio.io"], resources: ["virtualservices", "destinationrules"], verbs: READ },
    ],
  };
}

/** Binds the ClusterRole to the responders in one namespace. */
export function responderBinding(name: string, labels: Readonly<Record<string, string>>, namespace: string, responders: Identities) {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1" as const,
    kind: "RoleBinding" as const,
    metadata: { name, namespace, labels },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
    subjects: subjectsOf(responders),
  };
}

/** RBAC subjects for users and groups as `kubectl auth whoami` names them. */
export const subjectsOf = (who: Identities) => [
  ...who.users.map((name) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "User", name })),
  ...who.groups.map((name) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name })),
];
