/**
 * The Roles and ClusterRoles a stack declares grant no wildcard and no escalation path:
 * - `*` in `verbs`, `resources` (also `*` with a subresource) or `apiGroups`: it matches every verb,
 *   resource or group, including ones added later (kubernetes v1.34.5
 *   pkg/apis/rbac/v1/evaluation_helpers.go:26-78, VerbMatches, APIGroupMatches, ResourceMatches);
 * - `escalate` on roles lets a holder write a role with more than they hold, and `bind` lets them
 *   bind one (pkg/registry/rbac/escalation_check.go:55-99 RoleEscalationAuthorized, 101-146
 *   BindingAuthorized); `impersonate` acts as another user, group or service account; `create` on
 *   `serviceaccounts/token` mints a token of any service account in the namespace.
 * A rule may be exempt by the Pulumi resource name in the rule's `exceptions`, with a reason.
 * Helm releases install their charts' RBAC out of the engine's sight: the pack cannot check those.
 */
import { type Subject, asArray, asRecord, defineRule, describe, get, isKind, shown } from "./common";

const RBAC = "rbac.authorization.k8s.io";
const isRole = (type: string) => isKind(type, RBAC, "Role") || isKind(type, RBAC, "ClusterRole");

const ESCALATION_VERBS = ["escalate", "bind", "impersonate"];

export interface RbacConfig {
  /** Pulumi resource name -> why that role may hold a wildcard or an escalation verb. */
  readonly exceptions?: Readonly<Record<string, string>>;
}

export function rbacViolations(subject: Subject, config: RbacConfig = {}): string[] {
  const reason = config.exceptions?.[subject.name];
  if (typeof reason === "string" && reason.trim() !== "") return [];
  const where = describe(subject);
  return asArray(get(subject.props, "rules")).flatMap((r, i) => {
    const rule = asRecord(r);
    const at = `rules[${i}]`;
    const verbs = asArray(rule.verbs);
    const resources = asArray(rule.resources);
    const out: string[] = [];
    for (const field of ["verbs", "resources", "apiGroups"] as const) {
      const wild = asArray(rule[field]).filter((v) => v === "*" || (field === "resources" && typeof v === "string" && v.startsWith("*/")));
      if (wild.length > 0) out.push(`${where}: ${at}.${field}: expected named ${field}, no wildcard; found ${shown(wild)}`);
    }
    const escalating = verbs.filter((v) => typeof v === "string" && ESCALATION_VERBS.includes(v));
    if (escalating.length > 0)
      out.push(
        `${where}: ${at}.verbs: expected none of ${ESCALATION_VERBS.join(", ")} (they grant more than the role holds); found ${shown(escalating)}`,
      );
    if (verbs.includes("create") && resources.includes("serviceaccounts/token"))
      out.push(
        `${where}: ${at}: expected no "create" on "serviceaccounts/token" (it mints any service account's token); found ${shown(rule)}`,
      );
    return out;
  });
}

export const rbacLeastPrivilege = defineRule<RbacConfig>({
  name: "rbac-no-wildcards-or-escalation",
  description:
    "Roles and ClusterRoles grant no wildcard verbs, resources or API groups, and no escalate, bind, impersonate or token creation.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      exceptions: {
        type: "object",
        additionalProperties: { type: "string", minLength: 1 },
        description: "Pulumi resource name of a Role or ClusterRole -> the reason it may hold a wildcard or an escalation verb.",
      },
    },
  },
  appliesTo: isRole,
  scope: "Roles and ClusterRoles",
  check: (subject, { config }) => rbacViolations(subject, config),
});

export const rbacRules = [rbacLeastPrivilege];
