/**
 * Two replicas whose wall clocks are 20 minutes apart (one 10 min ahead of the machine, the other
 * 10 min behind, by libfaketime; the API server, the broker and the workers keep the machine's
 * time): there is exactly one leader at every moment, a silent Job is relaunched exactly once and
 * a healthy one never, also after the leader is killed and the other replica, skewed the other
 * way, takes over.
 *
 * Both are further off than maxEventAgeMs (5 min): an operator that read the workers' stamps as
 * its own time would take every fresh event for a backlog and relaunch healthy Jobs in a loop
 * (measured before the fix: at +5 min, healthy-5 reached -r3 within 20 s). It dates them by the
 * offset it measures against the API server instead.
 */
import type * as k8s from "@kubernetes/client-node";
import type { Producer } from "kafkajs";
import { operatorIdentity } from "./identity.js";
import {
  type OperatorProcess,
  createNamespace,
  createTopic,
  deleteNamespace,
  eventually,
  heartbeats,
  jobsStay,
  kubeClients,
  listJobs,
  metric,
  queueManagerJob,
  leaderCount,
  leaderOf,
  startReplicas,
  unique,
  whileDeciding,
  workerProducer,
} from "./platform.js";

const names = (jobs: k8s.V1Job[]) => jobs.map((j) => j.metadata!.name!).sort();
const OFFSET = "streamforge_operator_cluster_clock_offset_seconds";

describe("replicas whose clocks are minutes apart", () => {
  const ns = unique("it-skew");
  const topic = unique("queue-events");
  const operators: OperatorProcess[] = [];
  let producer: Producer;

  beforeAll(async () => {
    await createNamespace(ns);
    const identity = await operatorIdentity(ns);
    await createTopic(topic);
    producer = await workerProducer();
    operators.push(
      ...startReplicas({ namespace: ns, topic, kubeconfig: identity.kubeconfig }, [
        { suffix: "ahead", port: 18780, clockSkew: "+10m" },
        { suffix: "behind", port: 18880, clockSkew: "-10m" },
      ]),
    );
  });

  afterAll(async () => {
    await Promise.all(operators.map((o) => o.stop()));
    await producer?.disconnect();
    await deleteNamespace(ns);
  });

  it("have one leader at a time, and relaunch a silent Job exactly once, before and after a failover", async () => {
    await eventually("one replica to lead", async () => ((await leaderCount(operators)) === 1 ? true : undefined), 60_000);
    const { batch } = kubeClients();
    await batch.createNamespacedJob({ namespace: ns, body: queueManagerJob("healthy-5", "loader-producer") });
    await batch.createNamespacedJob({ namespace: ns, body: queueManagerJob("silent-5", "loader-producer") });
    const alive = new Set(["healthy-5", "silent-5"]);
    const beat = heartbeats(producer, topic, alive);
    try {
      // Never two leaders, never none, for 20 s, while the leader decides.
      await whileDeciding("one leader at a time", 20_000, operators, async () => {
        const leaders = await leaderCount(operators);
        return leaders === 1 || `${leaders} replicas lead`;
      });
      expect(names(await listJobs(ns))).toEqual(["healthy-5-loader-producer", "silent-5-loader-producer"]);
      // The leader really runs 10 min off the cluster, and knows it.
      const leaderOffset = await metric((await leaderOf(operators))!.metricsPort, OFFSET);
      expect(Math.abs(Math.abs(leaderOffset) - 600)).toBeLessThan(5);
      alive.delete("silent-5");
      await eventually("silent-5 to be relaunched", async () =>
        names(await listJobs(ns)).includes("silent-5-loader-producer-r1") ? true : undefined,
      );
      alive.add("silent-5");
      await jobsStay(
        "silent-5 relaunched once, healthy-5 never",
        ns,
        ["healthy-5-loader-producer", "silent-5-loader-producer-r1"],
        8000,
        operators,
      );

      // The leader dies without releasing the Lease; the other, skewed the other way, takes over
      // after a lease on its own clock, and relaunches nothing that is alive.
      const leader = (await leaderOf(operators))!;
      const follower = operators.find((o) => o !== leader)!;
      leader.child.kill("SIGKILL");
      await eventually(
        "the other replica to take the Lease",
        async () => ((await leaderCount([follower])) === 1 ? true : undefined),
        60_000,
      );
      await eventually("its consumer to be healthy", async () =>
        (await metric(follower.metricsPort, "streamforge_operator_event_source_healthy")) === 1 ? true : undefined,
      );
      await jobsStay("no relaunch after the failover", ns, ["healthy-5-loader-producer", "silent-5-loader-producer-r1"], 10_000, [
        follower,
      ]);
      // Skewed the other way: its offset is the opposite.
      expect(Math.abs((await metric(follower.metricsPort, OFFSET)) + leaderOffset)).toBeLessThan(5);
    } finally {
      await beat.stop();
    }
  });
});
