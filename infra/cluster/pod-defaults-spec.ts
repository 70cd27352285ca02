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
 * check_allowPrivilegeEscalation.go and check_capabilities_restricted.go.
 *
 * In the namespace holding the Kafka CA copy, a container whose `CA_PATH` points under the CA's
 * mount path and that mounts nothing there gets the copy mounted read-only: queue-manager's
 * launcher passes its own `CA_PATH` to every Job and mounts nothing in them (STREAMFORGE.md; its
 * `job_launcher.py` sets env only), so without it a worker on a real cluster could not verify the
 * brokers. The CA is public: the workload guard does not restrict it. Needs Kubernetes 1.36
 * (MutatingAdmissionPolicy, admissionregistration.k8s.io/v1). Pure.
 */
import { denyBindingIn } from "../kit/admission-spec";
import { CA_MOUNT_PATH, type KafkaCaCopy } from "../kit/kafka-ca";

export interface PodDefaultsArgs {
  /** The namespaces whose pods get the defaults. */
  readonly namespaces: readonly string[];
  /** The user a pod runs as when it names none (a container naming its own keeps it). */
  readonly runAsUser: number;
  /** Names the cluster-scoped policy: one per stack. */
  readonly namePrefix: string;
  /** Where the Kafka CA copy is (infra/kafka/clients.ts `caCopy`): mounted for the containers whose `CA_PATH` needs it. */
  readonly kafkaCa?: KafkaCaCopy | undefined;
}

/** The volume the defaults add for the CA copy: a name of their own, never a pod's. */
export const INJECTED_CA_VOLUME = "streamforge-kafka-ca";

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
  const ca = args.kafkaCa ? caMount(args.kafkaCa) : undefined;
  const policy = {
    apiVersion: "admissionregistration.k8s.io/v1" as const,
    kind: "MutatingAdmissionPolicy" as const,
    metadata: { name, labels },
    spec: {
      ...(ca ? { variables: ca.variables } : {}),
      // A pod the defaults cannot be applied to is refused, not admitted without them.
      failurePolicy: "Fail",
      reinvocationPolicy: "IfNeeded",
      matchConstraints: {
        resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
      },
      mutations: [
        { patchType: "ApplyConfiguration", applyConfiguration: { expression: applied } },
        { patchType: "JSONPatch", jsonPatch: { expression: drops } },
        ...(ca ? [{ patchType: "ApplyConfiguration", applyConfiguration: { expression: ca.expression } }] : []),
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

/**
 * The CA copy's mount, as an apply configuration: volumes, containers and their volumeMounts are
 * lists keyed by name, name and mountPath (k8s.io/api core/v1 types.go `+listType=map`), so it
 * merges into the pod's own lists. Nothing where no container needs it, outside `namespace`, or
 * where the pod has a volume of the injected volume's name that is not the copy (it is never reused).
 * A container mounting anything at or under the CA's path keeps what it mounts.
 */
function caMount(ca: KafkaCaCopy) {
  const lit = (s: string) => JSON.stringify(s);
  const under = lit(`${CA_MOUNT_PATH}/`);
  const needs = (list: string) =>
    `request.namespace == ${lit(ca.namespace)} && variables.caVolumeFree ? object.spec.?${list}.orValue([]).filter(c, c.?env.orValue([]).exists(e, e.name == "CA_PATH" && e.?value.orValue("").startsWith(${under})) && !c.?volumeMounts.orValue([]).exists(m, m.mountPath == ${lit(CA_MOUNT_PATH)} || m.mountPath.startsWith(${under}))).map(c, c.name) : []`;
  const mounts = (list: string, variable: string) =>
    `?${list}: variables.${variable}.size() == 0 ? optional.none() : optional.of(variables.${variable}.map(n, Object.spec.${list}{name: n, volumeMounts: [Object.spec.${list}.volumeMounts{name: ${lit(INJECTED_CA_VOLUME)}, mountPath: ${lit(CA_MOUNT_PATH)}, readOnly: true}]}))`;
  const volume = `?volumes: object.spec.?volumes.orValue([]).exists(v, v.name == ${lit(INJECTED_CA_VOLUME)}) ? optional.none() : optional.of([Object.spec.volumes{name: ${lit(INJECTED_CA_VOLUME)}, secret: Object.spec.volumes.secret{secretName: ${lit(ca.secretName)}}}])`;
  return {
    variables: [
      {
        name: "caVolumeFree",
        expression: `!object.spec.?volumes.orValue([]).exists(v, v.name == ${lit(INJECTED_CA_VOLUME)} && v.?secret.?secretName.orValue("") != ${lit(ca.secretName)})`,
      },
      { name: "caContainers", expression: needs("containers") },
      { name: "caInitContainers", expression: needs("initContainers") },
    ],
    expression: `variables.caContainers.size() + variables.caInitContainers.size() == 0 ? Object{} : Object{spec: Object.spec{${volume}, ${mounts(
      "containers",
      "caContainers",
    )}, ${mounts("initContainers", "caInitContainers")}}}`,
  };
}
