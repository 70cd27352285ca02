/**
 * What the fault accounts may delete, with the guard's CEL evaluated locally (test/cel.ts):
 * chaos/test/delete-guard.itest.ts tries the same with their real tokens against the real API server.
 */
import { admit } from "../../test/cel";
import { chaosDeleteGuard } from "../delete-guard";
import { WORKER_POD_PATTERN, brokerPodPattern } from "../guard";

const guard = chaosDeleteGuard({
  chaosNamespace: "chaos",
  appsNamespace: "stf",
  kafkaNamespace: "kafka",
  workerPodPattern: WORKER_POD_PATTERN,
  kafkaPodPattern: brokerPodPattern("k3", "brokers"),
  namePrefix: "streamforge-chaos",
});
const user = (fault: string) => `system:serviceaccount:chaos:chaos-${fault}`;
const jobPod = (name: string, job: string) => ({
  metadata: { name, ownerReferences: [{ kind: "Job", name: job, controller: true }] },
  spec: { containers: [{ name: "c", args: [] }] },
});
const del = (fault: string, namespace: string, oldObject: object) =>
  admit(guard.policy, { operation: "DELETE", namespace, oldObject, userInfo: { username: user(fault) } });
const EXPECTED =
  "pods: expected only what the faults target (pod-delete: a worker Job's pod in stf (" +
  WORKER_POD_PATTERN +
  "), a broker pod in kafka (^k3-brokers-[0-9]+$), network latency: its helper in chaos); found ";

describe("the chaos delete guard", () => {
  it("lets pod-delete delete a worker Job's pod and a tolerated broker", () => {
    expect(del("pod-delete", "stf", jobPod("q1-loader-producer-abcde", "q1-loader-producer"))).toBe("admitted");
    expect(del("pod-delete", "kafka", { metadata: { name: "k3-brokers-1" }, spec: { containers: [] } })).toBe("admitted");
  });

  it("refuses pod-delete anything else: the platform's pods, a worker-named pod no Job owns, controllers, the operators", () => {
    const qm = { metadata: { name: "queue-manager-7d9f6c5b4-x2x7q" }, spec: { containers: [] } };
    expect(del("pod-delete", "stf", qm)).toBe(`${EXPECTED}stf/queue-manager-7d9f6c5b4-x2x7q deleted by ${user("pod-delete")}`);
    const unowned = { metadata: { name: "q1-loader-producer-abcde" }, spec: { containers: [] } };
    expect(del("pod-delete", "stf", unowned)).toContain("found stf/q1-loader-producer-abcde deleted by");
    expect(del("pod-delete", "kafka", { metadata: { name: "k3-controllers-3" }, spec: { containers: [] } })).toContain(
      "found kafka/k3-controllers-3",
    );
    expect(del("pod-delete", "chaos", jobPod("pod-delete-helper-abcde", "x"))).toContain("found chaos/pod-delete-helper-abcde");
  });

  it("lets network latency delete only its helpers in the chaos namespace", () => {
    const helper = { metadata: { name: "h" }, spec: { containers: [{ name: "h", args: ["-c", "./helpers -name network-chaos"] }] } };
    expect(del("pod-network-latency", "chaos", helper)).toBe("admitted");
    expect(
      del("pod-network-latency", "chaos", { metadata: { name: "chaos-operator-ce-abcde" }, spec: { containers: [{ name: "o" }] } }),
    ).toBe(`${EXPECTED}chaos/chaos-operator-ce-abcde deleted by ${user("pod-network-latency")}`);
    expect(del("pod-network-latency", "stf", jobPod("q1-loader-producer-abcde", "q1-loader-producer"))).toContain("found stf/");
  });

  it("leaves every other requester to RBAC", () => {
    expect(admit(guard.policy, { operation: "DELETE", namespace: "stf", oldObject: {}, userInfo: { username: "alice" } })).toBe(
      "not checked",
    );
  });
});
