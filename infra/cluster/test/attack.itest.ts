/**
 * The attack tier: each identity that may create workloads in the apps namespace tries, with its own
 * token (TokenRequest) against the REAL API server, every way to another workload's credentials, a
 * node, or a privileged account; each attempt is refused with the policy's message (or RBAC's), and
 * each legitimate action is shown admitted, down to the pods the Job controller creates.
 *
 * The identities: queue-manager (the Role the stack gives it, rollouts/spec.ts), the self-healing
 * operator (its Role and Job guard, infra/self-healing/), and a person with the cluster's `edit`
 * ClusterRole in the namespace. The namespace, accounts, Secrets and guard are the local stack's
 * (its catalogue and settings), in a namespace of this test.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { podSecurityLabels } from "../../kit/namespaces";
import { podDefaults, podDefaultsName } from "../pod-defaults-spec";
import {
  platformPodAccessGuard,
  platformPodAccessGuardName,
  tokenSecretGuard,
  tokenSecretGuardName,
  workloadAccounts,
  workloadGuard,
  workloadGuardName,
} from "../workload-guard-spec";
import {
  DEPLOYMENT_CONTROLLER_USERS,
  platformTokenGuard,
  platformTokenGuardName,
  platformWorkloadsGuard,
  platformWorkloadsGuardName,
  serviceGuard,
  serviceGuardName,
} from "../platform-workloads-spec";
import { responderBinding, responderRole, responderRoleName } from "../responders-spec";
import { planUsers } from "../../kafka/catalogue";
import { GUARD_DEFAULTS, guardName, operatorGuard } from "../../self-healing/guard";
import { OPERATOR_NAME, PULL_SECRET_NAME, type OperatorSpec, jobsRole, roleBinding, serviceAccount } from "../../self-healing/manifests";
import { relaunchGuardAccount } from "../../self-healing/relaunch-guard-spec";
import { replacementJob } from "../../../operator/src/core/relaunch";
import { pendingAnnotations } from "../../../operator/src/core/resume";
import type { JobManifest } from "../../../operator/src/core/jobs";
import { QUEUE_MANAGER, queueManagerRbac } from "../../../rollouts/spec";
import { committedConfig } from "../../../test/helpers";
import {
  deletePolicies,
  eventually,
  kubectl,
  kubectlWith,
  policyTypeWarnings,
  requireEnv,
  serviceAccountKubeconfig,
  untilEnforced,
  kubectlApply,
} from "../../../test/integration/local-platform";

const run = randomBytes(3).toString("hex");
const APPS = `attack-${run}`;
const local = committedConfig("local");
const accounts = workloadAccounts({
  users: planUsers(local.catalogue),
  operator: {
    serviceAccount: OPERATOR_NAME,
    kafkaUser: local.operator!.kafkaUser,
    pullSecrets: [PULL_SECRET_NAME],
    relaunchGuard: relaunchGuardAccount(true),
  },
  queueManager: { serviceAccount: QUEUE_MANAGER, kafkaUser: local.rollouts!.queueManager.kafkaUser },
});
// A class the stack allows, beside the local stack's own list (none): the allowed one is admitted.
const priorityClasses = [...local.apps.priorityClasses, "stf-batch"];
const guard = workloadGuard({
  namespaces: [APPS],
  namePrefix: `streamforge-${APPS}`,
  priorityClasses,
  runtimeClasses: local.apps.runtimeClasses,
  csiDrivers: local.apps.csiDrivers,
  volumeClaims: local.apps.volumeClaims,
  ...accounts,
});
const GUARD = workloadGuardName(`streamforge-${APPS}`);
const access = platformPodAccessGuard({ namespaces: [APPS], namePrefix: `streamforge-${APPS}`, ...accounts });
const ACCESS = platformPodAccessGuardName(`streamforge-${APPS}`);
const tokens = tokenSecretGuard({ namespaces: [APPS], namePrefix: `streamforge-${APPS}` });
const TOKENS = tokenSecretGuardName(`streamforge-${APPS}`);
const services = serviceGuard({
  namespaces: [APPS],
  namePrefix: `streamforge-${APPS}`,
  platformServiceAccounts: accounts.platformServiceAccounts,
  deployers: local.apps.deployers!,
});
const SERVICES = serviceGuardName(`streamforge-${APPS}`);
// The local stack's deployers: its admin, whose kubeconfig these tests (and `pulumi up`) use.
const workloads = platformWorkloadsGuard({
  namespaces: [APPS],
  namePrefix: `streamforge-${APPS}`,
  deployers: local.apps.deployers!,
  ...accounts,
});
const WORKLOADS = platformWorkloadsGuardName(`streamforge-${APPS}`);
const platformTokens = platformTokenGuard({
  namespaces: [APPS],
  namePrefix: `streamforge-${APPS}`,
  deployers: local.apps.deployers!,
  ...accounts,
});
const PLATFORM_TOKENS = platformTokenGuardName(`streamforge-${APPS}`);
const defaults = podDefaults({ namespaces: [APPS], runAsUser: local.apps.defaultRunAsUser, namePrefix: `streamforge-${APPS}` });
const DEFAULTS = podDefaultsName(`streamforge-${APPS}`);
const jobGuard = operatorGuard({ operatorNamespace: APPS, serviceAccount: OPERATOR_NAME, watchNamespace: APPS, ...GUARD_DEFAULTS });
const JOB_GUARD = guardName(APPS);
/** The workers' accounts other than default, and a Secret each of them owns. */
const [loader, otherWorker] = accounts.workerServiceAccounts.filter((a) => a !== "default");
const own = (account: string) => accounts.credentials[account]![0]!;
const CA = `${local.kafka.clusterName}-cluster-ca-cert`;
const IMAGE = "ghcr.io/olehkondratow/streamforge-loader:1.0.0";

type Who = "queue-manager" | "operator" | "edit" | "responder";
const RESPONDER = responderRoleName(`streamforge-${APPS}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "attack-"));
const kubeconfigs = {} as Record<Who, string>;
const as = (who: Who | "admin", input: object | undefined, ...args: string[]) =>
  kubectlWith(who === "admin" ? undefined : kubeconfigs[who], input, ...args);
const dryRun = (who: Who | "admin", object: object) => as(who, object, "create", "--dry-run=server", "-f", "-");
/** An admitted write's result without the Pod Security warning lines (the apps namespace warns at restricted). */
const withoutWarnings = (r: { ok: boolean; output: string }) => ({
  ok: r.ok,
  output: r.output
    .split("\n")
    .filter((l) => !l.startsWith("Warning: "))
    .join("\n"),
});
const refusedBy = (policy: string, message: string) =>
  `ValidatingAdmissionPolicy '${policy}' with binding '${policy}' denied request: ${message}`;

/** A Job as queue-manager launches it (../shared/STREAMFORGE.md), changed by `edit`. */
function workerJob(name: string, edit: (pod: any, job: any) => void = () => {}): any {
  const pod: any = {
    restartPolicy: "Never",
    containers: [{ name: "loader-producer", image: IMAGE, env: [{ name: "QUEUE_ID", value: name.split("-")[0] }] }],
  };
  const job = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: APPS },
    spec: { backoffLimit: 4, template: { spec: pod } },
  };
  edit(pod, job);
  return job;
}

beforeAll(async () => {
  requireEnv("KUBECONFIG");
  kubectl("create", "namespace", APPS);
  // The stack's Pod Security level for the apps namespace (infra/platform.ts), with its defaults.
  kubectl("label", "namespace", APPS, ...Object.entries(podSecurityLabels("restricted")).map(([k, v]) => `${k}=${v}`));
  const spec = { namespace: APPS, watchNamespace: APPS } as OperatorSpec<unknown>;
  const qm = queueManagerRbac(APPS);
  const role = jobsRole(spec);
  const secret = (name: string) => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: APPS },
    stringData: { password: `not-${name}-s-password` },
  });
  const objects = [
    qm.serviceAccount,
    qm.role,
    qm.roleBinding,
    { apiVersion: "v1", kind: "ServiceAccount", ...serviceAccount(spec) },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", ...role },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", ...roleBinding(role, spec) },
    // A person with the cluster's own `edit` role in the namespace.
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "alice", namespace: APPS } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "alice-edit", namespace: APPS },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
      subjects: [{ kind: "ServiceAccount", name: "alice", namespace: APPS }],
    },
    // ...and allowed to debug (`kubectl debug`), which `edit` does not include.
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "debugger", namespace: APPS },
      rules: [{ apiGroups: [""], resources: ["pods/ephemeralcontainers"], verbs: ["get", "patch", "update"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "alice-debugger", namespace: APPS },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "debugger" },
      subjects: [{ kind: "ServiceAccount", name: "alice", namespace: APPS }],
    },
    // A person on call with the stack's responder Role instead of `edit`.
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "bob", namespace: APPS } },
    responderRole(RESPONDER, {}),
    responderBinding(RESPONDER, {}, APPS, { users: [`system:serviceaccount:${APPS}:bob`], groups: [] }),
    // The workers' accounts and the default one, as the stack declares them (infra/cluster/workload-guard.ts).
    ...accounts.workerServiceAccounts.map((name) => ({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name, namespace: APPS },
      automountServiceAccountToken: false,
    })),
    ...Object.values(accounts.credentials).flat().map(secret),
    secret(CA),
    guard.policy,
    guard.binding,
    defaults.policy,
    defaults.binding,
    access.policy,
    access.binding,
    tokens.policy,
    tokens.binding,
    services.policy,
    services.binding,
    workloads.policy,
    workloads.binding,
    platformTokens.policy,
    platformTokens.binding,
    jobGuard.policy,
    jobGuard.binding,
  ];
  kubectlApply({ apiVersion: "v1", kind: "List", items: objects });
  kubeconfigs["queue-manager"] = serviceAccountKubeconfig(dir, APPS, QUEUE_MANAGER);
  kubeconfigs.operator = serviceAccountKubeconfig(dir, APPS, OPERATOR_NAME);
  kubeconfigs.edit = serviceAccountKubeconfig(dir, APPS, "alice");
  kubeconfigs.responder = serviceAccountKubeconfig(dir, APPS, "bob");
  // Policies are enforced once the API server's informers have them: a known-bad Job, retried until both refuse it.
  const bad = workerJob("q0-loader-producer", (pod) => (pod.nodeName = "cp-1"));
  await untilEnforced(GUARD, () => dryRun("queue-manager", bad));
  const forged = replacementJob({
    old: workerJob("q0-loader-producer") as JobManifest,
    attempt: 1,
    reason: "stuck",
    detail: "test",
    history: [Date.now()],
    queueId: "q0",
  });
  // A command override: only the operator's guard refuses it (the apps guard answers first for most others).
  (forged as any).spec.template.spec.containers[0].command = ["sh"];
  await untilEnforced(JOB_GUARD, () => dryRun("operator", forged));
  // And each other guard, by a request it refuses that changes nothing if admitted (dry runs, a proxy to no Service, a token for no pod).
  await untilEnforced(ACCESS, () =>
    as("edit", undefined, "get", "--raw", `/api/v1/namespaces/${APPS}/services/${QUEUE_MANAGER}:80/proxy/`),
  );
  const tokenSecret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "t", namespace: APPS, annotations: { "kubernetes.io/service-account.name": OPERATOR_NAME } },
    type: "kubernetes.io/service-account-token",
  };
  await untilEnforced(TOKENS, () => dryRun("edit", tokenSecret));
  const nodePort = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "np", namespace: APPS },
    spec: { type: "NodePort", ports: [{ port: 80 }] },
  };
  await untilEnforced(SERVICES, () => dryRun("edit", nodePort));
  const asOperator = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d", namespace: APPS },
    spec: {
      selector: { matchLabels: { a: "b" } },
      template: {
        metadata: { labels: { a: "b" } },
        spec: { serviceAccountName: OPERATOR_NAME, containers: [{ name: "c", image: IMAGE }] },
      },
    },
  };
  await untilEnforced(WORKLOADS, () => dryRun("edit", asOperator));
  // Bound to a pod that does not exist: admitted before the policy loads, it still issues no token (admission comes before
  // the pod's lookup: pkg/registry/core/serviceaccount/storage/token.go L159-177).
  await untilEnforced(PLATFORM_TOKENS, () =>
    as(
      "edit",
      undefined,
      "create",
      "token",
      OPERATOR_NAME,
      "-n",
      APPS,
      "--bound-object-kind",
      "Pod",
      "--bound-object-name",
      `absent-${run}`,
    ),
  );
}, 180_000);

afterAll(() => {
  deletePolicies(GUARD, ACCESS, TOKENS, SERVICES, WORKLOADS, PLATFORM_TOKENS, JOB_GUARD);
  kubectl("delete", "mutatingadmissionpolicybinding,mutatingadmissionpolicy", DEFAULTS, "--ignore-not-found");
  kubectl("delete", "clusterrole", RESPONDER, "--ignore-not-found");
  kubectl("delete", "namespace", APPS, "--ignore-not-found", "--wait=false");
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The attacks every creator tries: a Job edited by `edit`, and the guard's message for it. */
const JOB_ATTACKS: [string, (pod: any) => void, string][] = [
  [
    "another app's credentials in a volume",
    (pod) => (pod.volumes = [{ name: "k", secret: { secretName: own(QUEUE_MANAGER) } }]),
    `spec.template.spec.*: expected only the Kafka credentials of the pod's own ServiceAccount; found ${own(QUEUE_MANAGER)} (owned by ${QUEUE_MANAGER}) in a pod running as default`,
  ],
  [
    "the operator's credentials through secretKeyRef",
    (pod) => pod.containers[0].env.push({ name: "P", valueFrom: { secretKeyRef: { name: own(OPERATOR_NAME), key: "password" } } }),
    `spec.template.spec.*: expected only the Kafka credentials of the pod's own ServiceAccount; found ${own(OPERATOR_NAME)} (owned by ${OPERATOR_NAME}) in a pod running as default`,
  ],
  [
    "another worker's credentials, running as a worker",
    (pod) => {
      pod.serviceAccountName = loader;
      pod.containers[0].envFrom = [{ secretRef: { name: own(otherWorker!) } }];
    },
    `spec.template.spec.*: expected only the Kafka credentials of the pod's own ServiceAccount; found ${own(otherWorker!)} (owned by ${otherWorker}) in a pod running as ${loader}`,
  ],
  [
    "a volume type whose Secret references the guard does not follow",
    (pod) => (pod.volumes = [{ name: "f", flexVolume: { driver: "x", secretRef: { name: own(QUEUE_MANAGER) } } }]),
    "spec.template.spec.volumes[]: expected only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret volumes; found f",
  ],
  [
    "the operator's account",
    (pod) => (pod.serviceAccountName = OPERATOR_NAME),
    `spec.template.spec.serviceAccountName: expected a worker's ServiceAccount (${accounts.workerServiceAccounts.join(", ")}); found ${OPERATOR_NAME}`,
  ],
  [
    "a token for another audience",
    (pod) => (pod.volumes = [{ name: "t", projected: { sources: [{ serviceAccountToken: { audience: "vault", path: "t" } }] } }]),
    "spec.template.spec.automountServiceAccountToken, volumes[].projected.sources[].serviceAccountToken: expected no API token in a worker's pod; found token t:vault",
  ],
  [
    "root",
    (pod) => (pod.containers[0].securityContext = { runAsUser: 0 }),
    "spec.template.spec.securityContext.runAsUser, runAsNonRoot: expected a non-root user (runAsUser not 0, runAsNonRoot not false); found root in containers[loader-producer]",
  ],
  [
    "a named node and a toleration of every taint",
    (pod) => Object.assign(pod, { nodeName: "cp-1", tolerations: [{ operator: "Exists" }] }),
    "spec.template.spec.nodeName, nodeSelector, affinity, tolerations: expected no node named (nodeName, kubernetes.io/hostname, metadata.name, a pod affinity per host) and no toleration of every taint or of the nodes kept for the cluster (node-role.kubernetes.io/control-plane, node-role.kubernetes.io/master, node-role.kubernetes.io/etcd, CriticalAddonsOnly); found nodeName cp-1, toleration of every taint",
  ],
  [
    "a node chosen by its hostname, kept for the cluster's add-ons",
    (pod) =>
      Object.assign(pod, {
        nodeSelector: { "kubernetes.io/hostname": "cp-1" },
        tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }],
      }),
    "spec.template.spec.nodeName, nodeSelector, affinity, tolerations: expected no node named (nodeName, kubernetes.io/hostname, metadata.name, a pod affinity per host) and no toleration of every taint or of the nodes kept for the cluster (node-role.kubernetes.io/control-plane, node-role.kubernetes.io/master, node-role.kubernetes.io/etcd, CriticalAddonsOnly); found nodeSelector kubernetes.io/hostname, toleration of CriticalAddonsOnly",
  ],
  [
    "the node's GPUs, as a device plugin's extended resource",
    (pod) => (pod.containers[0].resources = { limits: { "nvidia.com/gpu": "1" } }),
    "spec.template.spec.runtimeClassName, resourceClaims, *containers[].resources: expected no runtime class (streamforge:apps.runtimeClasses), no device claims and no resources beyond cpu, memory, ephemeral-storage, hugepages-*; found containers[loader-producer]",
  ],
  [
    "the node's GPU runtime",
    (pod) => (pod.runtimeClassName = "nvidia"),
    "spec.template.spec.runtimeClassName, resourceClaims, *containers[].resources: expected no runtime class (streamforge:apps.runtimeClasses), no device claims and no resources beyond cpu, memory, ephemeral-storage, hugepages-*; found nvidia",
  ],
  [
    "a priority class that preempts the brokers",
    (pod) => (pod.priorityClassName = "system-node-critical"),
    "spec.template.spec.priorityClassName, schedulingGroup: expected none or one of stf-batch (streamforge:apps.priorityClasses) and no scheduling group, whose PodGroup's class would decide what the pod preempts; found system-node-critical",
  ],
  [
    "an inline volume of a CSI driver the stack does not list",
    (pod) =>
      (pod.volumes = [
        { name: "vault", csi: { driver: "secrets-store.csi.k8s.io", volumeAttributes: { secretProviderClass: "queue-manager" } } },
      ]),
    "spec.template.spec.volumes[].csi.driver: expected no inline CSI volume (streamforge:apps.csiDrivers); found vault (secrets-store.csi.k8s.io)",
  ],
  [
    // Another workload's data: any pod of the namespace could mount its claim by name.
    "another workload's claim",
    (pod) => (pod.volumes = [{ name: "data", persistentVolumeClaim: { claimName: "arangodb-data" } }]),
    "spec.template.spec.volumes[].persistentVolumeClaim.claimName: expected no claim volume (streamforge:apps.volumeClaims); found data (arangodb-data)",
  ],
  [
    // Kept by this API server (GenericWorkload on, local/kube.sh), as by a cluster that turns it on.
    "a scheduling group, whose PodGroup's class decides what it preempts",
    (pod) => (pod.schedulingGroup = { podGroupName: "high" }),
    "spec.template.spec.priorityClassName, schedulingGroup: expected none or one of stf-batch (streamforge:apps.priorityClasses) and no scheduling group, whose PodGroup's class would decide what the pod preempts; found schedulingGroup high",
  ],
];

describe("the apps namespace under attack, with each creator's real token", () => {
  it("type-checks every expression of the guards against the real schemas", async () => {
    for (const policy of [GUARD, ACCESS, TOKENS, SERVICES, WORKLOADS, PLATFORM_TOKENS, JOB_GUARD])
      expect([policy, await policyTypeWarnings(policy)]).toEqual([policy, []]);
  });

  it.each(["queue-manager", "edit"] as const)("%s: every way to credentials, accounts or nodes is refused, naming the rule", (who) => {
    for (const [attack, edit, message] of JOB_ATTACKS) {
      const result = dryRun(who, workerJob("q1-loader-producer", edit));
      expect([attack, result.ok, result.output]).toEqual([attack, false, expect.stringContaining(refusedBy(GUARD, message))]);
    }
  });

  it("operator: the same attacks, dressed as its replacement, are refused by both guards", () => {
    for (const [attack, edit, message] of JOB_ATTACKS) {
      const old = workerJob("q1-loader-producer") as JobManifest;
      const job: any = replacementJob({ old, attempt: 1, reason: "stuck", detail: "test", history: [Date.now()], queueId: "q1" });
      edit(job.spec.template.spec);
      const result = dryRun("operator", job);
      expect([attack, result.ok, result.output]).toEqual([attack, false, expect.stringContaining(`ValidatingAdmissionPolicy '`)]);
      // The operator's own guard refuses what a worker Job would not carry; the apps guard refuses the rest.
      expect([attack, result.output.includes(refusedBy(GUARD, message)) || result.output.includes(`'${JOB_GUARD}'`)]).toEqual([
        attack,
        true,
      ]);
    }
  });

  it("queue-manager: a Job as a worker's account, with that worker's credentials, is refused (its launcher names no account)", () => {
    const stealing = workerJob("q6-loader-producer", (pod) => {
      pod.serviceAccountName = loader;
      pod.containers[0].image = "docker.io/attacker/any:latest";
      pod.containers[0].env.push({ name: "KAFKA_PASSWORD", valueFrom: { secretKeyRef: { name: own(loader!), key: "password" } } });
    });
    expect(dryRun("queue-manager", stealing).output).toContain(
      refusedBy(
        GUARD,
        `spec.template.spec.serviceAccountName: expected default in a Job ${QUEUE_MANAGER} launches (its launcher names no account); found ${loader}`,
      ),
    );
  });

  it("queue-manager: a Job labelled as queue-manager's own pods (their egress, their Services) is refused", () => {
    const disguised = workerJob("q5-loader-producer");
    disguised.spec.template.metadata = { labels: { "app.kubernetes.io/name": QUEUE_MANAGER } };
    expect(dryRun("queue-manager", disguised).output).toContain(
      refusedBy(
        GUARD,
        `spec.template.metadata.labels: expected no app.kubernetes.io/name of the platform's (${accounts.platformServiceAccounts.join(", ")}) and no rollouts-pod-template-hash outside their ReplicaSets; found ${QUEUE_MANAGER}`,
      ),
    );
  });

  it("edit: a bare pod or a CronJob running as a platform account is refused", () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "steal", namespace: APPS },
      spec: { serviceAccountName: QUEUE_MANAGER, containers: [{ name: "c", image: IMAGE }] },
    };
    expect(dryRun("edit", pod).output).toContain(
      refusedBy(
        GUARD,
        `spec.serviceAccountName: expected a worker's ServiceAccount (${accounts.workerServiceAccounts.join(", ")}); found ${QUEUE_MANAGER}`,
      ),
    );
    const cron = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "steal", namespace: APPS },
      spec: { schedule: "* * * * *", jobTemplate: { spec: { template: { spec: { ...pod.spec, restartPolicy: "Never" } } } } },
    };
    expect(dryRun("edit", cron).output).toContain(
      refusedBy(
        GUARD,
        `spec.jobTemplate.spec.template.spec.serviceAccountName: expected a worker's ServiceAccount (${accounts.workerServiceAccounts.join(", ")}); found ${QUEUE_MANAGER}`,
      ),
    );
  });

  it("the workloads cannot read credentials or make pods through the API: RBAC refuses", () => {
    for (const who of ["queue-manager", "operator"] as const) {
      const user = `system:serviceaccount:${APPS}:${who === "operator" ? OPERATOR_NAME : QUEUE_MANAGER}`;
      expect(as(who, undefined, "get", "secret", own(loader!), "-n", APPS).output).toContain(
        `secrets "${own(loader!)}" is forbidden: User "${user}" cannot get resource "secrets" in API group "" in the namespace "${APPS}"`,
      );
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p", namespace: APPS },
        spec: { containers: [{ name: "c", image: IMAGE }] },
      };
      expect(dryRun(who, pod).output).toContain(`User "${user}" cannot create resource "pods" in API group "" in the namespace "${APPS}"`);
    }
  });

  it("admits the legitimate: queue-manager's Job and a person's worker with its own credentials, down to their pods; the operator's relaunch", async () => {
    const plain = workerJob("q2-loader-producer");
    const ownCredentials = workerJob("q3-loader-producer", (pod) => {
      pod.serviceAccountName = loader;
      pod.containers[0].env.push({ name: "KAFKA_PASSWORD", valueFrom: { secretKeyRef: { name: own(loader!), key: "password" } } });
      pod.volumes = [{ name: "ca", secret: { secretName: CA } }];
      pod.containers[0].volumeMounts = [{ name: "ca", mountPath: "/etc/kafka-ca", readOnly: true }];
    });
    // queue-manager launches as default; a worker with its own account and credentials is a person's (or Pulumi's) to start.
    for (const [who, job] of [
      ["queue-manager", plain],
      ["edit", ownCredentials],
    ] as const)
      expect(withoutWarnings(as(who, job, "create", "-f", "-"))).toEqual({
        ok: true,
        output: expect.stringMatching(new RegExp(`^job.batch/${job.metadata.name} created`)),
      });
    expect(dryRun("edit", workerJob("q4-loader-producer")).ok).toBe(true);
    // A priority class the stack lists is the launcher's to use.
    expect(
      dryRun(
        "queue-manager",
        workerJob("q5-loader-producer", (pod) => (pod.priorityClassName = "stf-batch")),
      ).ok,
    ).toBe(true);

    // The Job controller's pods pass the guard too: the default account mounts no token, so none is injected.
    for (const job of [plain, ownCredentials]) {
      const pod = await eventually(`a pod of ${job.metadata.name}`, () => {
        const pods = JSON.parse(kubectl("get", "pods", "-n", APPS, "-l", `job-name=${job.metadata.name}`, "-o", "json")).items;
        return pods[0];
      });
      expect([
        job.metadata.name,
        (pod.spec.volumes ?? []).filter((v: any) => v.projected?.sources?.some((s: any) => s.serviceAccountToken)),
      ]).toEqual([job.metadata.name, []]);
    }
    // A platform account's pods, made by the ReplicaSet controller as for the operator's Deployment, keep their API token.
    const platformPods = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "platform-pods", namespace: APPS },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "platform-pods" } },
        template: {
          metadata: { labels: { app: "platform-pods" } },
          spec: { serviceAccountName: OPERATOR_NAME, containers: [{ name: "c", image: IMAGE }] },
        },
      },
    };
    expect(as("admin", platformPods, "create", "-f", "-").ok).toBe(true);
    const platformPod = await eventually("a pod of the platform's Deployment", () => {
      const pods = JSON.parse(kubectl("get", "pods", "-n", APPS, "-l", "app=platform-pods", "-o", "json")).items;
      return pods[0];
    });
    expect(platformPod.spec.volumes.map((v: any) => v.name)).toEqual([expect.stringMatching(/^kube-api-access-/)]);
    const events = kubectl("get", "events", "-n", APPS, "--field-selector", "reason=FailedCreate", "-o", "jsonpath={.items[*].message}");
    expect(events).toBe("");

    // The operator's relaunch of queue-manager's Job: the claim, the replacement, the deletion.
    const old = JSON.parse(kubectl("get", "job", plain.metadata.name, "-n", APPS, "-o", "json")) as JobManifest;
    const pending = {
      name: `${plain.metadata.name}-r1`,
      reason: "stuck" as const,
      detail: "test",
      attempt: 1,
      history: [Date.now()],
      queueId: "q2",
    };
    const claim = as(
      "operator",
      undefined,
      "annotate",
      "job",
      plain.metadata.name,
      "-n",
      APPS,
      ...Object.entries(pendingAnnotations(pending)).map(([k, v]) => `${k}=${v}`),
    );
    expect(withoutWarnings(claim)).toEqual({ ok: true, output: `job.batch/${plain.metadata.name} annotated` });
    const replacement = replacementJob({
      old: JSON.parse(kubectl("get", "job", plain.metadata.name, "-n", APPS, "-o", "json")),
      ...pending,
    });
    expect(withoutWarnings(as("operator", replacement, "create", "-f", "-"))).toEqual({
      ok: true,
      output: `job.batch/${pending.name} created`,
    });
    expect(as("operator", undefined, "delete", "job", old.metadata.name, "-n", APPS, "--wait=false").ok).toBe(true);
  }, 120_000);

  it("operator: a claim stamped on a Job that is not a watched worker's is refused, so it cannot delete it", () => {
    const migration = workerJob("db-migration", (pod) => (pod.containers[0].env = []));
    expect(as("admin", migration, "create", "-f", "-").ok).toBe(true);
    const pending = { name: "db-migration-r1", reason: "stuck" as const, detail: "test", attempt: 1, history: [Date.now()], queueId: "db" };
    const claim = as(
      "operator",
      undefined,
      "annotate",
      "job",
      "db-migration",
      "-n",
      APPS,
      ...Object.entries(pendingAnnotations(pending)).map(([k, v]) => `${k}=${v}`),
    );
    expect(claim.output).toContain(
      `ValidatingAdmissionPolicy '${JOB_GUARD}' with binding '${JOB_GUARD}' denied request: metadata: expected a worker Job the operator watches`,
    );
    const deleted = as("operator", undefined, "delete", "job", "db-migration", "-n", APPS, "--wait=false");
    expect(deleted.output).toContain(
      `ValidatingAdmissionPolicy '${JOB_GUARD}' with binding '${JOB_GUARD}' denied request: metadata.annotations`,
    );
    expect(kubectl("get", "job", "db-migration", "-n", APPS, "-o", "name").trim()).toBe("job.batch/db-migration");
  });

  it("edit: a running platform pod gets no new image, debug container, session or platform label; a worker may be debugged as the guard allows", async () => {
    // queue-manager's pod, made by its ReplicaSet and named after its workload, and a worker's pod made by its Job.
    const qm = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: QUEUE_MANAGER, namespace: APPS },
      spec: {
        replicas: 1,
        selector: { matchLabels: { "app.kubernetes.io/name": QUEUE_MANAGER } },
        template: {
          metadata: { labels: { "app.kubernetes.io/name": QUEUE_MANAGER } },
          spec: { serviceAccountName: QUEUE_MANAGER, containers: [{ name: "c", image: IMAGE }] },
        },
      },
    };
    const worker = workerJob("q7-loader-producer", (pod) => (pod.serviceAccountName = loader));
    for (const object of [qm, worker]) expect(as("admin", object, "create", "-f", "-").ok).toBe(true);
    const podOf = (selector: string) =>
      eventually(`a pod of ${selector}`, () => JSON.parse(kubectl("get", "pods", "-n", APPS, "-l", selector, "-o", "json")).items[0]);
    const qmPod: string = (await podOf(`app.kubernetes.io/name=${QUEUE_MANAGER}`)).metadata.name;
    const workerPod: string = (await podOf("job-name=q7-loader-producer")).metadata.name;
    const alice = `system:serviceaccount:${APPS}:alice`;
    const edit = (...args: string[]) => as("edit", undefined, ...args, "-n", APPS);
    const asRoot = path.join(dir, "root.json");
    fs.writeFileSync(asRoot, JSON.stringify({ securityContext: { runAsUser: 0 } }));
    const debug = (pod: string, container: string, profile: string, ...custom: string[]) =>
      edit("debug", pod, "--image=busybox:1.37", "-c", container, `--profile=${profile}`, ...custom, "--", "sleep", "60");
    const platformOnly = `expected a pod of the platform's accounts (${accounts.platformServiceAccounts.join(", ")}) to change only by its ReplicaSet`;

    expect(edit("set", "image", `pod/${qmPod}`, "c=evil:1").output).toContain(
      refusedBy(GUARD, `spec: ${platformOnly}; found a change of its spec by ${alice}`),
    );
    expect(debug(qmPod, "debugger", "restricted").output).toContain(
      refusedBy(GUARD, `spec.ephemeralContainers: ${platformOnly}; found a debug container by ${alice}`),
    );
    expect(edit("exec", qmPod, "--", "cat", "/var/run/secrets/kubernetes.io/serviceaccount/token").output).toContain(
      `ValidatingAdmissionPolicy '${ACCESS}' with binding '${ACCESS}' denied request: pods/exec: expected no session into the platform's pods (${accounts.platformServiceAccounts.join(", ")}): their tokens carry Roles; found ${qmPod}`,
    );
    // Through the API server's Service proxy, past queue-manager's NetworkPolicies.
    expect(as("edit", undefined, "get", "--raw", `/api/v1/namespaces/${APPS}/services/${QUEUE_MANAGER}:80/proxy/`).output).toContain(
      `ValidatingAdmissionPolicy '${ACCESS}' with binding '${ACCESS}' denied request: services/proxy: expected no proxy through the API server into the apps namespaces (it reaches the pods a Service selects past their NetworkPolicies); found ${QUEUE_MANAGER}`,
    );
    expect(edit("label", "pod", workerPod, `app.kubernetes.io/name=${QUEUE_MANAGER}`).output).toContain(
      refusedBy(
        GUARD,
        `metadata.labels: expected no app.kubernetes.io/name of the platform's (${accounts.platformServiceAccounts.join(", ")}) and no rollouts-pod-template-hash outside their ReplicaSets; found ${QUEUE_MANAGER}`,
      ),
    );
    // Root in a debug container: Pod Security (restricted) refuses it before the guard would.
    expect(debug(workerPod, "root", "restricted", `--custom=${asRoot}`).output).toContain(
      'violates PodSecurity "restricted:latest": runAsUser=0 (container "root" must not set runAsUser=0)',
    );
    const stealing = path.join(dir, "steal.json");
    const qmSecret = own(QUEUE_MANAGER);
    fs.writeFileSync(stealing, JSON.stringify({ env: [{ name: "P", valueFrom: { secretKeyRef: { name: qmSecret, key: "password" } } }] }));
    expect(debug(workerPod, "thief", "restricted", `--custom=${stealing}`).output).toContain(
      refusedBy(
        GUARD,
        `spec.*: expected only the Kafka credentials of the pod's own ServiceAccount; found ${qmSecret} (owned by ${QUEUE_MANAGER}) in a pod running as ${loader}`,
      ),
    );

    // A long-lived token of the operator's account, filled by the token controller: refused.
    const tokenSecret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "op-token", namespace: APPS, annotations: { "kubernetes.io/service-account.name": OPERATOR_NAME } },
      type: "kubernetes.io/service-account-token",
    };
    expect(as("edit", tokenSecret, "create", "-f", "-").output).toContain(
      `ValidatingAdmissionPolicy '${TOKENS}' with binding '${TOKENS}' denied request: type: expected no kubernetes.io/service-account-token Secret (a long-lived token of the account it names); found one naming ${OPERATOR_NAME}`,
    );

    // queue-manager's pods exposed on every node, or traffic to an address intercepted: refused; a ClusterIP Service admitted.
    const service = (name: string, spec: object) => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace: APPS },
      spec: { selector: { "app.kubernetes.io/name": QUEUE_MANAGER }, ports: [{ port: 8080 }], ...spec },
    });
    expect(dryRun("edit", service("qm-nodeport", { type: "NodePort" })).output).toContain(
      `ValidatingAdmissionPolicy '${SERVICES}' with binding '${SERVICES}' denied request: spec.type, spec.externalIPs: expected a ClusterIP Service without external IPs in the apps namespaces; found NodePort`,
    );
    expect(dryRun("edit", service("qm-intercept", { externalIPs: ["10.96.0.10"] })).output).toContain(
      "found ClusterIP with external IPs 10.96.0.10",
    );
    // A Service of the platform's pods only from the deployers: edit could point one at a pod of its own.
    const platformService = (what: string) =>
      `ValidatingAdmissionPolicy '${SERVICES}' with binding '${SERVICES}' denied request: spec: expected a Service of the platform's pods (${accounts.platformServiceAccounts.join(", ")}) to be written only by the deployers; found ${what} by ${alice}`;
    expect(dryRun("edit", service("qm-internal", {})).output).toContain(platformService("one created"));
    const guardService = {
      ...service("streamforge-relaunch-guard", {}),
      spec: { selector: { "app.kubernetes.io/name": "streamforge-relaunch-guard" }, ports: [{ port: 443 }] },
    };
    expect(as("admin", guardService, "apply", "-f", "-").ok).toBe(true);
    expect(
      edit(
        "patch",
        "service",
        "streamforge-relaunch-guard",
        "--type",
        "merge",
        "-p",
        JSON.stringify({ spec: { selector: { app: "mine" } } }),
      ).output,
    ).toContain(platformService("a change"));
    expect(edit("delete", "service", "streamforge-relaunch-guard").output).toContain(platformService("a deletion"));
    expect(withoutWarnings(edit("label", "service", "streamforge-relaunch-guard", "team=ingest"))).toEqual({
      ok: true,
      output: "service/streamforge-relaunch-guard labeled",
    });
    expect(
      withoutWarnings(
        dryRun("edit", { ...service("worker-internal", {}), spec: { selector: { app: "loader" }, ports: [{ port: 8080 }] } }),
      ),
    ).toEqual({ ok: true, output: "service/worker-internal created (server dry run)" });

    // Admitted: labels on the platform pod, a restricted debug container in the worker, a session into the worker.
    expect(withoutWarnings(edit("label", "pod", qmPod, "team=ingest"))).toEqual({ ok: true, output: `pod/${qmPod} labeled` });
    expect(debug(workerPod, "debugger", "restricted").output).not.toContain("denied request");
    const debugged = JSON.parse(kubectl("get", "pod", workerPod, "-n", APPS, "-o", "json"));
    expect(debugged.spec.ephemeralContainers.map((c: any) => c.name)).toEqual(["debugger"]);
    // The session passes admission and fails only where the API server dials the node (kwok runs no kubelet).
    const session = edit("exec", workerPod, "--", "true");
    expect(session.output).not.toContain("ValidatingAdmissionPolicy");
    expect(session).toEqual({ ok: false, output: expect.stringContaining("error: unable to upgrade connection") });
    expect(JSON.parse(kubectl("get", "pod", qmPod, "-n", APPS, "-o", "json")).spec.containers[0].image).toBe(IMAGE);
  }, 120_000);

  it("edit: no Deployment, ReplicaSet or StatefulSet of its own runs as a platform account or carries their labels; the platform's stay theirs; scaling stays open", async () => {
    const alice = `system:serviceaccount:${APPS}:alice`;
    const platformOnly = `of the platform's pods (accounts ${accounts.platformServiceAccounts.join(", ")}, or their labels)`;
    const deployers = `apps.deployers: users ${local.apps.deployers!.users.join(", ")}`;
    const workload = (kind: string, name: string, pod: object, labels: Record<string, string> = { app: name }) => ({
      apiVersion: "apps/v1",
      kind,
      metadata: { name, namespace: APPS },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        ...(kind === "StatefulSet" ? { serviceName: name } : {}),
        template: { metadata: { labels }, spec: pod },
      },
    });
    const asOperator = { serviceAccountName: OPERATOR_NAME, containers: [{ name: "c", image: "docker.io/attacker/any:latest" }] };
    const asWorker = { serviceAccountName: loader, containers: [{ name: "c", image: IMAGE }] };
    const refusal = (message: string) => `ValidatingAdmissionPolicy '${WORKLOADS}' with binding '${WORKLOADS}' denied request: ${message}`;
    // Before the guard, the ReplicaSet's pod would have been admitted: the workload guard trusts the ReplicaSet controller.
    expect(dryRun("edit", workload("Deployment", "steal-op", asOperator)).output).toContain(
      refusal(
        `spec: expected a Deployment ${platformOnly} to be written only by the deployers (${deployers}), anyone else changing at most spec.replicas, spec.paused, spec.restartAt; found one created by ${alice}`,
      ),
    );
    expect(dryRun("edit", workload("ReplicaSet", "steal-qm", asWorker, { "app.kubernetes.io/name": QUEUE_MANAGER })).output).toContain(
      refusal(
        `spec.template: expected a ReplicaSet ${platformOnly} to be made only by its Deployment's or Rollout's controller (${DEPLOYMENT_CONTROLLER_USERS.join(", ")}) or the deployers; found one created by ${alice}`,
      ),
    );
    expect(dryRun("edit", workload("StatefulSet", "steal-sts", asOperator)).output).toContain(
      refusal(
        `spec.template: expected no StatefulSet ${platformOnly}: the platform runs them only as Deployments and Rollouts; found one running as ${OPERATOR_NAME}`,
      ),
    );

    // The platform's Deployment, written by a deployer (the admin): its pods come up, through the Deployment controller.
    const operatorLike = workload("Deployment", OPERATOR_NAME, { ...asOperator, containers: [{ name: "c", image: IMAGE }] });
    expect(as("admin", operatorLike, "create", "-f", "-").ok).toBe(true);
    const rs = await eventually(
      "the Deployment controller's ReplicaSet",
      () => JSON.parse(kubectl("get", "replicasets", "-n", APPS, "-l", `app=${OPERATOR_NAME}`, "-o", "json")).items[0],
    );
    await eventually("its pod", () => JSON.parse(kubectl("get", "pods", "-n", APPS, "-l", `app=${OPERATOR_NAME}`, "-o", "json")).items[0]);
    // A new image in it, or in its ReplicaSet, by a person: refused; scaling either: admitted.
    expect(
      as("edit", undefined, "set", "image", `deployment/${OPERATOR_NAME}`, "c=docker.io/attacker/any:latest", "-n", APPS).output,
    ).toContain(refusal(`spec.template: expected a Deployment ${platformOnly} to be written only by the deployers (${deployers})`));
    expect(
      as("edit", undefined, "set", "image", `replicaset/${rs.metadata.name}`, "c=docker.io/attacker/any:latest", "-n", APPS).output,
    ).toContain(refusal(`spec.template: expected a ReplicaSet ${platformOnly}`));
    expect(withoutWarnings(as("edit", undefined, "scale", `deployment/${OPERATOR_NAME}`, "--replicas=0", "-n", APPS))).toEqual({
      ok: true,
      output: `deployment.apps/${OPERATOR_NAME} scaled`,
    });
    expect(
      withoutWarnings(as("edit", undefined, "patch", `deployment/${OPERATOR_NAME}`, "-n", APPS, "-p", '{"spec":{"paused":true}}')),
    ).toEqual({
      ok: true,
      output: `deployment.apps/${OPERATOR_NAME} patched`,
    });
    // A person's own worker Deployment stays theirs to run.
    expect(withoutWarnings(dryRun("edit", workload("Deployment", "my-worker", asWorker)))).toEqual({
      ok: true,
      output: "deployment.apps/my-worker created (server dry run)",
    });
    const image = JSON.parse(kubectl("get", "deployment", OPERATOR_NAME, "-n", APPS, "-o", "json")).spec.template.spec.containers[0].image;
    expect(image).toBe(IMAGE);
  }, 120_000);

  it("responder: the runbook's procedures are admitted; Secrets, sessions, new pods and a new template are refused", async () => {
    const bob = `system:serviceaccount:${APPS}:bob`;
    const responder = (...args: string[]) => withoutWarnings(as("responder", undefined, ...args, "-n", APPS));
    // queue-manager's Rollout and the operator's Deployment, written by a deployer (the admin).
    const template = (account: string) => ({
      metadata: { labels: { "app.kubernetes.io/name": account } },
      spec: { serviceAccountName: account, containers: [{ name: "c", image: IMAGE }] },
    });
    const rollout = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Rollout",
      metadata: { name: "qm-responder", namespace: APPS },
      spec: {
        replicas: 1,
        selector: { matchLabels: { "app.kubernetes.io/name": QUEUE_MANAGER } },
        template: template(QUEUE_MANAGER),
        strategy: { canary: { steps: [{ pause: {} }] } },
      },
    };
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "op-responder", namespace: APPS },
      spec: { replicas: 1, selector: { matchLabels: { "app.kubernetes.io/name": OPERATOR_NAME } }, template: template(OPERATOR_NAME) },
    };
    const job = workerJob("q8-loader-producer");
    for (const object of [rollout, deployment, job])
      expect([object.kind, as("admin", object, "create", "-f", "-").ok]).toEqual([object.kind, true]);

    // Admitted: the self-healing opt-out, the operator's scale, the canary's abort, retry and promote as the plugin patches them.
    expect(responder("annotate", "job", job.metadata.name, "streamforge.io/self-healing=disabled")).toEqual({
      ok: true,
      output: `job.batch/${job.metadata.name} annotated`,
    });
    expect(responder("scale", "deployment", "op-responder", "--replicas=0")).toEqual({
      ok: true,
      output: "deployment.apps/op-responder scaled",
    });
    for (const patch of ['{"status":{"abort":true}}', '{"status":{"abort":false}}', '{"status":{"pauseConditions":null}}'])
      expect([patch, responder("patch", "rollout", "qm-responder", "--subresource=status", "--type=merge", "-p", patch)]).toEqual([
        patch,
        // "(no change)" where the status already held it: admitted all the same.
        { ok: true, output: expect.stringMatching(/^rollout\.argoproj\.io\/qm-responder patched/) },
      ]);
    expect(responder("patch", "rollout", "qm-responder", "--type=merge", "-p", '{"spec":{"paused":false}}')).toEqual({
      ok: true,
      output: "rollout.argoproj.io/qm-responder patched",
    });
    expect(responder("get", "pods,jobs,deployments,replicasets,rollouts,analysisruns,leases,events").ok).toBe(true);
    expect(responder("logs", `job/${job.metadata.name}`).output).not.toContain("forbidden");

    // Refused: the Kafka passwords, a session, a pod or Job of one's own, a new template in the canary.
    const forbidden = (verb: string, resource: string, group = "") =>
      `User "${bob}" cannot ${verb} resource "${resource}" in API group "${group}" in the namespace "${APPS}"`;
    expect(responder("get", "secret", own(loader!)).output).toContain(forbidden("get", "secrets"));
    expect(responder("get", "secrets").output).toContain(forbidden("list", "secrets"));
    const pod = await eventually(
      "the worker's pod",
      () => JSON.parse(kubectl("get", "pods", "-n", APPS, "-l", `job-name=${job.metadata.name}`, "-o", "json")).items[0],
    );
    expect(responder("exec", pod.metadata.name, "--", "true").output).toContain(forbidden("create", "pods/exec"));
    expect(as("responder", workerJob("q9-loader-producer"), "create", "-f", "-").output).toContain(forbidden("create", "jobs", "batch"));
    expect(
      responder("patch", "rollout", "qm-responder", "--type=merge", "-p", JSON.stringify({ spec: { template: template(OPERATOR_NAME) } }))
        .output,
    ).toContain(
      `ValidatingAdmissionPolicy '${WORKLOADS}' with binding '${WORKLOADS}' denied request: spec.template: expected a Rollout of the platform's pods`,
    );
    expect(responder("create", "token", QUEUE_MANAGER).output).toContain(forbidden("create", "serviceaccounts/token"));
  }, 120_000);

  it("edit and responder: no platform token on request, no ReplicaSet for queue-manager's Rollout to adopt, no delete by owner reference (an attacker's review)", async () => {
    const alice = `system:serviceaccount:${APPS}:alice`;
    // `edit` may create tokens (serviceaccounts/token): not for the platform's accounts.
    expect(as("edit", undefined, "create", "token", OPERATOR_NAME, "-n", APPS).output).toContain(
      `ValidatingAdmissionPolicy '${PLATFORM_TOKENS}' with binding '${PLATFORM_TOKENS}' denied request: serviceaccounts/token: expected a token of the platform's accounts (${accounts.platformServiceAccounts.join(", ")}) only for their pods (the kubelet) or the deployers; found a request for ${OPERATOR_NAME} by ${alice}`,
    );
    // A worker's token is the worker's to ask for (it holds no Role).
    expect(as("edit", undefined, "create", "token", loader!, "-n", APPS).ok).toBe(true);
    // A ReplicaSet of its own template labelled as queue-manager's current version: Argo would adopt it as stable.
    const adoptable = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: "rv-fake",
        namespace: APPS,
        labels: { "app.kubernetes.io/name": QUEUE_MANAGER, "rollouts-pod-template-hash": "fff64b56b" },
      },
      spec: {
        replicas: 0,
        selector: { matchLabels: { rv: "fake" } },
        template: {
          metadata: { labels: { rv: "fake" } },
          spec: { containers: [{ name: QUEUE_MANAGER, image: "docker.io/attacker/any:latest" }] },
        },
      },
    };
    expect(dryRun("edit", adoptable).output).toContain(
      `ValidatingAdmissionPolicy '${WORKLOADS}' with binding '${WORKLOADS}' denied request: spec.template: expected a ReplicaSet of the platform's pods`,
    );
    // An owner that does not exist, on queue-manager's Rollout: the garbage collector would delete it.
    const rollout = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Rollout",
      metadata: { name: "qm-owned", namespace: APPS },
      spec: {
        replicas: 0,
        selector: { matchLabels: { "app.kubernetes.io/name": QUEUE_MANAGER } },
        template: {
          metadata: { labels: { "app.kubernetes.io/name": QUEUE_MANAGER } },
          spec: { serviceAccountName: QUEUE_MANAGER, containers: [{ name: "c", image: IMAGE }] },
        },
        strategy: { canary: { steps: [{ pause: {} }] } },
      },
    };
    expect(as("admin", rollout, "create", "-f", "-").ok).toBe(true);
    const owner = JSON.stringify({
      metadata: { ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "gone", uid: "00000000-0000-0000-0000-000000000001" }] },
    });
    expect(as("responder", undefined, "patch", "rollout", "qm-owned", "-n", APPS, "--type=merge", "-p", owner).output).toContain(
      `ValidatingAdmissionPolicy '${WORKLOADS}' with binding '${WORKLOADS}' denied request: metadata.ownerReferences: expected a Rollout of the platform's pods`,
    );
    expect(kubectl("get", "rollout", "qm-owned", "-n", APPS, "-o", "jsonpath={.metadata.ownerReferences}")).toBe("");
  });
});
