/**
 * The apps namespaces' workload guard and the platform pods' session guard (workload-guard-spec.ts),
 * and the accounts workers run as: one ServiceAccount per worker service that owns credentials, none of them mounting an API
 * token, and the namespaces' `default` accounts patched to mount none either.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { type WorkloadGuardArgs, platformPodAccessGuard, workloadGuard } from "./workload-guard-spec";

export interface AppsWorkloadGuardArgs extends WorkloadGuardArgs {
  /** Namespace of the apps' credentials, where the worker accounts are created. */
  readonly appsNamespace: string;
}

export class AppsWorkloadGuard extends pulumi.ComponentResource {
  readonly policyName: pulumi.Output<string>;

  constructor(name: string, args: AppsWorkloadGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:platform:AppsWorkloadGuard", name, {}, opts);
    const child = { parent: this };
    const guard = workloadGuard(args);
    const labels = guard.policy.metadata.labels;
    const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(`${name}-policy`, guard.policy, child);
    new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(`${name}-binding`, guard.binding, {
      parent: this,
      dependsOn: [policy],
    });
    const access = platformPodAccessGuard(args);
    const accessPolicy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(`${name}-access-policy`, access.policy, child);
    new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(`${name}-access-binding`, access.binding, {
      parent: this,
      dependsOn: [accessPolicy],
    });
    for (const account of args.workerServiceAccounts.filter((a) => a !== "default"))
      new k8s.core.v1.ServiceAccount(
        `${name}-sa-${account}`,
        { metadata: { name: account, namespace: args.appsNamespace, labels }, automountServiceAccountToken: false },
        child,
      );
    // Server-side apply of one field: the namespace's own default account keeps everything else.
    for (const ns of [...new Set(args.namespaces)].sort())
      new k8s.core.v1.ServiceAccountPatch(
        `${name}-default-${ns}`,
        {
          metadata: { name: "default", namespace: ns, annotations: { "pulumi.com/patchForce": "true" } },
          automountServiceAccountToken: false,
        },
        child,
      );
    this.policyName = policy.metadata.name;
    this.registerOutputs({ policyName: this.policyName });
  }
}
