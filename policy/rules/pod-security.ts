/**
 * Pods run as the restricted Pod Security Standard asks: not as root, with a read-only root
 * filesystem, every Linux capability dropped, no privilege escalation and nothing privileged.
 * `runAsNonRoot` may be set on the pod or on every container; a `runAsUser` of 0 anywhere fails.
 */
import { type Subject, asArray, containersOf, defineRule, describe, describeContainer, get, isWorkload, podSpecOf, shown } from "./common";

export function podSecurityViolations(subject: Subject): string[] {
  const pod = podSpecOf(subject);
  if (!pod) return [];
  const out: string[] = [];
  const podContext = pod.spec.securityContext;
  const podNonRoot = get(podContext, "runAsNonRoot");
  const podUser = get(podContext, "runAsUser");
  if (podUser === 0) out.push(`${describe(subject)}: ${pod.path}.securityContext.runAsUser: expected a non-zero user id; found 0 (root)`);
  for (const c of containersOf(pod)) {
    const where = describeContainer(subject, c);
    const sc = c.container.securityContext;
    const nonRoot = get(sc, "runAsNonRoot") ?? podNonRoot;
    if (nonRoot !== true)
      out.push(
        `${where}: securityContext.runAsNonRoot: expected true (on the container or ${pod.path}.securityContext); found ${shown(nonRoot)}`,
      );
    if (get(sc, "runAsUser") === 0) out.push(`${where}: securityContext.runAsUser: expected a non-zero user id; found 0 (root)`);
    const readOnly = get(sc, "readOnlyRootFilesystem");
    if (readOnly !== true)
      out.push(
        `${where}: securityContext.readOnlyRootFilesystem: expected true (mount an emptyDir where it writes); found ${shown(readOnly)}`,
      );
    const drop = asArray(get(sc, "capabilities", "drop"));
    if (!drop.includes("ALL"))
      out.push(`${where}: securityContext.capabilities.drop: expected ["ALL"]; found ${shown(get(sc, "capabilities", "drop"))}`);
    const escalation = get(sc, "allowPrivilegeEscalation");
    if (escalation !== false) out.push(`${where}: securityContext.allowPrivilegeEscalation: expected false; found ${shown(escalation)}`);
    if (get(sc, "privileged") === true) out.push(`${where}: securityContext.privileged: expected false or unset; found true`);
  }
  return out;
}

export const podSecurity = defineRule({
  name: "pod-security-restricted",
  description: "Pods run non-root, with a read-only root filesystem, all capabilities dropped and no privilege escalation.",
  enforcementLevel: "mandatory",
  appliesTo: isWorkload,
  scope: "Kubernetes workloads with a pod template",
  check: podSecurityViolations,
});

export const podSecurityRules = [podSecurity];
