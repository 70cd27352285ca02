/**
 * The chaos delete guard in the REAL API server, tried with each fault account's own token
 * (TokenRequest) and the Roles the stack gives them: pod-delete deletes a worker Job's pod and a
 * tolerated broker, and nothing else it could reach (queue-manager's pod, a controller, a
 * worker-named pod no Job owns); network latency removes its helpers and nothing else. Pods are
 * made as they are in a cluster: the worker's by the Job controller, queue-manager's by its
 * ReplicaSet.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { podSecurityLabels } from "../../infra/kit/namespaces";
import { committedConfig } from "../../test/helpers";
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
} from "../../test/integration/local-platform";
import { chaosDeleteGuard } from "../delete-guard";
import { WORKER_POD_PATTERN, brokerPodPattern } from "../guard";
import { FAULTS, experimentRbac, serviceAccountName } from "../spec";
import { helperPod } from "./pod-guard-cases";

const run = randomBytes(3).toString("hex");
const CHAOS = `chaos-del-${run}`;
const APPS = `chaos-del-apps-${run}`;
const KAFKA = `chaos-del-kafka-${run}`;
const chaos = committedConfig("dev").chaos!;
const guard = chaosDeleteGuard({
  chaosNamespace: CHAOS,
  appsNamespace: APPS,
  kafkaNamespace: KAFKA,
  workerPodPattern: WORKER_POD_PATTERN,
  kafkaPodPattern: brokerPodPattern("k3", "brokers"),
  namePrefix: `streamforge-${CHAOS}`,
});
const POLICY = guard.policy.metadata.name;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chaos-del-"));
const tokens: Record<string, string> = {};
const as = (fault: string, ...args: string[]) => kubectlWith(tokens[fault], undefined, ...args);
const REFUSED = `ValidatingAdmissionPolicy '${POLICY}' with binding '${POLICY}' denied request: pods: expected only what the faults target`;
const user = (fault: string) => `system:serviceaccount:${CHAOS}:${serviceAccountName(fault as never)}`;
const bare = (namespace: string, name: string, extra: object = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace },
  spec: { containers: [{ name: "c", image: "registry.local/x:1" }], ...extra },
});
/** Present and not being deleted (a pod bound to a node waits for its kubelet once deleted). */
const exists = (namespace: string, pod: string) => {
  const found = kubectl("get", "pod", pod, "-n", namespace, "--ignore-not-found", "-o", "json").trim();
  return found !== "" && JSON.parse(found).metadata.deletionTimestamp === undefined;
};

beforeAll(async () => {
  requireEnv("KUBECONFIG");
  for (const ns of [CHAOS, APPS, KAFKA]) kubectl("create", "namespace", ns);
  kubectl("label", "namespace", CHAOS, ...Object.entries(podSecurityLabels("privileged")).map(([k, v]) => `${k}=${v}`));
  const rbac = FAULTS.flatMap((fault) => {
    const r = experimentRbac(fault, { chaos: CHAOS, apps: APPS, kafka: KAFKA });
    return [r.serviceAccount, ...r.roles.flatMap((x) => [x.role, x.binding])];
  });
  const worker = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "q1-loader-producer", namespace: APPS },
    spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "loader-producer", image: "registry.local/loader:1" }] } } },
  };
  const queueManager = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "queue-manager-7d9f6c5b4", namespace: APPS },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "queue-manager" } },
      template: { metadata: { labels: { app: "queue-manager" } }, spec: { containers: [{ name: "qm", image: "registry.local/qm:1" }] } },
    },
  };
  const objects = [
    ...rbac,
    guard.policy,
    guard.binding,
    worker,
    queueManager,
    bare(APPS, "q9-loader-producer-abcde"),
    bare(KAFKA, "k3-brokers-1"),
    bare(KAFKA, "k3-controllers-3"),
    {
      ...helperPod(chaos, CHAOS),
      metadata: { name: "pod-network-latency-helper-abcde", namespace: CHAOS, labels: { app: "latency-helper" } },
    },
    {
      ...bare(CHAOS, "chaos-operator-ce-abcde"),
      metadata: { name: "chaos-operator-ce-abcde", namespace: CHAOS, labels: { app: "chaos-operator" } },
    },
  ];
  kubectlApply({ apiVersion: "v1", kind: "List", items: objects });
  for (const fault of FAULTS) tokens[fault] = serviceAccountKubeconfig(dir, CHAOS, serviceAccountName(fault));
  await untilEnforced(POLICY, () => as("pod-delete", "delete", "pod", "k3-controllers-3", "-n", KAFKA, "--dry-run=server"));
}, 120_000);

afterAll(() => {
  deletePolicies(POLICY);
  for (const ns of [CHAOS, APPS, KAFKA]) kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the chaos delete guard in the real API server, with the fault accounts' tokens", () => {
  it("type-checks every expression against the Pod schema", async () => {
    expect(await policyTypeWarnings(POLICY)).toEqual([]);
  });

  it("pod-delete: refuses queue-manager's pod, a controller and a worker-named pod no Job owns; deletes a worker Job's pod and a broker", async () => {
    const qmPod = await eventually(
      "queue-manager's pod",
      () => JSON.parse(kubectl("get", "pods", "-n", APPS, "-l", "app=queue-manager", "-o", "json")).items[0]?.metadata.name,
    );
    const workerPod = await eventually(
      "the worker's pod",
      () => JSON.parse(kubectl("get", "pods", "-n", APPS, "-l", "job-name=q1-loader-producer", "-o", "json")).items[0]?.metadata.name,
    );
    for (const [namespace, pod] of [
      [APPS, qmPod],
      [APPS, "q9-loader-producer-abcde"],
      [KAFKA, "k3-controllers-3"],
    ] as const) {
      const result = as("pod-delete", "delete", "pod", pod, "-n", namespace, "--wait=false");
      expect([pod, result.ok, result.output]).toEqual([pod, false, expect.stringContaining(REFUSED)]);
      expect(result.output).toContain(`found ${namespace}/${pod} deleted by ${user("pod-delete")}`);
      expect([pod, exists(namespace, pod)]).toEqual([pod, true]);
    }
    for (const [namespace, pod] of [
      [APPS, workerPod],
      [KAFKA, "k3-brokers-1"],
    ] as const)
      expect(as("pod-delete", "delete", "pod", pod, "-n", namespace, "--wait=false")).toEqual({
        ok: true,
        output: `pod "${pod}" deleted from ${namespace} namespace`,
      });
  });

  it("network latency: removes its helpers (deletecollection, as litmus-go does) and nothing else", () => {
    const collection = (selector: string) =>
      as("pod-network-latency", "delete", "--raw", `/api/v1/namespaces/${CHAOS}/pods?labelSelector=${encodeURIComponent(selector)}`);
    // The API server admits a deletecollection pod by pod: the operator's pod is refused and stays.
    const refusedCollection = collection("app=chaos-operator");
    expect(refusedCollection).toEqual({ ok: false, output: expect.stringContaining(REFUSED) });
    expect(refusedCollection.output).toContain(`found ${CHAOS}/chaos-operator-ce-abcde deleted by ${user("pod-network-latency")}`);
    expect(exists(CHAOS, "chaos-operator-ce-abcde")).toBe(true);
    // Its helpers, selected as litmus-go selects them, go.
    expect(collection("app=latency-helper").ok).toBe(true);
    expect(exists(CHAOS, "pod-network-latency-helper-abcde")).toBe(false);
    // Its Role holds no single delete, and none outside the chaos namespace.
    expect(as("pod-network-latency", "delete", "pod", "chaos-operator-ce-abcde", "-n", CHAOS).output).toContain(
      `User "${user("pod-network-latency")}" cannot delete resource "pods" in API group "" in the namespace "${CHAOS}"`,
    );
  });
});
