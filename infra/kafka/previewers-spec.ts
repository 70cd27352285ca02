/**
 * What a preview needs of the cluster, for the identity previews run as (`streamforge:apps.previewers`,
 * the pipeline's preview kubeconfig): `list` on the Kafka objects the program reads before it
 * declares anything (live.ts `LIVE_READS`), in their namespaces, and nothing else. No write, no
 * Secret, no exec: what a pull request's code can do with that identity is read those four kinds.
 *
 * Nothing more is needed because pulumi-kubernetes computes a preview's diff from the inputs and
 * the state, and when the server-side dry run of a create or an update is Forbidden it falls back
 * to that client-side result instead of failing (pulumi-kubernetes provider/pkg/provider/provider.go
 * L1646-1652 for Create, L2150-2155 for Update, at the module the pinned CLI runs, v4.0.0-20260115033456-f47bc2d6f199).
 * test/integration/preview-identity.itest.ts previews the local stack with exactly these Roles. Pure.
 */
import type { Identities } from "../cluster/platform-workloads-spec";
import { subjectsOf } from "../cluster/responders-spec";
import { STRIMZI_API_VERSION } from "./cluster-spec";
import { LIVE_READS } from "./data-safety";

/** The Role's (and its binding's) name in each namespace. */
export const PREVIEWER_ROLE = "streamforge-previewer";

/** One Role and RoleBinding per namespace the live read lists in; bound to nobody where no previewer is named. */
export function previewerRbac(where: { readonly kafkaNamespace: string; readonly usersNamespace: string }, previewers: Identities) {
  const [group] = STRIMZI_API_VERSION.split("/") as [string];
  const namespaceOf = { kafka: where.kafkaNamespace, users: where.usersNamespace };
  const byNamespace = new Map<string, string[]>();
  for (const { plural, namespace } of LIVE_READS) {
    const ns = namespaceOf[namespace];
    byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), plural]);
  }
  const labels = { "app.kubernetes.io/part-of": "streamforge", "app.kubernetes.io/component": "previewer" };
  return [...byNamespace].map(([namespace, resources]) => ({
    role: {
      apiVersion: "rbac.authorization.k8s.io/v1" as const,
      kind: "Role" as const,
      metadata: { name: PREVIEWER_ROLE, namespace, labels },
      rules: [{ apiGroups: [group], resources, verbs: ["list"] }],
    },
    binding: {
      apiVersion: "rbac.authorization.k8s.io/v1" as const,
      kind: "RoleBinding" as const,
      metadata: { name: PREVIEWER_ROLE, namespace, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role" as const, name: PREVIEWER_ROLE },
      subjects: subjectsOf(previewers),
    },
  }));
}
