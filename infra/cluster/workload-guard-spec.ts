/**
 * The apps namespaces' workload guard: a ValidatingAdmissionPolicy on the Pods (created, updated,
 * given debug containers), Jobs and CronJobs of the namespaces that hold the apps' Kafka
 * credentials, for every requester (queue-manager, the self-healing operator, a person with `edit`,
 * Pulumi). Each app's credentials Secret is used only by pods of its own ServiceAccount; Jobs run
 * only as the workers' accounts (never as queue-manager's or the operator's, whose tokens carry
 * their Roles); no pod runs as root, privileged, on the host's namespaces, paths or ports, on a
 * named node, tolerating every taint or with a token projected for another audience; a platform
 * pod, once running, changes only by its ReplicaSet (no new image, debug container or platform
 * label by anyone else), and nobody opens a session into it. Pod Security (the namespace's level)
 * stays the baseline under it; this guard holds what Pod Security does not: who may use which
 * credentials, account and node. Pure: plain objects for the component to declare.
 */
import {
  ACCOUNT_VARIABLES,
  CONTAINER_LISTS,
  denyBindingIn,
  everyContainer,
  failingContainers,
  list,
  lit,
  priorityClassRule,
  validatingPolicy,
} from "../kit/admission-spec";

export interface WorkloadGuardArgs {
  /** The namespaces guarded: where the apps' credentials and the Jobs the operator relaunches live. */
  readonly namespaces: readonly string[];
  /** ServiceAccount -> the Kafka credentials Secrets its pods may reference (its own). */
  readonly credentials: Readonly<Record<string, readonly string[]>>;
  /** Accounts Jobs, CronJobs and bare Pods may run as: the workers' (and "default"). */
  readonly workerServiceAccounts: readonly string[];
  /**
   * Accounts whose tokens carry a Role (queue-manager, the operator): only pods a ReplicaSet made
   * (their Deployment or Rollout, declared by the stack) may run as them.
   */
  readonly platformServiceAccounts: readonly string[];
  /**
   * queue-manager's account: its launcher names no ServiceAccount (../shared/STREAMFORGE.md, how
   * Jobs are launched), so its token launches Jobs as `default` only, never with a worker's
   * account and so that worker's credentials.
   */
  readonly launcherServiceAccount: string;
  /** The PriorityClasses a pod may carry (kit/admission-spec.ts priorityClassRule); none: only pods without one. */
  readonly priorityClasses: readonly string[];
  /** The RuntimeClasses a pod may name; none: only the nodes' default runtime. */
  readonly runtimeClasses: readonly string[];
  /** The CSI drivers whose inline volumes a pod may mount; none: no inline CSI volume. */
  readonly csiDrivers: readonly string[];
  /** The PersistentVolumeClaims a pod may mount by name; none: no claim volume. */
  readonly volumeClaims: readonly string[];
  /** Names the cluster-scoped policy: one per stack. */
  readonly namePrefix: string;
}

/**
 * Who creates a ReplicaSet's pods: the ReplicaSet controller under its own account
 * (kube-controller-manager --use-service-account-credentials, as kubeadm and managed clusters run
 * it), or the controller manager's own identity where it shares one.
 */
export const REPLICASET_CONTROLLER_USERS = ["system:serviceaccount:kube-system:replicaset-controller", "system:kube-controller-manager"];

/**
 * Taints that keep a node for the cluster itself: the control plane's (kubeadm, k3s, RKE2), etcd
 * nodes' (RKE2's `node-role.kubernetes.io/etcd:NoExecute`), and CriticalAddonsOnly, which k3s,
 * RKE2 and AKS put on nodes kept for system pods (kubeadm's CoreDNS tolerates it:
 * kubernetes v1.37.2 cmd/kubeadm/app/phases/addons/dns/manifests.go).
 */
const RESERVED_NODE_TAINTS = [
  "node-role.kubernetes.io/control-plane",
  "node-role.kubernetes.io/master",
  "node-role.kubernetes.io/etcd",
  "CriticalAddonsOnly",
];

/** The resources a node offers every pod (core/v1 ResourceName); any other is a device's (extended resources). */
const NODE_RESOURCES = ["cpu", "memory", "ephemeral-storage"];

/** The node label that names one node (set by the kubelet on every node). */
const HOSTNAME_LABEL = "kubernetes.io/hostname";

/**
 * The volume types the restricted Pod Security standard allows (k8s.io/pod-security-admission
 * policy/check_restrictedVolumes.go): the others (flexVolume, cephfs, rbd, iscsi, azureFile...) can
 * name Secrets in fields this guard does not follow, or reach the node.
 */
export const VOLUME_TYPES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

/** Capabilities a container may add: the restricted Pod Security standard's one. */
const ADDABLE_CAPABILITIES = ["NET_BIND_SERVICE"];

/**
 * What marks a pod as one of the platform's (NetworkPolicies, Services and PodMonitors select by
 * them): its app.kubernetes.io/name when that is a platform account's, and its Rollout hash. CEL
 * over the labels map `labels`; ["", ""] for a worker.
 */
export const platformMarks = (platform: readonly string[]) => (labels: string) =>
  `[${labels}[?"app.kubernetes.io/name"].orValue("") in ${list(platform)} ? string(${labels}["app.kubernetes.io/name"]) : "", "rollouts-pod-template-hash" in ${labels} ? "rollouts-pod-template-hash=" + string(${labels}["rollouts-pod-template-hash"]) : ""]`;

/** The labels of every policy and binding of the apps guard. */
export const APPS_GUARD_LABELS = {
  "app.kubernetes.io/part-of": "streamforge",
  "app.kubernetes.io/component": "apps-workload-guard",
} as const;

export const workloadGuardName = (prefix: string): string => `${prefix}-apps-workload-guard`;

export function workloadGuard(args: WorkloadGuardArgs) {
  const { credentials, workerServiceAccounts: workers, platformServiceAccounts: platform } = args;
  if (workers.length === 0) throw new Error("workerServiceAccounts: expected at least one ServiceAccount; found none");
  const overlap = workers.filter((w) => platform.includes(w));
  if (overlap.length > 0)
    throw new Error(
      `workerServiceAccounts: expected none of the platform's accounts (${platform.join(", ")}); found ${overlap.join(", ")}`,
    );
  const owners = new Map<string, string>();
  for (const [account, secrets] of Object.entries(credentials))
    for (const secret of secrets) {
      const known = owners.get(secret);
      if (known !== undefined && known !== account)
        throw new Error(`credentials: expected one owner per Secret; found ${secret} owned by ${known} and ${account}`);
      owners.set(secret, account);
    }

  const name = workloadGuardName(args.namePrefix);
  const labels = APPS_GUARD_LABELS;
  const guarded = list([...owners.keys()].sort());
  const ownerOf = `{${[...owners].map(([secret, account]) => `${lit(secret)}: ${lit(account)}`).join(", ")}}`;
  const isPod = 'request.kind.kind == "Pod"';
  const marks = platformMarks(platform);
  const UNCHANGED = "variables.unchanged";
  const where = `${lit("spec.")} + (${isPod} ? "" : request.kind.kind == "Job" ? "template.spec." : "jobTemplate.spec.template.spec.")`;
  const priority = priorityClassRule("variables.pod", where, args.priorityClasses, "streamforge:apps.priorityClasses");

  const securityContextOk = (sc: string) => `${sc}.?runAsUser.orValue(1) != 0 && ${sc}.?runAsNonRoot.orValue(true)`;
  const rootless = securityContextOk("c.?securityContext");
  const privileged = "!c.?securityContext.?privileged.orValue(false)";
  const escalation = "!c.?securityContext.?allowPrivilegeEscalation.orValue(false)";
  const capabilities = `c.?securityContext.?capabilities.?add.orValue([]).all(a, a in ${list(ADDABLE_CAPABILITIES)})`;
  const hostPorts = "c.?ports.orValue([]).all(p, p.?hostPort.orValue(0) == 0)";
  const deviceFree = `[c.?resources.?limits.orValue({}), c.?resources.?requests.orValue({})].all(r, r.all(k, k in ${list(NODE_RESOURCES)} || k.startsWith("hugepages-")))`;
  const hostNamespaces = ["hostNetwork", "hostPID", "hostIPC"];
  // Every Secret a pod names: volumes, projected sources, env, envFrom, pull secrets. Names hold
  // no commas (DNS subdomains), so each part is joined and the whole split into one flat list.
  const envSecrets = (l: string) =>
    `variables.pod.?${l}.orValue([]).map(c, c.?env.orValue([]).filter(e, has(e.valueFrom) && has(e.valueFrom.secretKeyRef)).map(e, e.valueFrom.secretKeyRef.name).join(",") + "," + c.?envFrom.orValue([]).filter(e, has(e.secretRef)).map(e, e.secretRef.name).join(",")).join(",")`;
  const secretParts = [
    'variables.pod.?volumes.orValue([]).filter(v, has(v.secret)).map(v, v.secret.?secretName.orValue("")).join(",")',
    'variables.pod.?volumes.orValue([]).filter(v, has(v.projected)).map(v, v.projected.?sources.orValue([]).filter(s, has(s.secret)).map(s, s.secret.?name.orValue("")).join(",")).join(",")',
    ...CONTAINER_LISTS.map(envSecrets),
    'variables.pod.?imagePullSecrets.orValue([]).map(s, s.?name.orValue("")).join(",")',
    'variables.pod.?volumes.orValue([]).filter(v, has(v.csi) && has(v.csi.nodePublishSecretRef)).map(v, v.csi.nodePublishSecretRef.?name.orValue("")).join(",")',
  ];
  const tokenSources =
    'variables.pod.?volumes.orValue([]).filter(v, has(v.projected)).map(v, v.projected.?sources.orValue([]).filter(s, has(s.serviceAccountToken)).map(s, v.name + ":" + s.serviceAccountToken.?audience.orValue("")).join(",")).join(",").split(",").filter(s, s != "")';

  const policy = validatingPolicy(name, labels, {
    // A rule that cannot be evaluated refuses the request rather than letting it through.
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [
        // A pod's spec is immutable but for images, tolerations and its ephemeral containers (their
        // own subresource): updates are checked too, so no image, label or debug container is
        // swapped into a pod after it was admitted.
        { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods", "pods/ephemeralcontainers"] },
        { apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["jobs", "cronjobs"] },
      ],
    },
    variables: [
      {
        name: "pod",
        expression: `${isPod} ? object.spec : request.kind.kind == "Job" ? object.spec.template.spec : object.spec.jobTemplate.spec.template.spec`,
      },
      ...ACCOUNT_VARIABLES,
      // Pods of the stack's Deployments and Rollouts, made by the ReplicaSet controller.
      { name: "fromReplicaSet", expression: `${isPod} && request.userInfo.username in ${list(REPLICASET_CONTROLLER_USERS)}` },
      // An update of a pod's metadata only (labels, finalizers, owners: the Job and garbage
      // collectors remove theirs): its spec, as admitted at creation, is unchanged.
      { name: "podUpdate", expression: `${isPod} && request.operation == "UPDATE"` },
      {
        name: "specUnchanged",
        expression: 'variables.podUpdate && request.?subResource.orValue("") == "" && object.spec == oldObject.spec',
      },
      { name: "debugging", expression: 'request.?subResource.orValue("") == "ephemeralcontainers"' },
      {
        // What was admitted stays admitted: an update that leaves the pod spec (or the Job's
        // template) as it was is checked for platform labels only, so the Job controller and the
        // garbage collector can still remove their finalizers after the guard's config changed.
        name: "unchanged",
        expression: `variables.specUnchanged || (!(${isPod}) && request.operation == "UPDATE" && (request.kind.kind == "Job" ? object.spec.template == oldObject.spec.template : object.spec.jobTemplate == oldObject.spec.jobTemplate))`,
      },
      { name: "secrets", expression: `(${secretParts.join(' + "," + ')}).split(",").filter(s, s != "")` },
      {
        // Another account's credentials: the Secret is guarded and this pod's account does not own it.
        name: "foreignCredentials",
        expression: `variables.secrets.filter(s, s in ${guarded} && variables.accounts.exists(a, a != ${ownerOf}[s]))`,
      },
      { name: "tokens", expression: tokenSources },
      {
        name: "podLabels",
        expression: `${isPod} ? object.metadata.?labels.orValue({}) : request.kind.kind == "Job" ? object.spec.template.?metadata.?labels.orValue({}) : object.spec.jobTemplate.spec.template.?metadata.?labels.orValue({})`,
      },
      { name: "marks", expression: marks("variables.podLabels") },
      {
        name: "nodeChoices",
        // Only what picks a node (In): NotIn, Exists and DoesNotExist avoid one. A required pod
        // affinity per host lands the pod beside pods of its choice, on their node.
        expression: `(${lit(HOSTNAME_LABEL)} in variables.pod.?nodeSelector.orValue({}) ? [${lit(`nodeSelector ${HOSTNAME_LABEL}`)}] : []) + (variables.pod.?affinity.?nodeAffinity.?requiredDuringSchedulingIgnoredDuringExecution.?nodeSelectorTerms.orValue([]).exists(t, t.?matchExpressions.orValue([]).exists(e, e.key == ${lit(HOSTNAME_LABEL)} && e.operator == "In") || t.?matchFields.orValue([]).exists(f, f.key == "metadata.name" && f.operator == "In")) ? ["nodeAffinity on named nodes"] : []) + (variables.pod.?affinity.?podAffinity.?requiredDuringSchedulingIgnoredDuringExecution.orValue([]).exists(t, t.topologyKey == ${lit(HOSTNAME_LABEL)}) ? ["podAffinity per host"] : [])`,
      },
      {
        name: "reservedTolerations",
        expression: `variables.pod.?tolerations.orValue([]).map(t, t.?key.orValue("")).filter(k, k == "" || k in ${list(RESERVED_NODE_TAINTS)})`,
      },
    ],
    validations: [
      {
        expression: `${UNCHANGED} || (size(variables.foreignCredentials) == 0)`,
        messageExpression: `${where} + ${lit("*: expected only the Kafka credentials of the pod's own ServiceAccount; found ")} + variables.foreignCredentials.map(s, s + " (owned by " + ${ownerOf}[s] + ")").join(", ") + " in a pod running as " + variables.accounts.join(", ")`,
      },
      {
        // A platform pod holds its account's token: a new image or a debug container would hold it too.
        expression: `!variables.podUpdate || variables.specUnchanged || variables.fromReplicaSet || variables.accounts.all(a, a in ${list(workers)})`,
        messageExpression: `(variables.debugging ? "spec.ephemeralContainers" : "spec") + ${lit(`: expected a pod of the platform's accounts (${platform.join(", ")}) to change only by its ReplicaSet; found `)} + (variables.debugging ? "a debug container" : "a change of its spec") + " by " + request.userInfo.username`,
      },
      {
        expression: `${UNCHANGED} || (variables.accounts.all(a, a in ${list(workers)}) || ((variables.fromReplicaSet || variables.podUpdate) && variables.accounts.all(a, a in ${list(platform)})))`,
        messageExpression: `${where} + ${lit(`serviceAccountName: expected a worker's ServiceAccount (${workers.join(", ")}); found `)} + variables.accounts.join(", ")`,
      },
      {
        expression: `${UNCHANGED} || (request.userInfo.username != "system:serviceaccount:" + request.namespace + ${lit(`:${args.launcherServiceAccount}`)} || variables.accounts == ["default"])`,
        messageExpression: `${where} + ${lit(`serviceAccountName: expected default in a Job ${args.launcherServiceAccount} launches (its launcher names no account); found `)} + variables.accounts.join(", ")`,
      },
      {
        // The platform's pods are selected by name (NetworkPolicies, Services, PodMonitors): a worker
        // labelled as one would get its egress and its traffic. Their label values are their accounts' names.
        expression: `variables.fromReplicaSet || variables.marks == ["", ""] || (variables.podUpdate && variables.marks == ${marks("oldObject.metadata.?labels.orValue({})")})`,
        messageExpression: `(${isPod} ? "metadata" : request.kind.kind == "Job" ? "spec.template.metadata" : "spec.jobTemplate.spec.template.metadata") + ${lit(`.labels: expected no app.kubernetes.io/name of the platform's (${platform.join(", ")}) and no rollouts-pod-template-hash outside their ReplicaSets; found `)} + [variables.podLabels[?"app.kubernetes.io/name"].orValue(""), "rollouts-pod-template-hash" in variables.podLabels ? "rollouts-pod-template-hash" : ""].filter(l, l != "").join(", ")`,
      },
      {
        // Worker pods get no API token: a projected token or an explicit automount only where a platform account runs.
        expression: `${UNCHANGED} || (!(variables.accounts.all(a, a in ${list(workers)})) || (size(variables.tokens) == 0 && !variables.pod.?automountServiceAccountToken.orValue(false)))`,
        messageExpression: `${where} + ${lit("automountServiceAccountToken, volumes[].projected.sources[].serviceAccountToken: expected no API token in a worker's pod; found ")} + ([variables.pod.?automountServiceAccountToken.orValue(false) ? "automountServiceAccountToken: true" : ""] + variables.tokens.map(t, "token " + t)).filter(s, s != "").join(", ")`,
      },
      {
        // The API server's own token (the kube-api-access volume) has no audience: any other is a token for elsewhere.
        expression: `${UNCHANGED} || (variables.tokens.all(t, t.endsWith(":")))`,
        messageExpression: `${where} + ${lit("volumes[].projected.sources[].serviceAccountToken.audience: expected none (the API server's); found ")} + variables.tokens.filter(t, !t.endsWith(":")).join(", ")`,
      },
      {
        expression: `${UNCHANGED} || (${securityContextOk("variables.pod.?securityContext")} && ${everyContainer(rootless)})`,
        messageExpression: `${where} + ${lit("securityContext.runAsUser, runAsNonRoot: expected a non-root user (runAsUser not 0, runAsNonRoot not false); found root in ")} + (${securityContextOk("variables.pod.?securityContext")} ? "" : "the pod ") + ${failingContainers(rootless)}`,
      },
      {
        expression: `${UNCHANGED} || (${everyContainer(`${privileged} && ${escalation}`)})`,
        messageExpression: `${where} + ${lit("*containers[].securityContext.privileged, allowPrivilegeEscalation: expected false or unset; found true in ")} + ${failingContainers(`${privileged} && ${escalation}`)}`,
      },
      {
        expression: `${UNCHANGED} || (${everyContainer(capabilities)})`,
        messageExpression: `${where} + ${lit(`*containers[].securityContext.capabilities.add: expected at most ${ADDABLE_CAPABILITIES.join(", ")}; found `)} + ${failingContainers(capabilities, ' + " " + c.securityContext.capabilities.add.join(",")')}`,
      },
      {
        expression: `${UNCHANGED} || (${hostNamespaces.map((h) => `!variables.pod.?${h}.orValue(false)`).join(" && ")} && variables.pod.?volumes.orValue([]).all(v, !has(v.hostPath)) && ${everyContainer(hostPorts)})`,
        messageExpression: `${where} + ${lit("hostNetwork, hostPID, hostIPC, volumes[].hostPath, *containers[].ports[].hostPort: expected none of the host's; found ")} + ([${hostNamespaces
          .map((h) => `variables.pod.?${h}.orValue(false) ? ${lit(h)} : ""`)
          .join(
            ", ",
          )}] + variables.pod.?volumes.orValue([]).filter(v, has(v.hostPath)).map(v, "hostPath " + v.name) + [${lit("")} + ${failingContainers(hostPorts)}]).filter(s, s != "").join(", ")`,
      },
      {
        expression: `${UNCHANGED} || (variables.pod.?volumes.orValue([]).all(v, ${list(VOLUME_TYPES)}.exists(t, t in dyn(v))))`,
        messageExpression: `${where} + ${lit(`volumes[]: expected only ${VOLUME_TYPES.join(", ")} volumes; found `)} + variables.pod.?volumes.orValue([]).filter(v, !${list(VOLUME_TYPES)}.exists(t, t in dyn(v))).map(v, v.name).join(", ")`,
      },
      {
        // An inline CSI volume reads whatever its driver serves (a secrets store's SecretProviderClass names any path it may read).
        expression: `${UNCHANGED} || variables.pod.?volumes.orValue([]).all(v, !has(v.csi) || v.csi.driver in ${list(args.csiDrivers)})`,
        messageExpression: `${where} + ${lit(`volumes[].csi.driver: expected ${args.csiDrivers.length ? `one of ${args.csiDrivers.join(", ")}` : "no inline CSI volume"} (streamforge:apps.csiDrivers); found `)} + variables.pod.?volumes.orValue([]).filter(v, has(v.csi) && !(v.csi.driver in ${list(args.csiDrivers)})).map(v, v.name + " (" + v.csi.driver + ")").join(", ")`,
      },
      {
        // A claim holds what its workload wrote: any pod of the namespace could mount another's by name.
        // A generic ephemeral volume (its own claim, made for the pod) stays allowed.
        expression: `${UNCHANGED} || variables.pod.?volumes.orValue([]).all(v, !has(v.persistentVolumeClaim) || v.persistentVolumeClaim.claimName in ${list(args.volumeClaims)})`,
        messageExpression: `${where} + ${lit(`volumes[].persistentVolumeClaim.claimName: expected ${args.volumeClaims.length ? `one of ${args.volumeClaims.join(", ")}` : "no claim volume"} (streamforge:apps.volumeClaims); found `)} + variables.pod.?volumes.orValue([]).filter(v, has(v.persistentVolumeClaim) && !(v.persistentVolumeClaim.claimName in ${list(args.volumeClaims)})).map(v, v.name + " (" + v.persistentVolumeClaim.claimName + ")").join(", ")`,
      },
      {
        expression: `${UNCHANGED} || (${priority.expression})`,
        messageExpression: priority.messageExpression,
      },
      {
        // A runtime handler is the node's (k3s pre-installs RuntimeClasses for the runtimes it
        // detects, nvidia's among them: k3s-io/k3s#8700, fixed by #8751), and so are devices,
        // whether a DRA claim allocates them or a container asks for an extended resource (a
        // device plugin's, or a DRA device class's with no claim in the pod, KEP-5004): a worker
        // needs none of them.
        expression: `${UNCHANGED} || (variables.pod.?runtimeClassName.orValue("") in ${list(["", ...args.runtimeClasses])} && !has(variables.pod.resourceClaims) && ${everyContainer(deviceFree)})`,
        messageExpression: `${where} + ${lit(`runtimeClassName, resourceClaims, *containers[].resources: expected ${args.runtimeClasses.length ? `none or one of ${args.runtimeClasses.join(", ")}` : "no runtime class"} (streamforge:apps.runtimeClasses), no device claims and no resources beyond ${NODE_RESOURCES.join(", ")}, hugepages-*; found `)} + [string(variables.pod.?runtimeClassName.orValue("")), has(variables.pod.resourceClaims) ? "resourceClaims " + variables.pod.resourceClaims.map(c, c.name).join(", ") : "", ${failingContainers(deviceFree)}].filter(s, s != "").join(", ")`,
      },
      {
        // The scheduler places pods (a binding, not a pod create), so a created pod naming a node
        // chose it itself; once bound, nodeName is set and immutable, so updates carry it. A
        // hostname selector or a required affinity to one node (the DaemonSet controller's
        // metadata.name term) chooses it as surely, also when an update adds it to a pod that
        // still waits on a scheduling gate (KEP-3838): those are checked on updates too.
        expression: `${UNCHANGED} || ((variables.podUpdate || !has(variables.pod.nodeName)) && size(variables.nodeChoices) == 0 && size(variables.reservedTolerations) == 0)`,
        messageExpression: `${where} + ${lit(`nodeName, nodeSelector, affinity, tolerations: expected no node named (nodeName, ${HOSTNAME_LABEL}, metadata.name, a pod affinity per host) and no toleration of every taint or of the nodes kept for the cluster (${RESERVED_NODE_TAINTS.join(", ")}); found `)} + ([!variables.podUpdate && has(variables.pod.nodeName) ? "nodeName " + variables.pod.nodeName : ""] + variables.nodeChoices + variables.reservedTolerations.map(t, "toleration of " + (t == "" ? "every taint" : t))).filter(s, s != "").join(", ")`,
      },
    ],
  });

  return {
    policy,
    binding: denyBindingIn(name, labels, [...new Set(args.namespaces)].sort()),
  };
}

/** The catalogue's users as the guard needs them: each credentials Secret (named after its user) and the account that owns it. */
export interface CredentialUser {
  readonly name: string;
  readonly service: string;
}

export interface WorkloadAccountsArgs {
  /** The catalogue's users, planned: whose credentials Secret each service's account may reference. */
  readonly users: readonly CredentialUser[];
  /**
   * The operator's ServiceAccount and Kafka user, where the stack runs the operator; and its relaunch
   * guard's account and Secrets, reserved here although the guard runs in a namespace of its own: a
   * stack that moves it from here keeps its old objects until the update ends, and nothing here may
   * wear its name, labels or Secrets meanwhile, or ever.
   */
  readonly operator?:
    | {
        readonly serviceAccount: string;
        readonly kafkaUser: string;
        readonly pullSecrets: readonly string[];
        readonly relaunchGuard: { readonly serviceAccount: string; readonly secrets: readonly string[] };
      }
    | undefined;
  /** queue-manager's ServiceAccount and Kafka user. */
  readonly queueManager: { readonly serviceAccount: string; readonly kafkaUser: string };
}

/**
 * Who owns which credentials, and which accounts are the workers': the operator's and
 * queue-manager's users belong to their accounts (always reserved: their tokens carry Roles);
 * every other user to the account named after its service, which a worker Job runs as to use them.
 */
export function workloadAccounts(args: WorkloadAccountsArgs) {
  const { operator, queueManager } = args;
  const platformServiceAccounts = [
    queueManager.serviceAccount,
    ...(operator ? [operator.serviceAccount, operator.relaunchGuard.serviceAccount] : []),
  ];
  const credentials: Record<string, string[]> = {};
  const own = (account: string, secret: string) => (credentials[account] ??= []).push(secret);
  for (const user of args.users) {
    if (operator && user.name === operator.kafkaUser) own(operator.serviceAccount, user.name);
    else if (user.name === queueManager.kafkaUser || user.service === queueManager.serviceAccount)
      own(queueManager.serviceAccount, user.name);
    else own(user.service, user.name);
  }
  for (const secret of operator?.pullSecrets ?? []) own(operator!.serviceAccount, secret);
  for (const secret of operator?.relaunchGuard.secrets ?? []) own(operator!.relaunchGuard.serviceAccount, secret);
  const workerServiceAccounts = [
    "default",
    ...Object.keys(credentials)
      .filter((a) => !platformServiceAccounts.includes(a))
      .sort(),
  ];
  return { credentials, workerServiceAccounts, platformServiceAccounts, launcherServiceAccount: queueManager.serviceAccount };
}

export const platformPodAccessGuardName = (prefix: string): string => `${prefix}-apps-platform-pod-access`;

/** The sessions into a pod: a shell or an attach reads its token; a proxy skips its NetworkPolicy. */
export const POD_SESSIONS = ["pods/exec", "pods/attach", "pods/portforward", "pods/proxy"] as const;
/** The API server's proxy to a Service (in `edit`): it reaches whatever pods the Service selects. */
const SERVICE_PROXY = "services/proxy";

/**
 * No exec, attach or port-forward into the platform's pods (queue-manager's, the operator's), and
 * no Service proxy in the apps namespaces:
 * whoever may exec into them (`edit` may, in the whole namespace) would read their tokens and their
 * Kafka passwords. A CONNECT request carries the pod's name, not its spec, so the pods are known by
 * their names: each platform workload is named after its account (rollouts/spec.ts QUEUE_MANAGER,
 * infra/self-healing/manifests.ts OPERATOR_NAME), and its pods' names begin with it. Workers stay
 * open to debugging. Pure.
 */
export function platformPodAccessGuard(args: Pick<WorkloadGuardArgs, "namespaces" | "platformServiceAccounts" | "namePrefix">) {
  const name = platformPodAccessGuardName(args.namePrefix);
  const labels = APPS_GUARD_LABELS;
  const prefixes = args.platformServiceAccounts.map((a) => `${a}-`);
  const policy = validatingPolicy(name, labels, {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CONNECT"], resources: [...POD_SESSIONS, SERVICE_PROXY] }],
    },
    validations: [
      {
        // A Service selecting queue-manager's pods (which the Service guard admits) would proxy to
        // them from the API server, past their NetworkPolicies; nothing of the platform uses it.
        expression: 'request.resource.resource != "services"',
        messageExpression: `${lit(`${SERVICE_PROXY}: expected no proxy through the API server into the apps namespaces (it reaches the pods a Service selects past their NetworkPolicies); found `)} + request.name`,
      },
      {
        expression: `request.resource.resource == "services" || !${list(prefixes)}.exists(p, request.name.startsWith(p))`,
        messageExpression: `"pods/" + request.subResource + ${lit(`: expected no session into the platform's pods (${args.platformServiceAccounts.join(", ")}): their tokens carry Roles; found `)} + request.name`,
      },
    ],
  });
  return { policy, binding: denyBindingIn(name, labels, [...new Set(args.namespaces)].sort()) };
}

export const tokenSecretGuardName = (prefix: string): string => `${prefix}-apps-no-token-secrets`;

/**
 * No long-lived ServiceAccount token Secrets in the apps namespaces: Kubernetes' token controller
 * fills any Secret of type `kubernetes.io/service-account-token` that names an account
 * (`kubernetes.io/service-account.name`), so whoever may create Secrets there (`edit`) would get a
 * token of queue-manager's or the operator's account without a pod. Nothing of the platform uses
 * them (pods get bound tokens). Pure.
 */
export function tokenSecretGuard(args: Pick<WorkloadGuardArgs, "namespaces" | "namePrefix">) {
  const name = tokenSecretGuardName(args.namePrefix);
  const labels = APPS_GUARD_LABELS;
  const policy = validatingPolicy(name, labels, {
    failurePolicy: "Fail",
    matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["secrets"] }] },
    validations: [
      {
        expression: 'object.?type.orValue("") != "kubernetes.io/service-account-token"',
        messageExpression: `"type: expected no kubernetes.io/service-account-token Secret (a long-lived token of the account it names); found one naming " + object.metadata.?annotations.orValue({})[?"kubernetes.io/service-account.name"].orValue("no account")`,
      },
    ],
  });
  return { policy, binding: denyBindingIn(name, labels, [...new Set(args.namespaces)].sort()) };
}
