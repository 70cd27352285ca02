/** Grants as the components declare them: a Role and its RoleBinding, in that order. */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/**
 * A Role and the RoleBinding that grants it, both named `resourceName` under `parent`: the binding
 * waits for the Role and for `after` (the subject's account), so nothing is bound to a Role or an
 * account that does not exist yet. Depend on the returned binding to act with the grant.
 */
export function grantRole(
  resourceName: string,
  grant: { readonly role: k8s.rbac.v1.RoleArgs; readonly binding: k8s.rbac.v1.RoleBindingArgs },
  parent: pulumi.Resource,
  after: readonly pulumi.Resource[] = [],
): { readonly role: k8s.rbac.v1.Role; readonly binding: k8s.rbac.v1.RoleBinding } {
  const role = new k8s.rbac.v1.Role(resourceName, grant.role, { parent });
  const binding = new k8s.rbac.v1.RoleBinding(resourceName, grant.binding, { parent, dependsOn: [role, ...after] });
  return { role, binding };
}
