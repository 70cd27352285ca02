/**
 * A guard (admission-spec.ts shapes) as resources: the ValidatingAdmissionPolicy, then its binding,
 * which refuses only once the policy exists. Every area declares its guards through this.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

type PolicyArgs = ConstructorParameters<typeof k8s.admissionregistration.v1.ValidatingAdmissionPolicy>[1];
type BindingArgs = ConstructorParameters<typeof k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding>[1];

/**
 * Declares `guard` under `parent`, its resources named `policyName` and `bindingName` (the same
 * name by default); returns the binding, for what must wait until the guard is in force.
 */
export function declareGuard(
  parent: pulumi.Resource,
  guard: { readonly policy: PolicyArgs; readonly binding: BindingArgs },
  policyName: string,
  bindingName = policyName,
): k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding {
  const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(policyName, guard.policy, { parent });
  return new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(bindingName, guard.binding, { parent, dependsOn: [policy] });
}
