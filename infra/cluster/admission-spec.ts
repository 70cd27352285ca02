/**
 * The admission guards' shapes, as plain data: a ValidatingAdmissionPolicy and the binding that
 * enforces it in one namespace. Every area that guards its objects with CEL (chaos/guard.ts,
 * infra/self-healing/guard.ts) builds its policy and binding through these. Pure.
 */
import { namespaceSelector } from "./network-spec";

/** A ValidatingAdmissionPolicy named `name`; `spec` (its rules) is the caller's. */
export function validatingPolicy<S extends object>(name: string, labels: Readonly<Record<string, string>>, spec: S) {
  return {
    apiVersion: "admissionregistration.k8s.io/v1" as const,
    kind: "ValidatingAdmissionPolicy" as const,
    metadata: { name, labels },
    spec,
  };
}

/** Binds the policy of the same name so that it refuses (Deny) what breaks it, in `namespace` only. */
export function denyBinding(name: string, labels: Readonly<Record<string, string>>, namespace: string) {
  return {
    apiVersion: "admissionregistration.k8s.io/v1" as const,
    kind: "ValidatingAdmissionPolicyBinding" as const,
    metadata: { name, labels },
    spec: {
      policyName: name,
      validationActions: ["Deny"],
      matchResources: { namespaceSelector: namespaceSelector(namespace) },
    },
  };
}
