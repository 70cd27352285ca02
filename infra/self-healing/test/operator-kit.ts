/**
 * What the operator's admission itests share: its account with the Role the stack gives it, and
 * the relaunch its own code would make of a queue's Job (operator-guard.itest.ts, relaunch-guard.itest.ts).
 */
import type { JobManifest } from "../../../operator/src/core/jobs";
import { replacementQueueId } from "../../../operator/src/core/relaunch-review";
import type { PendingRelaunch } from "../../../operator/src/core/resume";
import { type OperatorSpec, jobsRole, roleBinding, serviceAccount } from "../manifests";

/** The operator's ServiceAccount, Role and RoleBinding, as the stack declares them (the builders read only the two namespaces). */
export function operatorRbac(operatorNamespace: string, watchNamespace: string): object[] {
  const spec = { namespace: operatorNamespace, watchNamespace } as OperatorSpec<unknown>;
  const role = jobsRole(spec);
  return [
    { apiVersion: "v1", kind: "ServiceAccount", ...serviceAccount(spec) },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", ...role },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", ...roleBinding(role, spec) },
  ];
}

/** The first relaunch the operator decides for `old`, as its controller records it (controller.ts relaunch). */
export const pendingFor = (old: JobManifest): PendingRelaunch => ({
  name: `${old.metadata.name}-r1`,
  reason: "stuck",
  detail: "no events for 300s",
  attempt: 1,
  history: [Date.now()],
  queueId: replacementQueueId(old),
});
