/**
 * The apps namespaces' workload guard and the platform pods' session guard (workload-guard-spec.ts),
 * their restricted pod defaults (pod-defaults-spec.ts), and the accounts workers run as: one
 * ServiceAccount per worker service that owns credentials, none of them mounting an API token, and
 * the namespaces' `default` accounts patched to mount none either.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { declareGuard } from "../kit/admission";
import { defaultAccountWithoutToken } from "../kit/namespaces";
import type { KafkaCaCopy } from "../kit/kafka-ca";
import { podDefaults } from "./pod-defaults-spec";
import { type Deployers, type Identities, platformTokenGuard, platformWorkloadsGuard, serviceGuard } from "./platform-workloads-spec";
import { responderBinding, responderRole, responderRoleName } from "./responders-spec";
import { type WorkloadGuardArgs, platformPodAccessGuard, tokenSecretGuard, workloadGuard } from "./workload-guard-spec";

export interface AppsWorkloadGuardArgs extends WorkloadGuardArgs {
  /** Namespace of the apps' credentials, where the worker accounts are created. */
  readonly appsNamespace: string;
  /** The user a pod in the guarded namespaces runs as when it names none (pod-defaults-spec.ts). */
  readonly defaultRunAsUser: number;
  /** The Kafka CA copy, where the stack keeps one: mounted for the Jobs whose `CA_PATH` needs it (pod-defaults-spec.ts). */
  readonly kafkaCa?: KafkaCaCopy | undefined;
  /** The identities that run `pulumi up`: the only writers of the platform's Deployments and Rollouts. */
  readonly deployers: Deployers;
  /** Argo Rollouts' controller's user, where the stack runs the canary: it makes queue-manager's ReplicaSets. */
  readonly rolloutsController?: string | undefined;
  /** The people on call, bound to the responder Role in each guarded namespace (none: bound to nobody). */
  readonly responders: Identities;
  /**
   * Namespaces only the platform's own workloads run in (the relaunch guard's), where nobody should
   * be bound: no long-lived token and no session into a platform pod there either, should someone be.
   */
  readonly platformNamespaces: readonly string[];
}

export class AppsWorkloadGuard extends pulumi.ComponentResource {
  readonly policyName: pulumi.Output<string>;

  constructor(name: string, args: AppsWorkloadGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:platform:AppsWorkloadGuard", name, {}, opts);
    const child = { parent: this };
    const guard = workloadGuard(args);
    const labels = guard.policy.metadata.labels;
    const binding = declareGuard(this, guard, `${name}-policy`, `${name}-binding`);
    // The restricted defaults, so the namespaces can enforce restricted on pods that set nothing.
    const defaults = podDefaults({
      namespaces: args.namespaces,
      runAsUser: args.defaultRunAsUser,
      namePrefix: args.namePrefix,
      kafkaCa: args.kafkaCa,
    });
    const defaultsPolicy = new k8s.admissionregistration.v1.MutatingAdmissionPolicy(`${name}-defaults-policy`, defaults.policy, child);
    new k8s.admissionregistration.v1.MutatingAdmissionPolicyBinding(`${name}-defaults-binding`, defaults.binding, {
      parent: this,
      dependsOn: [defaultsPolicy],
    });
    // No sessions into the platform's pods, no long-lived tokens of their accounts, no Service out
    // of the cluster, no platform template in a workload its deployers or controllers did not write.
    const everywhere = { ...args, namespaces: [...args.namespaces, ...args.platformNamespaces] };
    const extras = {
      access: platformPodAccessGuard(everywhere),
      tokens: tokenSecretGuard(everywhere),
      services: serviceGuard(args),
      workloads: platformWorkloadsGuard(args),
      platformTokens: platformTokenGuard(args),
    };
    for (const [part, extra] of Object.entries(extras)) declareGuard(this, extra, `${name}-${part}-policy`, `${name}-${part}-binding`);
    // The runbook's procedures without `edit`: no Secrets, no exec, no workloads of one's own.
    const responder = responderRoleName(args.namePrefix);
    new k8s.rbac.v1.ClusterRole(`${name}-responder`, responderRole(responder, labels), child);
    if (args.responders.users.length + args.responders.groups.length > 0)
      for (const ns of [...new Set(args.namespaces)].sort())
        new k8s.rbac.v1.RoleBinding(`${name}-responder-${ns}`, responderBinding(responder, labels, ns, args.responders), child);
    for (const account of args.workerServiceAccounts.filter((a) => a !== "default"))
      new k8s.core.v1.ServiceAccount(
        `${name}-sa-${account}`,
        { metadata: { name: account, namespace: args.appsNamespace, labels }, automountServiceAccountToken: false },
        child,
      );
    for (const ns of [...new Set(args.namespaces)].sort()) defaultAccountWithoutToken(`${name}-default-${ns}`, ns, child);
    this.policyName = binding.spec.policyName;
    this.registerOutputs({ policyName: this.policyName });
  }
}
