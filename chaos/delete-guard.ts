/**
 * What the fault accounts may delete. pod-delete's Role holds `pods delete` in the apps and Kafka
 * namespaces (litmus-go 3.28.0 chaoslib/litmus/pod-delete/lib/pod-delete.go L121-123 deletes the
 * targets by name), and network latency's `pods deletecollection` in the chaos namespace
 * (pkg/utils/common/pods.go L48 L60 removes its helpers). RBAC cannot name pods that do not exist
 * yet, so either token could delete any pod there: queue-manager, the operator, Strimzi's
 * controllers, Litmus itself. A ValidatingAdmissionPolicy on their DELETE requests (a
 * deletecollection is admitted pod by pod, as each is deleted) admits only what the engines may
 * target, by the same patterns the engine guard holds (chaos/guard.ts):
 * - pod-delete: in the apps namespace a worker Job's pod (the name patterns of WORKER_TARGETS, and
 *   owned by that Job), in the Kafka namespace a broker pod of the tolerated pool;
 * - network latency: in the chaos namespace its own helper pods (the helper's command, HELPER_ARGS).
 * Pure: plain objects for the component.
 */
import { denyBindingIn, list, lit, serviceAccountUser, validatingPolicy } from "../infra/kit/admission-spec";
import { HELPER_ARGS } from "./pod-guard";
import { serviceAccountName } from "./spec";

export interface DeleteGuardArgs {
  /** Namespace of the fault accounts and the latency helpers. */
  readonly chaosNamespace: string;
  /** The apps namespace: the worker pods the faults may delete. */
  readonly appsNamespace: string;
  /** Where broker pods may be deleted; none without a broker scenario. */
  readonly kafkaNamespace?: string | undefined;
  /** RE2: worker pod names (chaos/guard.ts WORKER_POD_PATTERN). */
  readonly workerPodPattern: string;
  /** RE2: the tolerated broker pods (chaos/guard.ts brokerPodPattern). */
  readonly kafkaPodPattern: string;
  /** Names the cluster-scoped policy: one per stack. */
  readonly namePrefix: string;
}

export const deleteGuardName = (prefix: string): string => `${prefix}-chaos-delete-guard`;

export function chaosDeleteGuard(args: DeleteGuardArgs) {
  const { chaosNamespace: chaos, appsNamespace: apps, kafkaNamespace: kafka } = args;
  const name = deleteGuardName(args.namePrefix);
  const labels = { "app.kubernetes.io/part-of": "streamforge", "app.kubernetes.io/component": "chaos" };
  const podDelete = serviceAccountUser(chaos, serviceAccountName("pod-delete"));
  const latency = serviceAccountUser(chaos, serviceAccountName("pod-network-latency"));
  const ownedByItsJob =
    'oldObject.metadata.?ownerReferences.orValue([]).exists(o, o.kind == "Job" && o.?controller.orValue(false) && oldObject.metadata.name.startsWith(o.name + "-"))';
  const targets = [
    `(request.namespace == ${lit(apps)} && oldObject.metadata.name.matches(${lit(args.workerPodPattern)}) && ${ownedByItsJob})`,
    ...(kafka ? [`(request.namespace == ${lit(kafka)} && oldObject.metadata.name.matches(${lit(args.kafkaPodPattern)}))`] : []),
  ].join(" || ");
  const helper = `request.namespace == ${lit(chaos)} && oldObject.spec.containers.all(c, c.?args.orValue([]) == ${list(HELPER_ARGS)})`;
  const expected = [
    `pod-delete: a worker Job's pod in ${apps} (${args.workerPodPattern})`,
    ...(kafka ? [`a broker pod in ${kafka} (${args.kafkaPodPattern})`] : []),
    `network latency: its helper in ${chaos}`,
  ].join(", ");

  const policy = validatingPolicy(name, labels, {
    failurePolicy: "Fail",
    matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["DELETE"], resources: ["pods"] }] },
    matchConditions: [{ name: "fault-accounts-only", expression: `request.userInfo.username in ${list([podDelete, latency])}` }],
    validations: [
      {
        expression: `request.userInfo.username == ${lit(podDelete)} ? ${targets} : ${helper}`,
        messageExpression: `${lit(`pods: expected only what the faults target (${expected}); found `)} + request.namespace + "/" + oldObject.metadata.name + " deleted by " + request.userInfo.username`,
      },
    ],
  });
  return { policy, binding: denyBindingIn(name, labels, [...new Set([apps, chaos, ...(kafka ? [kafka] : [])])].sort()) };
}
