/**
 * The apps namespaces' workload guard: who owns which credentials in each committed stack, every
 * pod the stacks declare there admitted, and each way around it refused, with its CEL evaluated
 * locally (test/cel.ts). infra/cluster/test/attack.itest.ts tries the same with the real tokens
 * against the real API server.
 */
import { createPlatform } from "../../platform";
import { knownStacks, runUnderMocks } from "../../render/render";
import { REPLICASET_CONTROLLER_USERS, platformPodAccessGuard, workloadAccounts, workloadGuard } from "../workload-guard-spec";
import { serviceGuard } from "../platform-workloads-spec";
import { OPERATOR_NAME } from "../../self-healing/manifests";
import { admit } from "../../../test/cel";
import { committedConfig } from "../../../test/helpers";

const ACCOUNTS = workloadAccounts({
  users: [
    { name: "queue-manager", service: "queue-manager" },
    { name: "loaders", service: "loader" },
    { name: "arango-connector", service: "arango-connector" },
    { name: "self-healing-operator", service: "self-healing-operator" },
  ],
  operator: {
    serviceAccount: "streamforge-self-healing-operator",
    kafkaUser: "self-healing-operator",
    pullSecrets: ["operator-pull"],
    relaunchGuard: { serviceAccount: "streamforge-relaunch-guard", secrets: ["streamforge-relaunch-guard-tls"] },
  },
  queueManager: { serviceAccount: "queue-manager", kafkaUser: "queue-manager" },
});
const guard = workloadGuard({
  namespaces: ["stf"],
  namePrefix: "streamforge-stf",
  priorityClasses: ["stf-batch"],
  runtimeClasses: ["gvisor"],
  csiDrivers: ["secrets-store.csi.k8s.io"],
  volumeClaims: ["shared-cache"],
  ...ACCOUNTS,
});
const REPLICASET_CONTROLLER = REPLICASET_CONTROLLER_USERS[0]!;

const workerJob = (edit: (pod: any) => void = () => {}) => {
  const pod: any = {
    restartPolicy: "Never",
    containers: [
      { name: "loader-producer", image: "ghcr.io/olehkondratow/streamforge-loader:1.0.0", env: [{ name: "QUEUE_ID", value: "q1" }] },
    ],
  };
  edit(pod);
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "q1-loader-producer", namespace: "stf" },
    spec: { template: { spec: pod } },
  };
};
const asJob = (job: object, username = "system:serviceaccount:stf:queue-manager") =>
  admit(guard.policy, { operation: "CREATE", object: job, kind: { kind: "Job" }, userInfo: { username }, namespace: "stf" });
const asPod = (spec: object, username = REPLICASET_CONTROLLER) =>
  admit(guard.policy, { operation: "CREATE", object: { metadata: { name: "p" }, spec }, kind: { kind: "Pod" }, userInfo: { username } });

describe("who owns which credentials", () => {
  it("gives the operator and queue-manager their own users, and every other user to the account named after its service", () => {
    expect(ACCOUNTS).toEqual({
      credentials: {
        "queue-manager": ["queue-manager"],
        loader: ["loaders"],
        "arango-connector": ["arango-connector"],
        "streamforge-self-healing-operator": ["self-healing-operator", "operator-pull"],
        "streamforge-relaunch-guard": ["streamforge-relaunch-guard-tls"],
      },
      workerServiceAccounts: ["default", "arango-connector", "loader"],
      platformServiceAccounts: ["queue-manager", "streamforge-self-healing-operator", "streamforge-relaunch-guard"],
      launcherServiceAccount: "queue-manager",
    });
  });

  it("lets queue-manager launch Jobs as default only: a worker's account would give it that worker's credentials", () => {
    const asLoader = workerJob((pod) => {
      pod.serviceAccountName = "loader";
      pod.containers[0].env.push({ name: "KAFKA_PASSWORD", valueFrom: { secretKeyRef: { name: "loaders", key: "password" } } });
    });
    const launch = (username: string) =>
      admit(guard.policy, { operation: "CREATE", object: asLoader, kind: { kind: "Job" }, userInfo: { username }, namespace: "stf" });
    expect(launch("system:serviceaccount:stf:queue-manager")).toBe(
      "spec.template.spec.serviceAccountName: expected default in a Job queue-manager launches (its launcher names no account); found loader",
    );
    expect(launch("alice")).toBe("admitted");
    expect(asJob(workerJob())).toBe("admitted");
  });

  it("refuses a worker account that is a platform one, and a Secret with two owners", () => {
    expect(() =>
      workloadGuard({
        ...ACCOUNTS,
        namespaces: ["stf"],
        namePrefix: "x",
        priorityClasses: [],
        runtimeClasses: [],
        csiDrivers: [],
        volumeClaims: [],
        workerServiceAccounts: ["default", "queue-manager"],
      }),
    ).toThrow(
      "workerServiceAccounts: expected none of the platform's accounts (queue-manager, streamforge-self-healing-operator, streamforge-relaunch-guard); found queue-manager",
    );
    expect(() =>
      workloadGuard({
        ...ACCOUNTS,
        namespaces: ["stf"],
        namePrefix: "x",
        priorityClasses: [],
        runtimeClasses: [],
        csiDrivers: [],
        volumeClaims: [],
        credentials: { a: ["s"], b: ["s"] },
      }),
    ).toThrow("credentials: expected one owner per Secret; found s owned by a and b");
  });
});

describe("the guard's CEL, evaluated locally", () => {
  it("admits queue-manager's Job as it launches it, a worker with its own credentials (a person's), and the platform's pods from their ReplicaSet", () => {
    expect(asJob(workerJob())).toBe("admitted");
    const own = workerJob((pod) => {
      pod.serviceAccountName = "loader";
      pod.containers[0].env.push({ name: "KAFKA_PASSWORD", valueFrom: { secretKeyRef: { name: "loaders", key: "password" } } });
      pod.volumes = [{ name: "ca", secret: { secretName: "k3-cluster-ca-cert" } }];
    });
    expect(asJob(own, "alice")).toBe("admitted");
    const operatorPod = {
      serviceAccountName: "streamforge-self-healing-operator",
      imagePullSecrets: [{ name: "operator-pull" }],
      containers: [
        {
          name: "operator",
          image: "x",
          env: [{ name: "P", valueFrom: { secretKeyRef: { name: "self-healing-operator", key: "password" } } }],
        },
      ],
      volumes: [
        { name: "kube-api-access-abcde", projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: "token" } }] } },
      ],
    };
    expect(asPod(operatorPod)).toBe("admitted");
  });

  it.each<[string, object, string]>([
    [
      "another app's credentials through a volume",
      workerJob((pod) => (pod.volumes = [{ name: "k", secret: { secretName: "queue-manager" } }])),
      "spec.template.spec.*: expected only the Kafka credentials of the pod's own ServiceAccount; found queue-manager (owned by queue-manager) in a pod running as default",
    ],
    [
      "another worker's credentials through secretKeyRef",
      workerJob((pod) => {
        pod.serviceAccountName = "loader";
        pod.containers[0].env.push({ name: "P", valueFrom: { secretKeyRef: { name: "arango-connector", key: "password" } } });
      }),
      "spec.template.spec.*: expected only the Kafka credentials of the pod's own ServiceAccount; found arango-connector (owned by arango-connector) in a pod running as loader",
    ],
    [
      "the operator's credentials through envFrom and a projected volume",
      workerJob((pod) => {
        pod.containers[0].envFrom = [{ secretRef: { name: "self-healing-operator" } }];
        pod.volumes = [{ name: "p", projected: { sources: [{ secret: { name: "operator-pull" } }] } }];
      }),
      "spec.template.spec.*: expected only the Kafka credentials of the pod's own ServiceAccount; found operator-pull (owned by streamforge-self-healing-operator), self-healing-operator (owned by streamforge-self-healing-operator) in a pod running as default",
    ],
    [
      "queue-manager's account",
      workerJob((pod) => (pod.serviceAccountName = "queue-manager")),
      "spec.template.spec.serviceAccountName: expected a worker's ServiceAccount (default, arango-connector, loader); found queue-manager",
    ],
    [
      "an API token in a worker",
      workerJob((pod) => (pod.automountServiceAccountToken = true)),
      "spec.template.spec.automountServiceAccountToken, volumes[].projected.sources[].serviceAccountToken: expected no API token in a worker's pod; found automountServiceAccountToken: true",
    ],
    [
      "a projected token for another audience",
      workerJob(
        (pod) => (pod.volumes = [{ name: "t", projected: { sources: [{ serviceAccountToken: { audience: "vault", path: "t" } }] } }]),
      ),
      "spec.template.spec.automountServiceAccountToken, volumes[].projected.sources[].serviceAccountToken: expected no API token in a worker's pod; found token t:vault",
    ],
    [
      "root",
      workerJob((pod) => (pod.securityContext = { runAsUser: 0 })),
      "spec.template.spec.securityContext.runAsUser, runAsNonRoot: expected a non-root user (runAsUser not 0, runAsNonRoot not false); found root in the pod ",
    ],
    [
      "root in a container",
      workerJob((pod) => (pod.containers[0].securityContext = { runAsNonRoot: false })),
      "spec.template.spec.securityContext.runAsUser, runAsNonRoot: expected a non-root user (runAsUser not 0, runAsNonRoot not false); found root in containers[loader-producer]",
    ],
    [
      "a privileged container",
      workerJob((pod) => (pod.containers[0].securityContext = { privileged: true })),
      "spec.template.spec.*containers[].securityContext.privileged, allowPrivilegeEscalation: expected false or unset; found true in containers[loader-producer]",
    ],
    [
      "added capabilities",
      workerJob((pod) => (pod.containers[0].securityContext = { capabilities: { add: ["SYS_ADMIN", "NET_BIND_SERVICE"] } })),
      "spec.template.spec.*containers[].securityContext.capabilities.add: expected at most NET_BIND_SERVICE; found containers[loader-producer] SYS_ADMIN,NET_BIND_SERVICE",
    ],
    [
      "the host's namespaces, paths and ports",
      workerJob((pod) => {
        Object.assign(pod, { hostPID: true, volumes: [{ name: "root", hostPath: { path: "/" } }] });
        pod.containers[0].ports = [{ containerPort: 80, hostPort: 80 }];
      }),
      "spec.template.spec.hostNetwork, hostPID, hostIPC, volumes[].hostPath, *containers[].ports[].hostPort: expected none of the host's; found hostPID, hostPath root, containers[loader-producer]",
    ],
    [
      "a named node and tolerations of everything and the control plane",
      workerJob((pod) =>
        Object.assign(pod, {
          nodeName: "cp-1",
          tolerations: [{ operator: "Exists" }, { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
        }),
      ),
      "spec.template.spec.nodeName, nodeSelector, affinity, tolerations: expected no node named (nodeName, kubernetes.io/hostname, metadata.name, a pod affinity per host) and no toleration of every taint or of the nodes kept for the cluster (node-role.kubernetes.io/control-plane, node-role.kubernetes.io/master, node-role.kubernetes.io/etcd, CriticalAddonsOnly); found nodeName cp-1, toleration of every taint, toleration of node-role.kubernetes.io/control-plane",
    ],
    [
      "a priority class that preempts the brokers",
      workerJob((pod) => (pod.priorityClassName = "system-node-critical")),
      "spec.template.spec.priorityClassName, schedulingGroup: expected none or one of stf-batch (streamforge:apps.priorityClasses) and no scheduling group, whose PodGroup's class would decide what the pod preempts; found system-node-critical",
    ],
    [
      "the node's GPU runtime and a device claim",
      workerJob((pod) =>
        Object.assign(pod, { runtimeClassName: "nvidia", resourceClaims: [{ name: "gpu", resourceClaimName: "all-gpus" }] }),
      ),
      "spec.template.spec.runtimeClassName, resourceClaims, *containers[].resources: expected none or one of gvisor (streamforge:apps.runtimeClasses), no device claims and no resources beyond cpu, memory, ephemeral-storage, hugepages-*; found nvidia, resourceClaims gpu",
    ],
    [
      "a device plugin's GPUs and a DRA device class's extended resource, with no claim",
      workerJob(
        (pod) =>
          (pod.containers[0].resources = { limits: { cpu: "1", "nvidia.com/gpu": "1" }, requests: { "gpu.example.com/device": "1" } }),
      ),
      "spec.template.spec.runtimeClassName, resourceClaims, *containers[].resources: expected none or one of gvisor (streamforge:apps.runtimeClasses), no device claims and no resources beyond cpu, memory, ephemeral-storage, hugepages-*; found containers[loader-producer]",
    ],
    [
      "a required pod affinity per host, beside queue-manager's pods",
      workerJob(
        (pod) =>
          (pod.affinity = {
            podAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { labelSelector: { matchLabels: { "app.kubernetes.io/name": "queue-manager" } }, topologyKey: "kubernetes.io/hostname" },
              ],
            },
          }),
      ),
      "spec.template.spec.nodeName, nodeSelector, affinity, tolerations: expected no node named (nodeName, kubernetes.io/hostname, metadata.name, a pod affinity per host) and no toleration of every taint or of the nodes kept for the cluster (node-role.kubernetes.io/control-plane, node-role.kubernetes.io/master, node-role.kubernetes.io/etcd, CriticalAddonsOnly); found podAffinity per host",
    ],
    [
      "a PodGroup, whose class the pod would preempt with",
      workerJob((pod) => (pod.schedulingGroup = { podGroupName: "high" })),
      "spec.template.spec.priorityClassName, schedulingGroup: expected none or one of stf-batch (streamforge:apps.priorityClasses) and no scheduling group, whose PodGroup's class would decide what the pod preempts; found schedulingGroup high",
    ],
    [
      "a node chosen by its hostname label, or by name in a required affinity, and the nodes kept for the cluster's add-ons and etcd",
      workerJob((pod) =>
        Object.assign(pod, {
          nodeSelector: { "kubernetes.io/hostname": "cp-1" },
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["cp-1"] }] }],
              },
            },
          },
          tolerations: [
            { key: "CriticalAddonsOnly", operator: "Exists" },
            { key: "node-role.kubernetes.io/etcd", operator: "Exists" },
          ],
        }),
      ),
      "spec.template.spec.nodeName, nodeSelector, affinity, tolerations: expected no node named (nodeName, kubernetes.io/hostname, metadata.name, a pod affinity per host) and no toleration of every taint or of the nodes kept for the cluster (node-role.kubernetes.io/control-plane, node-role.kubernetes.io/master, node-role.kubernetes.io/etcd, CriticalAddonsOnly); found nodeSelector kubernetes.io/hostname, nodeAffinity on named nodes, toleration of CriticalAddonsOnly, toleration of node-role.kubernetes.io/etcd",
    ],
    [
      "another app's credentials through a CSI secret reference",
      workerJob(
        (pod) =>
          (pod.volumes = [{ name: "c", csi: { driver: "secrets-store.csi.k8s.io", nodePublishSecretRef: { name: "queue-manager" } } }]),
      ),
      "spec.template.spec.*: expected only the Kafka credentials of the pod's own ServiceAccount; found queue-manager (owned by queue-manager) in a pod running as default",
    ],
    [
      // What a driver serves is its own business: a secrets store's volume reads any path its SecretProviderClass names.
      "an inline volume of a CSI driver the stack does not list",
      workerJob(
        (pod) => (pod.volumes = [{ name: "vault", csi: { driver: "vault.hashicorp.com", volumeAttributes: { roleName: "admin" } } }]),
      ),
      "spec.template.spec.volumes[].csi.driver: expected one of secrets-store.csi.k8s.io (streamforge:apps.csiDrivers); found vault (vault.hashicorp.com)",
    ],
    [
      // A claim holds what its workload wrote (a database's data): by name, any pod could mount another's.
      "a claim volume the stack does not list",
      workerJob((pod) => (pod.volumes = [{ name: "data", persistentVolumeClaim: { claimName: "arangodb-data" } }])),
      "spec.template.spec.volumes[].persistentVolumeClaim.claimName: expected one of shared-cache (streamforge:apps.volumeClaims); found data (arangodb-data)",
    ],
    [
      "a volume type whose Secret references the guard does not follow",
      workerJob((pod) => (pod.volumes = [{ name: "f", flexVolume: { driver: "x", secretRef: { name: "queue-manager" } } }])),
      "spec.template.spec.volumes[]: expected only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret volumes; found f",
    ],
  ])("refuses a Job with %s", (_, job, message) => {
    expect(asJob(job)).toBe(message);
  });

  it("admits a choice of zone or of dedicated nodes, and a priority class, runtime class, CSI driver and claim the stack lists", () => {
    const placed = workerJob((pod) =>
      Object.assign(pod, {
        nodeSelector: { "topology.kubernetes.io/zone": "eu-1a" },
        tolerations: [{ key: "dedicated", operator: "Equal", value: "stf", effect: "NoSchedule" }],
        priorityClassName: "stf-batch",
        runtimeClassName: "gvisor",
        volumes: [
          { name: "store", csi: { driver: "secrets-store.csi.k8s.io", readOnly: true } },
          { name: "cache", persistentVolumeClaim: { claimName: "shared-cache" } },
          // A generic ephemeral volume: a claim of its own, made for the pod.
          {
            name: "scratch",
            ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } } },
          },
        ],
      }),
    );
    expect(asJob(placed)).toBe("admitted");
    // Affinity that avoids a node, and memory and hugepages, choose no node and no device.
    const avoiding = workerJob((pod) => {
      pod.affinity = {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "NotIn", values: ["cp-1"] }] }],
          },
        },
      };
      pod.containers[0].resources = { limits: { memory: "1Gi", "hugepages-2Mi": "64Mi" } };
    });
    expect(asJob(avoiding)).toBe("admitted");
  });

  it("refuses a worker labelled as a platform pod (it would get that pod's egress and traffic), and admits the platform's own pods", () => {
    const disguised = workerJob();
    (disguised.spec.template as any).metadata = { labels: { "app.kubernetes.io/name": "queue-manager" } };
    expect(asJob(disguised)).toBe(
      "spec.template.metadata.labels: expected no app.kubernetes.io/name of the platform's (queue-manager, streamforge-self-healing-operator, streamforge-relaunch-guard) and no rollouts-pod-template-hash outside their ReplicaSets; found queue-manager",
    );
    const hashed = {
      metadata: { name: "p", labels: { "rollouts-pod-template-hash": "7d9f" } },
      spec: { containers: [{ name: "x", image: "x" }] },
    };
    expect(admit(guard.policy, { operation: "CREATE", object: hashed, kind: { kind: "Pod" }, userInfo: { username: "alice" } })).toBe(
      "metadata.labels: expected no app.kubernetes.io/name of the platform's (queue-manager, streamforge-self-healing-operator, streamforge-relaunch-guard) and no rollouts-pod-template-hash outside their ReplicaSets; found rollouts-pod-template-hash",
    );
    const qmPod = {
      metadata: { name: "qm", labels: { "app.kubernetes.io/name": "queue-manager", "rollouts-pod-template-hash": "7d9f" } },
      spec: { serviceAccountName: "queue-manager", containers: [{ name: "x", image: "x" }] },
    };
    expect(
      admit(guard.policy, { operation: "CREATE", object: qmPod, kind: { kind: "Pod" }, userInfo: { username: REPLICASET_CONTROLLER } }),
    ).toBe("admitted");
  });

  it("refuses a platform account in a pod not made by a ReplicaSet, and in a CronJob", () => {
    const pod = { serviceAccountName: "streamforge-self-healing-operator", containers: [{ name: "x", image: "x" }] };
    expect(asPod(pod, "alice")).toBe(
      "spec.serviceAccountName: expected a worker's ServiceAccount (default, arango-connector, loader); found streamforge-self-healing-operator",
    );
    const cron = {
      kind: "CronJob",
      metadata: { name: "c" },
      spec: { jobTemplate: { spec: { template: { spec: { ...pod, serviceAccountName: "queue-manager" } } } } },
    };
    expect(admit(guard.policy, { operation: "CREATE", object: cron, kind: { kind: "CronJob" }, userInfo: { username: "alice" } })).toBe(
      "spec.jobTemplate.spec.template.spec.serviceAccountName: expected a worker's ServiceAccount (default, arango-connector, loader); found queue-manager",
    );
  });
});

describe("pods after admission: updates and debug containers", () => {
  const qmPod = {
    metadata: { name: "qm", labels: { "app.kubernetes.io/name": "queue-manager", "rollouts-pod-template-hash": "7d9f" } },
    spec: { serviceAccountName: "queue-manager", nodeName: "n1", containers: [{ name: "qm", image: "queue-manager:1" }] },
  };
  const worker = {
    metadata: { name: "q1-loader-producer-abcde", labels: { "batch.kubernetes.io/job-name": "q1-loader-producer" } },
    spec: { serviceAccountName: "loader", nodeName: "n1", containers: [{ name: "loader-producer", image: "loader:1" }] },
  };
  const update = (oldObject: any, change: (p: any) => void, username = "alice", subResource?: string) => {
    const object = JSON.parse(JSON.stringify(oldObject));
    change(object);
    return admit(guard.policy, {
      operation: "UPDATE",
      object,
      oldObject,
      kind: { kind: "Pod" },
      userInfo: { username },
      ...(subResource ? { subResource } : {}),
    });
  };
  const debug = (c: object) => (p: any) => (p.spec.ephemeralContainers = [{ name: "debugger", image: "busybox", ...c }]);

  it("refuses a new image or a debug container in a platform pod by anyone but its ReplicaSet", () => {
    expect(update(qmPod, (p) => (p.spec.containers[0].image = "evil:1"))).toBe(
      "spec: expected a pod of the platform's accounts (queue-manager, streamforge-self-healing-operator, streamforge-relaunch-guard) to change only by its ReplicaSet; found a change of its spec by alice",
    );
    expect(update(qmPod, debug({ securityContext: { runAsNonRoot: true } }), "alice", "ephemeralcontainers")).toBe(
      "spec.ephemeralContainers: expected a pod of the platform's accounts (queue-manager, streamforge-self-healing-operator, streamforge-relaunch-guard) to change only by its ReplicaSet; found a debug container by alice",
    );
    expect(update(qmPod, (p) => (p.spec.containers[0].image = "queue-manager:2"), REPLICASET_CONTROLLER)).toBe("admitted");
  });

  it("admits metadata-only updates of any pod (the Job controller's finalizers, a person's labels), but not a platform label", () => {
    expect(update(qmPod, (p) => (p.metadata.labels.team = "ingest"))).toBe("admitted");
    expect(update(worker, (p) => (p.metadata.finalizers = []), "system:serviceaccount:kube-system:job-controller")).toBe("admitted");
    // Even a pod the guard would refuse today (admitted before a config change): its finalizers can still go.
    const older = { ...worker, spec: { ...worker.spec, securityContext: { runAsUser: 0 } } };
    expect(update(older, (p) => (p.metadata.finalizers = []), "system:serviceaccount:kube-system:job-controller")).toBe("admitted");
    expect(update(worker, (p) => (p.metadata.labels["app.kubernetes.io/name"] = "queue-manager"))).toBe(
      "metadata.labels: expected no app.kubernetes.io/name of the platform's (queue-manager, streamforge-self-healing-operator, streamforge-relaunch-guard) and no rollouts-pod-template-hash outside their ReplicaSets; found queue-manager",
    );
    expect(update(qmPod, (p) => (p.metadata.labels["rollouts-pod-template-hash"] = "stable1"))).toBe(
      "metadata.labels: expected no app.kubernetes.io/name of the platform's (queue-manager, streamforge-self-healing-operator, streamforge-relaunch-guard) and no rollouts-pod-template-hash outside their ReplicaSets; found queue-manager, rollouts-pod-template-hash",
    );
  });

  it("refuses a node chosen by an update of a pod still waiting on a scheduling gate", () => {
    const gated = { ...worker, spec: { ...worker.spec, nodeName: undefined, schedulingGates: [{ name: "example.com/hold" }] } };
    delete (gated.spec as any).nodeName;
    expect(update(gated, (p) => (p.spec.nodeSelector = { "kubernetes.io/hostname": "cp-1" }))).toBe(
      "spec.nodeName, nodeSelector, affinity, tolerations: expected no node named (nodeName, kubernetes.io/hostname, metadata.name, a pod affinity per host) and no toleration of every taint or of the nodes kept for the cluster (node-role.kubernetes.io/control-plane, node-role.kubernetes.io/master, node-role.kubernetes.io/etcd, CriticalAddonsOnly); found nodeSelector kubernetes.io/hostname",
    );
    // A zone chosen by the same update is the worker's choice.
    expect(update(gated, (p) => (p.spec.nodeSelector = { "topology.kubernetes.io/zone": "eu-1a" }))).toBe("admitted");
  });

  it("checks a worker's debug container as any of its containers: non-root, unprivileged, its own credentials only", () => {
    const restricted = { securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } };
    expect(update(worker, debug(restricted), "alice", "ephemeralcontainers")).toBe("admitted");
    expect(update(worker, debug({ securityContext: { privileged: true } }), "alice", "ephemeralcontainers")).toBe(
      "spec.*containers[].securityContext.privileged, allowPrivilegeEscalation: expected false or unset; found true in ephemeralContainers[debugger]",
    );
    expect(update(worker, debug({ securityContext: { runAsUser: 0 } }), "alice", "ephemeralcontainers")).toBe(
      "spec.securityContext.runAsUser, runAsNonRoot: expected a non-root user (runAsUser not 0, runAsNonRoot not false); found root in ephemeralContainers[debugger]",
    );
    const stolen = { env: [{ name: "P", valueFrom: { secretKeyRef: { name: "queue-manager", key: "password" } } }] };
    expect(update(worker, debug(stolen), "alice", "ephemeralcontainers")).toBe(
      "spec.*: expected only the Kafka credentials of the pod's own ServiceAccount; found queue-manager (owned by queue-manager) in a pod running as loader",
    );
  });
});

describe("sessions into the platform's pods", () => {
  const access = platformPodAccessGuard({ namespaces: ["stf"], namePrefix: "streamforge-stf", ...ACCOUNTS });
  const connect = (name: string, subResource: string) =>
    admit(access.policy, {
      operation: "CONNECT",
      kind: { kind: "PodExecOptions" },
      resource: { group: "", version: "v1", resource: "pods" },
      subResource,
      name,
    });

  it("refuses exec, attach and port-forward into queue-manager's and the operator's pods, and admits them into workers'", () => {
    expect(connect("queue-manager-7d9f6c5b4-x2x7q", "exec")).toBe(
      "pods/exec: expected no session into the platform's pods (queue-manager, streamforge-self-healing-operator, streamforge-relaunch-guard): their tokens carry Roles; found queue-manager-7d9f6c5b4-x2x7q",
    );
    expect(connect("streamforge-self-healing-operator-5f7d8-abcde", "attach")).toContain("pods/attach: expected no session");
    expect(connect("queue-manager-7d9f6c5b4-x2x7q", "portforward")).toContain("pods/portforward: expected no session");
    expect(connect("q1-loader-producer-abcde", "exec")).toBe("admitted");
  });

  it("refuses the API server's proxy to any Service there (one selecting queue-manager would reach it past its NetworkPolicies)", () => {
    const proxy = admit(access.policy, {
      operation: "CONNECT",
      kind: { kind: "ServiceProxyOptions" },
      resource: { group: "", version: "v1", resource: "services" },
      subResource: "proxy",
      name: "qm-copy",
    });
    expect(proxy).toBe(
      "services/proxy: expected no proxy through the API server into the apps namespaces (it reaches the pods a Service selects past their NetworkPolicies); found qm-copy",
    );
  });
});

describe("Services in the apps namespaces", () => {
  it.each(knownStacks())("%s: every Service the stack declares there is one the guard admits", async (stack) => {
    const config = committedConfig(stack);
    const { resources } = await runUnderMocks({ project: "streamforge", stack, config: {} }, () => void createPlatform(config));
    const policy = resources
      .map((r) => r.inputs as any)
      .find((o) => o.kind === "ValidatingAdmissionPolicy" && o.metadata.name.endsWith("-apps-cluster-services"));
    const deployer = { username: config.apps.deployers!.users[0] ?? "ci", groups: config.apps.deployers!.groups.slice(0, 1) };
    const declared = resources
      .map((r) => r.inputs as any)
      .filter((o) => o.kind === "Service" && o.metadata?.namespace === config.apps.namespace);
    for (const svc of declared)
      expect([svc.metadata.name, admit(policy, { operation: "CREATE", object: svc, userInfo: deployer })]).toEqual([
        svc.metadata.name,
        "admitted",
      ]);
    // queue-manager's Services, where the stack has the canary, were among them; the relaunch guard's is in its own namespace.
    expect(declared.map((s) => s.metadata.name).sort()).toEqual(config.rollouts?.enabled ? ["queue-manager", "queue-manager-canary"] : []);
    expect(admit(policy, { operation: "CREATE", object: { metadata: { name: "lb" }, spec: { type: "LoadBalancer" } } })).toBe(
      "spec.type, spec.externalIPs: expected a ClusterIP Service without external IPs in the apps namespaces; found LoadBalancer",
    );
  });

  it("a platform Service is written only by the deployers (and Argo's controller): edit cannot point it at a pod of its own", () => {
    const ALICE = "alice";
    const policy = serviceGuard({
      namespaces: ["stf"],
      namePrefix: "x",
      platformServiceAccounts: ["queue-manager", "streamforge-self-healing-operator", "streamforge-relaunch-guard"],
      deployers: { users: ["ci-deployer"], groups: [] },
      rolloutsController: "system:serviceaccount:argo-rollouts:argo-rollouts",
    }).policy;
    const guardService = {
      metadata: { name: "streamforge-relaunch-guard" },
      spec: { selector: { "app.kubernetes.io/name": "streamforge-relaunch-guard" }, ports: [{ port: 443 }] },
    };
    const mine = { ...guardService, spec: { ...guardService.spec, selector: { app: "mine" } } };
    const refused = (by: string, what: string) =>
      `spec: expected a Service of the platform's pods (queue-manager, streamforge-self-healing-operator, streamforge-relaunch-guard) to be written only by the deployers or Argo Rollouts' controller; found ${what} by ${by}`;
    const as = (username: string) => ({ username, groups: [] });
    expect(admit(policy, { operation: "UPDATE", object: mine, oldObject: guardService, userInfo: as(ALICE) })).toBe(
      refused(ALICE, "a change"),
    );
    expect(admit(policy, { operation: "CREATE", object: guardService, userInfo: as(ALICE) })).toBe(refused(ALICE, "one created"));
    expect(admit(policy, { operation: "UPDATE", object: mine, oldObject: guardService, userInfo: as("ci-deployer") })).toBe("admitted");
    // Argo's controller moves queue-manager's selector to a new ReplicaSet's hash.
    const stable = { metadata: { name: "queue-manager" }, spec: { selector: { "app.kubernetes.io/name": "queue-manager" } } };
    const moved = { ...stable, spec: { selector: { ...stable.spec.selector, "rollouts-pod-template-hash": "abc" } } };
    expect(
      admit(policy, {
        operation: "UPDATE",
        object: moved,
        oldObject: stable,
        userInfo: as("system:serviceaccount:argo-rollouts:argo-rollouts"),
      }),
    ).toBe("admitted");
    // Deleted to be made again elsewhere: refused; the namespace controller's cleanup is not.
    expect(admit(policy, { operation: "DELETE", oldObject: guardService, userInfo: as(ALICE) })).toBe(refused(ALICE, "a deletion"));
    expect(
      admit(policy, {
        operation: "DELETE",
        oldObject: guardService,
        userInfo: as("system:serviceaccount:kube-system:namespace-controller"),
      }),
    ).toBe("admitted");
    // Labels and annotations stay open; a worker's own Service too.
    const labelled = { ...guardService, metadata: { ...guardService.metadata, labels: { team: "a" } } };
    expect(admit(policy, { operation: "UPDATE", object: labelled, oldObject: guardService, userInfo: as(ALICE) })).toBe("admitted");
    expect(admit(policy, { operation: "CREATE", object: mine, userInfo: as(ALICE) })).toBe("admitted");
  });
});

describe("the guard in the stacks", () => {
  it.each(knownStacks())("%s: every pod the stack declares in its apps namespaces is admitted", async (stack) => {
    const config = committedConfig(stack);
    const { resources } = await runUnderMocks({ project: "streamforge", stack, config: {} }, () => void createPlatform(config));
    const inputs = resources.map((r) => r.inputs as any);
    const policy = inputs.find((o) => o.kind === "ValidatingAdmissionPolicy" && o.metadata.name.endsWith("-apps-workload-guard"));
    const [binding] = inputs.filter((o) => o.kind === "ValidatingAdmissionPolicyBinding" && o.spec.policyName === policy.metadata.name);
    const namespaces: string[] = binding.spec.matchResources.namespaceSelector.matchExpressions[0].values;
    expect(namespaces).toContain(config.apps.namespace);
    const checked: string[] = [];
    for (const o of inputs) {
      if (!namespaces.includes(o.metadata?.namespace)) continue;
      const template = o.kind === "CronJob" ? o.spec.jobTemplate.spec.template : o.spec?.template;
      if (!template?.spec?.containers) continue;
      const kind = ["Job", "CronJob"].includes(o.kind) ? o.kind : "Pod";
      const object = kind === "Pod" ? { metadata: o.metadata, spec: template.spec } : o;
      checked.push(`${o.kind}/${o.metadata.name}`);
      expect([
        o.kind,
        o.metadata.name,
        admit(policy, { operation: "CREATE", object, kind: { kind }, userInfo: { username: REPLICASET_CONTROLLER } }),
      ]).toEqual([o.kind, o.metadata.name, "admitted"]);
    }
    // What runs there was checked: the operator's Deployment and queue-manager's Rollout where the stack has them.
    expect(checked).toEqual(
      expect.arrayContaining([
        ...(config.operator?.enabled ? [`Deployment/${OPERATOR_NAME}`] : []),
        ...(config.rollouts?.enabled ? ["Rollout/queue-manager"] : []),
      ]),
    );
    expect(checked.length).toBeGreaterThan(0);
  });
});
