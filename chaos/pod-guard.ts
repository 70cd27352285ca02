/**
 * What the fault accounts may create in the chaos namespace, where Pod Security is `privileged`
 * (the network-latency helper needs it). Their Roles hold `jobs create` (the chaos-runner starts
 * the experiment Job under the fault's account) and, for network latency, `pods create` (the
 * helper); without this guard either token could start a privileged pod with any image and get
 * root on a node. A ValidatingAdmissionPolicy on Jobs and Pods created with a fault account's
 * token admits only:
 * - the experiment Job, as chaos-runner builds it from the ChaosExperiment (chaos/spec.ts
 *   chaosExperiment: the runner image, `/bin/bash -c ./experiments -name <fault>`, the fault's
 *   own account), and nothing of the host;
 * - the network-latency helper, as litmus-go 3.28.0 builds it
 *   (chaoslib/litmus/network-chaos/lib/network-chaos.go L181-239: LIB_IMAGE,
 *   `/bin/bash -c ./helpers -name network-chaos`, privileged with hostPID, the runtime socket as its
 *   only hostPath, plus /var/run/netns for crio, L248-261), under its own account.
 * Pure: plain objects for the component.
 */
import {
  denyBinding,
  everyContainer,
  failingContainers,
  list,
  lit,
  priorityClassRule,
  serviceAccountUser,
  validatingPolicy,
} from "../infra/kit/admission-spec";
import { FAULTS, serviceAccountName } from "./spec";

export interface ChaosPodGuardArgs {
  /** Namespace of the fault accounts and the pods they may create. */
  readonly chaosNamespace: string;
  /** The go-runner image: the experiments' and the helper's (LIB_IMAGE). */
  readonly runnerImage: string;
  /** The runtime socket the helper mounts (SOCKET_PATH). */
  readonly socketPath: string;
  /** The nodes' container runtime, whose socket the latency helper mounts. */
  readonly containerRuntime: "containerd" | "crio";
  /** The PriorityClasses its pods may carry (infra/kit/admission-spec.ts priorityClassRule). */
  readonly priorityClasses: readonly string[];
  /** Names the cluster-scoped policy: one per stack. */
  readonly namePrefix: string;
}

/** CEL: the securityContext `sc` (an optional) runs no root and keeps seccomp and AppArmor on. */
export const noRoot = (sc: string): string =>
  `${sc}.?runAsUser.orValue(1) != 0 && ${sc}.?seccompProfile.?type.orValue("") != "Unconfined" && ${sc}.?appArmorProfile.?type.orValue("") != "Unconfined"`;

/**
 * CEL over a volume `v`: the API server's token volume, which admission adds to every pod, as it
 * adds it (kubernetes plugin/pkg/admission/serviceaccount/admission.go `TokenVolumeSource`: the
 * account's token, the `kube-root-ca.crt` ConfigMap, the namespace by the downward API). A projected
 * volume of that name with a Secret or another ConfigMap in it is not one.
 */
export const API_TOKEN_VOLUME =
  'has(v.projected) && v.name.startsWith("kube-api-access-") && v.projected.?sources.orValue([]).all(s, (has(s.serviceAccountToken) && !has(s.serviceAccountToken.audience)) || (has(s.configMap) && s.configMap.name == "kube-root-ca.crt") || (has(s.downwardAPI) && s.downwardAPI.?items.orValue([]).all(i, i.?fieldRef.?fieldPath.orValue("") == "metadata.namespace")))';

/** The helper's command (network-chaos.go L213-219). */
export const HELPER_ARGS = ["-c", "./helpers -name network-chaos"] as const;

/**
 * The helper's env as litmus-go 3.28.0 sets it (network-chaos.go `getPodEnv` L271-294), each value
 * in the form it takes there. The helper runs in a privileged, hostPID container and puts several
 * of them into `bash -c` lines (helper/netem.go L193-298: `tc qdisc replace dev <NETWORK_INTERFACE>
 * root <NETEM_COMMAND>`, the ports and IPs in `tc filter` lines): a `;` in any of them runs on the
 * node. NETEM_COMMAND is what latency.go L21-24 builds.
 */
export const helperEnv = (chaosNamespace: string, socketPath: string): Readonly<Record<string, string>> => ({
  TARGETS: "^[a-z0-9.:;_-]+$",
  TOTAL_CHAOS_DURATION: "^[0-9]+$",
  CHAOS_NAMESPACE: `^${chaosNamespace}$`,
  CHAOSENGINE: "^[a-z0-9.-]+$",
  CHAOS_UID: "^[a-f0-9-]+$",
  CONTAINER_RUNTIME: "^(containerd|crio|docker)$",
  NETEM_COMMAND: "^netem delay [0-9]+ms [0-9]+ms( [0-9]+)?$",
  NETWORK_INTERFACE: "^[A-Za-z0-9]+$",
  EXPERIMENT_NAME: "^pod-network-latency$",
  SOCKET_PATH: `^${socketPath.replace(/[.]/g, "\\.")}$`,
  INSTANCE_ID: "^[A-Za-z0-9._-]*$",
  DESTINATION_IPS: "^[0-9a-fA-F.:/,|]*$",
  DESTINATION_IPS_SERVICE_MESH: "^[0-9a-fA-F.:/,|]*$",
  SOURCE_PORTS: "^[0-9,]*$",
  DESTINATION_PORTS: "^[0-9,]*$",
  OTEL_EXPORTER_OTLP_ENDPOINT: "^[A-Za-z0-9.:/_-]*$",
  TRACE_PARENT: '^[A-Za-z0-9{}":,._-]*$',
});

export function chaosPodGuard(args: ChaosPodGuardArgs) {
  const { chaosNamespace: ns } = args;
  const name = `${args.namePrefix}-chaos-pod-guard`;
  const labels = { "app.kubernetes.io/part-of": "streamforge", "app.kubernetes.io/component": "chaos" };
  const users = FAULTS.map((f) => serviceAccountUser(ns, serviceAccountName(f)));
  const hostPaths = [args.socketPath, ...(args.containerRuntime === "crio" ? ["/var/run/netns"] : [])];
  const isJob = 'request.kind.kind == "Job"';
  const where = `(${isJob} ? "spec.template.spec." : "spec.")`;
  // The fault whose token this is: `system:serviceaccount:<ns>:chaos-<fault>`.
  const fault = `request.userInfo.username.substring(${`system:serviceaccount:${ns}:chaos-`.length})`;
  const expectedArgs = `${isJob} ? ["-c", "./experiments -name " + variables.fault] : ${list(HELPER_ARGS)}`;

  const patterns = `{${Object.entries(helperEnv(ns, args.socketPath))
    .map(([k, v]) => `${lit(k)}: ${lit(v)}`)
    .join(", ")}}`;
  const envOk = `(e.name == "POD_NAME" && !has(e.value) && e.?valueFrom.?fieldRef.?fieldPath.orValue("") == "metadata.name") || (e.name in ${patterns} && !has(e.valueFrom) && e.?value.orValue("").matches(${patterns}[e.name]))`;
  // The API server's own token volume (kube-api-access-*) is added to every pod by admission.
  const volumeOk = `(has(v.hostPath) && v.hostPath.path in ${list(hostPaths)}) || (${API_TOKEN_VOLUME})`;
  const helperConfined = `variables.pod.containers.all(c, c.?env.orValue([]).all(e, ${envOk})) && variables.pod.?volumes.orValue([]).all(v, ${volumeOk})`;
  const jobConfined = `${noRoot("variables.pod.?securityContext")} && ${everyContainer(
    `${noRoot("c.?securityContext")} && c.?securityContext.?capabilities.?add.orValue([]).size() == 0`,
  )} && variables.pod.?volumes.orValue([]).all(v, has(v.configMap) || has(v.secret))`;

  const policy = validatingPolicy(name, labels, {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [
        { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] },
        { apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"] },
      ],
    },
    // Only the fault accounts' requests: the Job controller makes the experiment's pods from a
    // template checked here, and Litmus' own operator and people are not these accounts.
    matchConditions: [{ name: "fault-accounts-only", expression: `request.userInfo.username in ${list(users)}` }],
    variables: [
      { name: "pod", expression: `${isJob} ? object.spec.template.spec : object.spec` },
      { name: "fault", expression: fault },
      { name: "account", expression: 'variables.pod.?serviceAccountName.orValue(variables.pod.?serviceAccount.orValue("default"))' },
    ],
    validations: [
      {
        expression: `${list(FAULTS)}.exists(f, f == variables.fault) && (${isJob} || variables.fault == "pod-network-latency")`,
        messageExpression: `"kind: expected the experiment Job, or the network-latency helper pod; found a " + request.kind.kind + " made by " + request.userInfo.username`,
      },
      {
        expression:
          'variables.account == "chaos-" + variables.fault && variables.pod.?serviceAccount.orValue(variables.account) == variables.account',
        messageExpression: `${where} + "serviceAccountName: expected chaos-" + variables.fault + ", the fault's own; found " + variables.account`,
      },
      {
        expression: `!has(variables.pod.initContainers) && !has(variables.pod.ephemeralContainers) && size(variables.pod.containers) == 1 && ${everyContainer(
          `c.?image.orValue("") == ${lit(args.runnerImage)} && c.?command.orValue([]) == ["/bin/bash"] && c.?args.orValue([]) == (${expectedArgs})`,
        )}`,
        messageExpression: `${where} + ${lit(`containers: expected one container, ${args.runnerImage} running /bin/bash `)} + (${expectedArgs}).join(" ") + "; found " + variables.pod.containers.map(c, c.?image.orValue("") + " " + (c.?command.orValue([]) + c.?args.orValue([])).join(" ")).join(", ") + (has(variables.pod.initContainers) || has(variables.pod.ephemeralContainers) ? " and init or ephemeral containers" : "")`,
      },
      {
        // The experiment Job needs nothing of the host; the helper, only the runtime's socket.
        expression: `!variables.pod.?hostNetwork.orValue(false) && !variables.pod.?hostIPC.orValue(false) && (${isJob} ? !variables.pod.?hostPID.orValue(false) && variables.pod.?volumes.orValue([]).all(v, !has(v.hostPath)) && ${everyContainer(
          "!c.?securityContext.?privileged.orValue(false) && !c.?securityContext.?allowPrivilegeEscalation.orValue(false)",
        )} : variables.pod.?volumes.orValue([]).all(v, !has(v.hostPath) || v.hostPath.path in ${list(hostPaths)}))`,
        messageExpression: `${where} + ${lit(`hostNetwork, hostIPC, hostPID, volumes[].hostPath, securityContext: expected nothing of the host in the experiment Job, and only ${hostPaths.join(", ")} mounted in the helper; found `)} + ([variables.pod.?hostNetwork.orValue(false) ? "hostNetwork" : "", variables.pod.?hostIPC.orValue(false) ? "hostIPC" : "", ${isJob} && variables.pod.?hostPID.orValue(false) ? "hostPID" : ""] + variables.pod.?volumes.orValue([]).filter(v, has(v.hostPath)).map(v, "hostPath " + v.hostPath.path) + (${isJob} ? variables.pod.containers.filter(c, c.?securityContext.?privileged.orValue(false) || c.?securityContext.?allowPrivilegeEscalation.orValue(false)).map(c, "privileged or escalating " + c.name) : [])).filter(s, s != "").join(", ")`,
      },
      // litmus-go's Job and helper name no class (chaos-runner pkg/utils/builders.go, network-chaos.go L181-239).
      priorityClassRule("variables.pod", where, args.priorityClasses, "streamforge:chaos.priorityClasses"),
      {
        // Code of the caller's choice: a working directory (`./experiments`, `./helpers` are
        // relative) or env from a source the guard does not read.
        expression: `${everyContainer("!has(c.workingDir) && !has(c.envFrom)")}`,
        messageExpression: `${where} + ${lit("containers[].workingDir, envFrom: expected neither (chaos-runner and litmus-go set none); found them in ")} + ${failingContainers("!has(c.workingDir) && !has(c.envFrom)")}`,
      },
      {
        // The experiment Job as chaos-runner builds it: the experiment's securityContext
        // (chaos/spec.ts EXPERIMENT_SECURITY_CONTEXT) and its ConfigMap and Secret volumes only.
        expression: `!(${isJob}) || (${jobConfined})`,
        messageExpression: `${where} + ${lit("securityContext, volumes: expected no root, no added capabilities, no Unconfined seccomp or AppArmor profile, and only configMap and secret volumes in the experiment Job")}`,
      },
      {
        // The helper as network-chaos.go builds it: its env names and value forms, the runtime socket only.
        expression: `${isJob} || (${helperConfined})`,
        messageExpression: `"spec.containers[0].env, spec.volumes: expected the helper's env as litmus-go builds it (names ${Object.keys(
          helperEnv(ns, args.socketPath),
        ).join(
          ", ",
        )}, POD_NAME from metadata.name) and only the runtime socket and the API token mounted; found " + (variables.pod.containers[0].?env.orValue([]).filter(e, !(${envOk})).map(e, "env " + e.name) + variables.pod.?volumes.orValue([]).filter(v, !(${volumeOk})).map(v, "volume " + v.name)).join(", ")`,
      },
    ],
  });
  return { policy, binding: denyBinding(name, labels, ns) };
}
