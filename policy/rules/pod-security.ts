/**
 * Pods meet the restricted Pod Security Standard, check by check as Kubernetes v1.34's own Pod
 * Security admission runs them (k8s.io/pod-security-admission v0.34.5, `policy/check_*.go`; each
 * check below cites its file and lines). Like admission, every check covers init, regular and
 * ephemeral containers (policy/visitor.go:27-37). On top of the standard, the pack asks for a
 * read-only root filesystem (not part of it).
 *
 * Not followed: the user-namespace relaxation of runAsNonRoot/runAsUser/procMount
 * (helpers.go:54-56, `hostUsers: false` behind a feature gate): the pack cannot see the gate.
 */
import {
  type ContainerAt,
  type PodSpecAt,
  type Subject,
  asArray,
  asRecord,
  asString,
  containersOf,
  defineRule,
  describe,
  describeContainer,
  get,
  isRecord,
  isWorkload,
  podSpecOf,
  shown,
} from "./common";

interface Pod {
  readonly subject: Subject;
  readonly pod: PodSpecAt;
  readonly containers: ContainerAt[];
  /** `Deployment stf/x (resource "y"): spec.template.spec` */
  readonly at: (field: string) => string;
  readonly windows: boolean;
}

type PodCheck = (p: Pod) => string[];

const sc = (c: ContainerAt) => c.container.securityContext;
const podSc = (p: Pod) => p.pod.spec.securityContext;
const inContainer = (p: Pod, c: ContainerAt, field: string) => `${describeContainer(p.subject, c)}: ${field}`;

// check_hostNamespaces.go:58-82 (baseline, so restricted too).
const hostNamespaces: PodCheck = (p) =>
  ["hostNetwork", "hostPID", "hostIPC"]
    .filter((f) => p.pod.spec[f] === true)
    .map((f) => `${p.at(f)}: expected false or unset (no host namespace); found true`);

// check_hostPorts.go:60-91: any non-zero hostPort.
const hostPorts: PodCheck = (p) =>
  p.containers.flatMap((c) =>
    asArray(c.container.ports).flatMap((port, i) => {
      const hostPort = get(port, "hostPort");
      return hostPort === undefined || hostPort === 0
        ? []
        : [`${inContainer(p, c, `ports[${i}].hostPort`)}: expected 0 or unset; found ${shown(hostPort)}`];
    }),
  );

// check_privileged.go:56-75.
const privileged: PodCheck = (p) =>
  p.containers
    .filter((c) => get(sc(c), "privileged") === true)
    .map((c) => `${inContainer(p, c, "securityContext.privileged")}: expected false or unset; found true`);

// check_capabilities_restricted.go:79-145 (overrides the baseline list): drop ALL, add nothing but
// NET_BIND_SERVICE; not checked on Windows pods (1_25 variant, lines 138-145).
const CAPABILITY_ALLOWED_TO_ADD = "NET_BIND_SERVICE";
const capabilities: PodCheck = (p) =>
  p.windows
    ? []
    : p.containers.flatMap((c) => {
        const out: string[] = [];
        const drop = get(sc(c), "capabilities", "drop");
        if (!asArray(drop).includes("ALL"))
          out.push(`${inContainer(p, c, "securityContext.capabilities.drop")}: expected ["ALL"]; found ${shown(drop)}`);
        const added = asArray(get(sc(c), "capabilities", "add")).filter((a) => a !== CAPABILITY_ALLOWED_TO_ADD);
        if (added.length > 0)
          out.push(
            `${inContainer(p, c, "securityContext.capabilities.add")}: expected nothing or only "${CAPABILITY_ALLOWED_TO_ADD}"; found ${shown(added)}`,
          );
        return out;
      });

// check_allowPrivilegeEscalation.go:64-93: explicitly false on every container, except Windows pods.
const allowPrivilegeEscalation: PodCheck = (p) =>
  p.windows
    ? []
    : p.containers.flatMap((c) => {
        const value = get(sc(c), "allowPrivilegeEscalation");
        return value === false
          ? []
          : [`${inContainer(p, c, "securityContext.allowPrivilegeEscalation")}: expected false; found ${shown(value)}`];
      });

// check_runAsNonRoot.go:61-133: a container's explicit value wins; false anywhere fails; unset on a
// container is fine only when the pod sets true.
const runAsNonRoot: PodCheck = (p) => {
  const out: string[] = [];
  const podValue = get(podSc(p), "runAsNonRoot");
  if (podValue === false) out.push(`${p.at("securityContext.runAsNonRoot")}: expected true or unset; found false`);
  for (const c of p.containers) {
    const value = get(sc(c), "runAsNonRoot");
    if (value === false) out.push(`${inContainer(p, c, "securityContext.runAsNonRoot")}: expected true or unset; found false`);
    else if (value === undefined && podValue !== true)
      out.push(
        `${inContainer(p, c, "securityContext.runAsNonRoot")}: expected true (on the container or ${p.pod.path}.securityContext); found none`,
      );
  }
  return out;
};

// check_runAsUser.go:62-104: no 0, on the pod or a container.
const runAsUser: PodCheck = (p) => [
  ...(get(podSc(p), "runAsUser") === 0 ? [`${p.at("securityContext.runAsUser")}: expected a non-zero user id; found 0 (root)`] : []),
  ...p.containers
    .filter((c) => get(sc(c), "runAsUser") === 0)
    .map((c) => `${inContainer(p, c, "securityContext.runAsUser")}: expected a non-zero user id; found 0 (root)`),
];

// check_seccompProfile_restricted.go:69-155: RuntimeDefault or Localhost (validSeccomp,
// check_seccompProfile_baseline.go:75-78) on the pod, or on every container the pod leaves unset;
// not checked on Windows pods.
const SECCOMP_TYPES = ["RuntimeDefault", "Localhost"];
const seccompProfile: PodCheck = (p) => {
  if (p.windows) return [];
  const out: string[] = [];
  const expected = `expected ${SECCOMP_TYPES.map((t) => `"${t}"`).join(" or ")}`;
  const podProfile = get(podSc(p), "seccompProfile");
  const podType = get(podProfile, "type");
  const podValid = isRecord(podProfile) && SECCOMP_TYPES.includes(String(podType));
  if (isRecord(podProfile) && !podValid) out.push(`${p.at("securityContext.seccompProfile.type")}: ${expected}; found ${shown(podType)}`);
  for (const c of p.containers) {
    const profile = get(sc(c), "seccompProfile");
    const type = get(profile, "type");
    if (isRecord(profile) ? !SECCOMP_TYPES.includes(String(type)) : !podValid)
      out.push(
        `${inContainer(p, c, "securityContext.seccompProfile.type")}: ${expected} (on the container or ${p.pod.path}.securityContext); found ${shown(type)}`,
      );
  }
  return out;
};

// check_restrictedVolumes.go:88-173: only these volume sources.
const ALLOWED_VOLUME_SOURCES = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "image",
  "persistentVolumeClaim",
  "projected",
  "secret",
];
const volumes: PodCheck = (p) =>
  asArray(p.pod.spec.volumes).flatMap((v, i) => {
    const volume = asRecord(v);
    const sources = Object.keys(volume).filter((k) => k !== "name");
    if (sources.some((s) => ALLOWED_VOLUME_SOURCES.includes(s))) return [];
    return [
      `${p.at(`volumes[${i}]`)} ("${asString(volume.name) ?? `#${i}`}"): expected one of ${ALLOWED_VOLUME_SOURCES.join(", ")}; found ${sources.join(", ") || "no source"}`,
    ];
  });

// check_procMount.go:63-102: Default or unset.
const procMount: PodCheck = (p) =>
  p.containers.flatMap((c) => {
    const value = get(sc(c), "procMount");
    return value === undefined || value === "Default"
      ? []
      : [`${inContainer(p, c, "securityContext.procMount")}: expected "Default" or unset; found ${shown(value)}`];
  });

// check_seLinuxOptions.go:79,90-172 (1.31+ types): type among these, no user, no role.
const SELINUX_TYPES = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];
function seLinuxProblems(where: string, options: unknown): string[] {
  if (!isRecord(options)) return [];
  const out: string[] = [];
  const type = options.type;
  if (type !== undefined && !(typeof type === "string" && SELINUX_TYPES.includes(type)))
    out.push(`${where}.type: expected unset or one of ${SELINUX_TYPES.filter(Boolean).join(", ")}; found ${shown(type)}`);
  for (const f of ["user", "role"])
    if (typeof options[f] === "string" && options[f] !== "") out.push(`${where}.${f}: expected unset; found ${shown(options[f])}`);
  return out;
}
const seLinuxOptions: PodCheck = (p) => [
  ...seLinuxProblems(p.at("securityContext.seLinuxOptions"), get(podSc(p), "seLinuxOptions")),
  ...p.containers.flatMap((c) => seLinuxProblems(inContainer(p, c, "securityContext.seLinuxOptions"), get(sc(c), "seLinuxOptions"))),
];

// check_sysctls.go:86-143 (the 1.32+ safe set).
const SAFE_SYSCTLS = [
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_rmem",
  "net.ipv4.tcp_wmem",
];
const sysctls: PodCheck = (p) =>
  asArray(get(podSc(p), "sysctls")).flatMap((s, i) => {
    const name = get(s, "name");
    return SAFE_SYSCTLS.includes(String(name))
      ? []
      : [`${p.at(`securityContext.sysctls[${i}].name`)}: expected a safe sysctl (${SAFE_SYSCTLS.join(", ")}); found ${shown(name)}`];
  });

// check_appArmorProfile.go:73-143 (the profile field; the pack renders no beta annotations).
const APPARMOR_TYPES = ["RuntimeDefault", "Localhost"];
const appArmorProfile: PodCheck = (p) => {
  const bad = (where: string, profile: unknown) =>
    isRecord(profile) && !APPARMOR_TYPES.includes(String(profile.type))
      ? [`${where}.type: expected unset, "RuntimeDefault" or "Localhost"; found ${shown(profile.type)}`]
      : [];
  return [
    ...bad(p.at("securityContext.appArmorProfile"), get(podSc(p), "appArmorProfile")),
    ...p.containers.flatMap((c) => bad(inContainer(p, c, "securityContext.appArmorProfile"), get(sc(c), "appArmorProfile"))),
  ];
};

// check_windowsHostProcess.go:59-102.
const windowsHostProcess: PodCheck = (p) => [
  ...(get(podSc(p), "windowsOptions", "hostProcess") === true
    ? [`${p.at("securityContext.windowsOptions.hostProcess")}: expected false or unset; found true`]
    : []),
  ...p.containers
    .filter((c) => get(sc(c), "windowsOptions", "hostProcess") === true)
    .map((c) => `${inContainer(p, c, "securityContext.windowsOptions.hostProcess")}: expected false or unset; found true`),
];

// check_hostProbesAndhostLifecycle.go:86-165: no `host` in probe or lifecycle httpGet/tcpSocket.
const HOST_FIELDS = [
  ["livenessProbe"],
  ["readinessProbe"],
  ["startupProbe"],
  ["lifecycle", "postStart"],
  ["lifecycle", "preStop"],
] as const;
const hostProbesAndLifecycle: PodCheck = (p) =>
  p.containers.flatMap((c) =>
    HOST_FIELDS.flatMap((path) =>
      ["httpGet", "tcpSocket"].flatMap((handler) => {
        const host = get(c.container, ...path, handler, "host");
        return host === undefined || host === ""
          ? []
          : [`${inContainer(p, c, `${path.join(".")}.${handler}.host`)}: expected unset (the pod's own IP); found ${shown(host)}`];
      }),
    ),
  );

// Not in the standard: the pack's own requirement, for the containers the program declares (not `kubectl debug`'s).
const readOnlyRootFilesystem: PodCheck = (p) =>
  p.containers
    .filter((c) => c.path.includes(".ephemeralContainers[") === false)
    .flatMap((c) => {
      const value = get(sc(c), "readOnlyRootFilesystem");
      return value === true
        ? []
        : [
            `${inContainer(p, c, "securityContext.readOnlyRootFilesystem")}: expected true (mount an emptyDir where it writes); found ${shown(value)}`,
          ];
    });

/** The checks in the order of the standard's table (baseline, then restricted), then the pack's own. */
export const POD_SECURITY_CHECKS: Readonly<Record<string, PodCheck>> = {
  hostNamespaces,
  privileged,
  capabilities,
  hostPorts,
  hostProbesAndLifecycle,
  appArmorProfile,
  seLinuxOptions,
  procMount,
  seccompProfile,
  sysctls,
  windowsHostProcess,
  volumes,
  allowPrivilegeEscalation,
  runAsNonRoot,
  runAsUser,
  readOnlyRootFilesystem,
};

export function podSecurityViolations(subject: Subject): string[] {
  const pod = podSpecOf(subject);
  if (!pod) return [];
  const p: Pod = {
    subject,
    pod,
    containers: containersOf(pod, { ephemeral: true }),
    at: (field) => `${describe(subject)}: ${pod.path}.${field}`,
    windows: get(pod.spec, "os", "name") === "windows",
  };
  return Object.values(POD_SECURITY_CHECKS).flatMap((check) => check(p));
}

export const podSecurity = defineRule({
  name: "pod-security-restricted",
  description:
    "Pods meet the restricted Pod Security Standard (as Kubernetes v1.34 admission checks it) and have a read-only root filesystem.",
  enforcementLevel: "mandatory",
  appliesTo: isWorkload,
  scope: "Kubernetes workloads with a pod template",
  check: podSecurityViolations,
});

export const podSecurityRules = [podSecurity];
