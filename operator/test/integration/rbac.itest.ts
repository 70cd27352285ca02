/**
 * The Role is what is tested: the operator runs with the stack's ServiceAccount and Roles less one
 * verb it needs, and the failure shows in the world — in the Jobs and Events of the API server, in
 * the operator's metrics and exit code, and in the API server's own audit log — not in a call list.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type * as k8s from "@kubernetes/client-node";
import type { Producer } from "kafkajs";
import { type OperatorIdentity, auditedRequests, operatorIdentity, refusedPairs } from "./identity.js";
import {
  REPO_ROOT,
  createNamespace,
  createTopic,
  deleteNamespace,
  eventually,
  kubeClients,
  listJobs,
  metric,
  publish,
  queueManagerJob,
  startReplica,
  status,
  unique,
  workerProducer,
  type OperatorProcess,
} from "./platform.js";

/** Takes `verb` away from the rules of `resource` (the rest of the stack's Roles stays as rendered). */
const withoutVerb = (resource: string, verb: string) => (role: k8s.V1Role) => {
  for (const rule of role.rules ?? []) if (rule.resources?.includes(resource)) rule.verbs = rule.verbs.filter((v) => v !== verb);
  role.rules = (role.rules ?? []).filter((r) => r.verbs.length > 0);
};

describe("the operator's Role without delete on jobs", () => {
  const ns = unique("it-rbac-jobs");
  const topic = unique("queue-events");
  let identity: OperatorIdentity;
  let operator: OperatorProcess;
  let producer: Producer;

  beforeAll(async () => {
    await createNamespace(ns);
    await createTopic(topic);
    identity = await operatorIdentity(ns, { editRole: withoutVerb("jobs", "delete") });
    producer = await workerProducer();
    operator = startReplica({ namespace: ns, topic, kubeconfig: identity.kubeconfig }, { suffix: "a", port: 18940 });
    await eventually("the operator to lead with a healthy consumer", async () =>
      (await metric(operator.metricsPort, "streamforge_operator_leader").catch(() => 0)) === 1 &&
      (await metric(operator.metricsPort, "streamforge_operator_event_source_healthy").catch(() => 0)) === 1
        ? true
        : undefined,
    );
  });

  afterAll(async () => {
    await operator?.stop();
    await producer?.disconnect();
    await deleteNamespace(ns);
  });

  it("cannot complete a relaunch: the old Job stays, the refusal is a Warning Event, a terminal 403 metric and a 403 in the audit log", async () => {
    const { batch, core } = kubeClients();
    await batch.createNamespacedJob({ namespace: ns, body: queueManagerJob("silent-1", "loader-producer") });
    await publish(producer, topic, [status("silent-1", "loading", { message: "loaded 100 records", records_written: 100 })]);

    const refusal = await eventually(
      "a RelaunchRefused Event on the silent Job",
      async () =>
        (await core.listNamespacedEvent({ namespace: ns })).items.find(
          (e) => e.reason === "RelaunchRefused" && e.involvedObject.name === "silent-1-loader-producer",
        ),
      60_000,
    );
    expect(refusal.type).toBe("Warning");
    expect(refusal.message).toMatch(/\(403\)/);
    // The replacement was created (create is granted), the original could not be deleted.
    const jobs = (await listJobs(ns)).map((j) => j.metadata!.name!).sort();
    expect(jobs).toEqual(["silent-1-loader-producer", "silent-1-loader-producer-r1"]);
    expect(await metric(operator.metricsPort, 'streamforge_operator_action_failures_total{kind="terminal",status="403"}')).toBe(1);
    expect(await metric(operator.metricsPort, 'streamforge_operator_relaunches_total{reason="stuck",result="created"}')).toBe(0);
    // The API server's own record: it refused exactly the verb taken away.
    expect(refusedPairs(auditedRequests(identity.username))).toEqual(["batch/jobs:delete"]);
    expect(operator.child.exitCode).toBeNull();
  });
});

describe("the operator's Role without update on leases", () => {
  const ns = unique("it-rbac-lease");
  const topic = unique("queue-events");
  let identity: OperatorIdentity;
  let operator: OperatorProcess;

  beforeAll(async () => {
    await createNamespace(ns);
    await createTopic(topic);
    identity = await operatorIdentity(ns, { editRole: withoutVerb("leases", "update") });
  });

  afterAll(async () => {
    await operator?.stop();
    await deleteNamespace(ns);
  });

  it("creates the Lease but cannot renew it: exits 1 saying so, and the API server refused the update", async () => {
    operator = startReplica({ namespace: ns, topic, kubeconfig: identity.kubeconfig }, { suffix: "a", port: 18950 });
    const code = await new Promise<number | null>((done) => {
      if (operator.child.exitCode !== null) return done(operator.child.exitCode);
      operator.child.once("exit", (c) => done(c));
    });
    expect(code).toBe(1);
    // Its log, once the pipe has carried the last line to the file.
    const fatal = await eventually("the operator's fatal log line", async () => {
      const lines = readFileSync(join(REPO_ROOT, "out", "itest", `${operator.name}.log`), "utf8")
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { level: number; msg: string })
        .filter((l) => l.level >= 60);
      return lines.length > 0 ? lines : undefined;
    });
    expect(fatal.map((l) => l.msg)).toEqual([expect.stringMatching(new RegExp(`^Cannot hold the Lease in ${ns} \\(403\\)`))]);
    expect(refusedPairs(auditedRequests(identity.username))).toEqual(["coordination.k8s.io/leases:update"]);
  });
});
