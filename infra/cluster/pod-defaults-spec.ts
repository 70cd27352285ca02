/**
 * The restricted Pod Security defaults of the apps namespaces: a MutatingAdmissionPolicy that
 * fills in, on every pod created there, what the restricted standard asks for and the pod left
 * unset, so that queue-manager's Jobs (../shared/STREAMFORGE.md: they set no securityContext) run
 * as non-root and the namespaces can enforce `restricted`:
 * - the pod: runAsNonRoot true, a non-root runAsUser (images run under an assigned user, as
 *   OpenShift's restricted SCC does: an image whose user is root or a name would otherwise be
 *   refused by the kubelet, which cannot verify a named user), seccomp RuntimeDefault;
 * - each container and init container: allowPrivilegeEscalation false, capabilities drop ALL.
 * What a pod sets itself is kept, so a pod asking for root is still refused (Pod Security and the
 * workload guard, workload-guard-spec.ts). The rules are k8s.io/pod-security-admission
 * policy/check_runAsNonRoot.go, check_seccompProfile_restricted.go,
 * check_allowPrivilegeEscalation.go and check_capabilities_restricted.go. Needs Kubernetes 1.36
 * (MutatingAdmissionPolicy, admissionregistration.k8s.io/v1). Pure.
 */
import { denyBindingIn } from "../kit/admission-spec";

export interface PodDefaultsArgs {
  /** The namespaces whose pods get the defaults. */
  readonly namespaces: readonly string[];
  /** The user a pod runs as when it names none (a container naming its own keeps it). */
  readonly runAsUser: number;
  /** Names the cluster-scoped policy: one per stack. */
  readonly namePrefix: string;
}

export const podDefaultsName = (prefix: string): string => `${prefix}-apps-pod-defaults`;

/** The two container lists created with a pod (ephemeral containers come later, through their subresource). */
const LISTS = ["containers", "initContainers"] as const;

export function podDefaults(args: PodDefaultsArgs) {
  if (!Number.isInteger(args.runAsUser) || args.runAsUser <= 0)
    throw new Error(`runAsUser: expected a positive integer (a non-root user); found ${args.runAsUser}`);
  const name = podDefaultsName(args.namePrefix);
  const labels = { "app.kubernetes.io/part-of": "streamforge", "app.kubernetes.io/component": "apps-pod-defaults" };
  const sc = "object.spec.?securityContext";
  // A container's own securityContext, its unset fields filled in (an apply configuration merges
  // field by field; `capabilities.drop` is an atomic list, so it is patched below).
  const containers = (list: string) =>
    `object.spec.${list}.map(c, Object.spec.${list}{name: c.name, securityContext: Object.spec.${list}.securityContext{allowPrivilegeEscalation: c.?securityContext.?allowPrivilegeEscalation.orValue(false), capabilities: Object.spec.${list}.securityContext.capabilities{}}})`;
  const podContext = [
    `runAsNonRoot: ${sc}.?runAsNonRoot.orValue(true)`,
    // A container naming its own user overrides this one.
    `runAsUser: ${sc}.?runAsUser.orValue(${args.runAsUser})`,
    `seccompProfile: Object.spec.securityContext.seccompProfile{type: ${sc}.?seccompProfile.?type.orValue("RuntimeDefault")}`,
  ].join(", ");
  const applied = `Object{spec: Object.spec{securityContext: Object.spec.securityContext{${podContext}}, containers: ${containers(
    "containers",
  )}, ?initContainers: has(object.spec.initContainers) ? optional.of(${containers("initContainers")}) : optional.none()}}`;
  // ALL added to each container's drop list, where it is not there yet.
  const drops = LISTS.map(
    (list) =>
      `object.spec.?${list}.orValue([]).filter(c, !c.?securityContext.?capabilities.?drop.orValue([]).exists(d, d == "ALL")).map(c, has(c.securityContext.capabilities.drop) ? JSONPatch{op: "add", path: "/spec/${list}/" + string(object.spec.${list}.indexOf(c)) + "/securityContext/capabilities/drop/-", value: "ALL"} : JSONPatch{op: "add", path: "/spec/${list}/" + string(object.spec.${list}.indexOf(c)) + "/securityContext/capabilities/drop", value: ["ALL"]})`,
  ).join(" + ");
  const policy = {
    apiVersion: "admissionregistration.k8s.io/v1" as const,
    kind: "MutatingAdmissionPolicy" as const,
    metadata: { name, labels },
    spec: {
      // A pod the defaults cannot be applied to is refused, not admitted without them.
      failurePolicy: "Fail",
      reinvocationPolicy: "IfNeeded",
      matchConstraints: {
        resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
      },
      mutations: [
        { patchType: "ApplyConfiguration", applyConfiguration: { expression: applied } },
        { patchType: "JSONPatch", jsonPatch: { expression: drops } },
      ],
    },
  };
  const { spec } = denyBindingIn(name, labels, [...new Set(args.namespaces)].sort());
  const binding = {
    apiVersion: "admissionregistration.k8s.io/v1" as const,
    kind: "MutatingAdmissionPolicyBinding" as const,
    metadata: { name, labels },
    spec: { policyName: name, matchResources: spec.matchResources },
  };
  return { policy, binding };
}
