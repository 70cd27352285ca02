/**
 * End to end against a real broker and a real API server: Jobs created as queue-manager creates
 * them, a worker simulator publishing both event shapes without keys, the operator running as
 * real processes. The tests watch the API server for what the operator did.
 */
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { Kafka, type Producer, logLevel } from "kafkajs";
import {
  REPO_ROOT,
  createNamespace,
  createTopic,
  deleteNamespace,
  env,
  eventually,
  heartbeats,
  jobsStay,
  kubeClients,
  listJobs,
  metric,
  promQuery,
  publish,
  queueManagerJob,
  startReplicas,
  startReplica,
  leaderCount,
  leaderOf,
  status,
  unique,
  workerProducer,
  type OperatorProcess,
} from "./platform.js";
import { GiveUp, pause } from "../../testkit/wait.js";
import { type OperatorIdentity, auditedRequests, grantedPairs, operatorIdentity, refusedPairs, usedPairs } from "./identity.js";

/** Each run's own identity: the stack's ServiceAccount and Roles in that run's namespace. */
const identities: OperatorIdentity[] = [];

const names = (jobs: k8s.V1Job[]) => jobs.map((j) => j.metadata!.name!).sort();

/** Whether the local broker accepts a connection on its plain listener now. */
function brokerAnswers(): Promise<boolean> {
  const [host, port] = env.plainBootstrap().split(",")[0]!.split(":");
  return new Promise((resolve) => {
    const socket = connect({ host: host!, port: Number(port), timeout: 1000 });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

describe("the operator against a real broker and API server", () => {
  const ns = unique("it-heal");
  const topic = unique("queue-events");
  const operators: OperatorProcess[] = [];
  let producer: Producer;
  const originals = new Map<string, k8s.V1Job>();

  beforeAll(async () => {
    await createNamespace(ns);
    const identity = await operatorIdentity(ns);
    identities.push(identity);
    await createTopic(topic);
    producer = await workerProducer();
    // Two replicas: one leads through the Lease, the other waits.
    operators.push(
      ...startReplicas({ namespace: ns, topic, kubeconfig: identity.kubeconfig }, [
        { suffix: "a", port: 18180 },
        { suffix: "b", port: 18280 },
      ]),
    );
    await eventually("one operator to lead", async () => {
      return (await leaderCount(operators)) === 1 ? true : undefined;
    });
    // The leader's consumer must have joined before workers publish.
    await eventually("the leader's consumer to be healthy", async () => {
      const healthy = await Promise.all(
        operators.map((o) => metric(o.metricsPort, "streamforge_operator_event_source_healthy").catch(() => 0)),
      );
      return healthy.some((h) => h === 1) ? true : undefined;
    });
  });

  afterAll(async () => {
    await Promise.all(operators.map((o) => o.stop()));
    await producer?.disconnect();
    await deleteNamespace(ns);
  });

  it("relaunches a silent Job and a fatally failed one exactly once each, never a healthy or finished one, and survives a malformed flood", async () => {
    const { batch, core } = kubeClients();
    const jobs = {
      silent: queueManagerJob("silent-1", "loader-producer"),
      fatal: queueManagerJob("fatal-1", "arango-connector"),
      healthy: queueManagerJob("healthy-1", "loader-producer"),
      perRecord: queueManagerJob("perrec-1", "arango-connector"),
      stopped: queueManagerJob("stopped-1", "loader-producer"),
    };
    for (const job of Object.values(jobs)) {
      const created = await batch.createNamespacedJob({ namespace: ns, body: job });
      originals.set(created.metadata!.name!, created);
    }
    const alive = new Set(["silent-1", "healthy-1", "perrec-1", "stopped-1"]);
    const beat = heartbeats(producer, topic, alive);
    try {
      await pause("the workers to report before two of them stop", 2000);
      // silent-1 goes quiet; stopped-1 is stopped on purpose; perrec-1 survives a bad record.
      alive.delete("silent-1");
      alive.delete("stopped-1");
      await publish(producer, topic, [
        status("stopped-1", "interrupted"),
        status("perrec-1", "error", { message: "JSON decode error", error_message: "Expecting value: line 1 column 1" }),
      ]);
      // A flood of garbage, then arango-connector's fatal sequence (documented shape mixed in).
      const flood = Array.from({ length: 5000 }, (_, i) =>
        i % 4 === 0
          ? "{not json"
          : i % 4 === 1
            ? { event: "loading" }
            : i % 4 === 2
              ? { queue_id: "x", event: "telemetry" }
              : { queue_id: "x", event: "loading", timestamp: "soon" },
      );
      for (let i = 0; i < flood.length; i += 500) await publish(producer, topic, flood.slice(i, i + 500));
      for (let i = 0; i < 5; i++)
        await publish(producer, topic, [JSON.stringify({ queue_id: "x", event: "loading", pad: "x".repeat(70_000) })]);
      await publish(producer, topic, [
        status("fatal-1", "error", { message: "Fatal consumer error", error_message: "KafkaError" }),
        status("fatal-1", "finished"),
      ]);

      const replaced = await eventually(
        "the silent and the fatal Job to be replaced",
        async () => {
          const current = names(await listJobs(ns));
          return current.includes("silent-1-loader-producer-r1") && current.includes("fatal-1-arango-connector-r1") ? current : undefined;
        },
        90_000,
      );
      // Relaunch latency: from the moment the silent Job crossed its 4 s threshold to the operator's decision.
      const crossedAt = beat.lastSent.get("silent-1")! + 4000;
      const decidedAt = Number(
        (await batch.readNamespacedJob({ name: "silent-1-loader-producer-r1", namespace: ns })).metadata!.annotations![
          "streamforge.io/relaunched-at"
        ],
      );
      console.log(
        `relaunch latency beyond the threshold: ${decidedAt - crossedAt} ms (decision), replacement seen by this test ${Date.now() - crossedAt} ms after the threshold`,
      );
      expect(decidedAt).toBeGreaterThan(crossedAt - 1000);
      // The replacements resume the task and report again, as the real workers would.
      alive.add("silent-1");
      alive.add("fatal-1");
      expect(replaced).toEqual(
        expect.arrayContaining(["healthy-1-loader-producer", "perrec-1-arango-connector", "stopped-1-loader-producer"]),
      );

      // Long enough for a second, wrong relaunch to show up: twice the loader threshold plus grace.
      await jobsStay(
        "each relaunched once, no other Job",
        ns,
        [
          "fatal-1-arango-connector-r1",
          "healthy-1-loader-producer",
          "perrec-1-arango-connector",
          "silent-1-loader-producer-r1",
          "stopped-1-loader-producer",
        ],
        12_000,
        operators,
      );
      // The replacement carries the original's env and says why it exists.
      const replacement = await batch.readNamespacedJob({ name: "silent-1-loader-producer-r1", namespace: ns });
      const original = originals.get("silent-1-loader-producer")!;
      expect(replacement.spec!.template.spec!.containers[0]!.env).toEqual(original.spec!.template.spec!.containers[0]!.env);
      expect(replacement.metadata!.annotations).toMatchObject({
        "streamforge.io/relaunch-attempt": "1",
        "streamforge.io/relaunched-from": "silent-1-loader-producer",
        "streamforge.io/relaunch-reason": expect.stringMatching(/^stuck: no event for/),
      });
      const fatal = await batch.readNamespacedJob({ name: "fatal-1-arango-connector-r1", namespace: ns });
      expect(fatal.metadata!.annotations!["streamforge.io/relaunch-reason"]).toMatch(/^fatal-error: .*Fatal consumer error: KafkaError/);

      // Events on the Jobs acted on.
      const events = (await core.listNamespacedEvent({ namespace: ns })).items.filter(
        (e) => e.source?.component === "streamforge-self-healing-operator",
      );
      expect(events.map((e) => `${e.involvedObject.name}:${e.reason}`).sort()).toEqual([
        "fatal-1-arango-connector-r1:RelaunchedFrom",
        "fatal-1-arango-connector:Relaunched",
        "silent-1-loader-producer-r1:RelaunchedFrom",
        "silent-1-loader-producer:Relaunched",
      ]);

      // The flood was counted, not fatal: both processes are still up.
      const rejected = (
        await Promise.all(operators.map((o) => metric(o.metricsPort, "streamforge_operator_event_rejections_total")))
      ).reduce((a, b) => a + b, 0);
      expect(rejected).toBe(5005);
      // The local Prometheus scraped the same figure from this run's operators.
      await eventually("Prometheus to have scraped the rejections", async () =>
        (await promQuery(`sum(streamforge_operator_event_rejections_total{job="self-healing-operator", instance=~"${ns}-.*"})`)) === 5005
          ? true
          : undefined,
      );
      expect(operators.map((o) => o.child.exitCode)).toEqual([null, null]);
      const relaunches = (
        await Promise.all(
          operators.map((o) => metric(o.metricsPort, 'streamforge_operator_relaunches_total{reason="stuck",result="created"}')),
        )
      ).reduce((a, b) => a + b, 0);
      expect(relaunches).toBe(1);
    } finally {
      // Workers keep reporting until every check is done: silence after this would be real.
      await beat.stop();
    }
  });
});

describe("a broker restart in the middle of a run", () => {
  const ns = unique("it-restart");
  const topic = unique("queue-events");
  let operator: OperatorProcess;
  let producer: Producer;

  beforeAll(async () => {
    await createNamespace(ns);
    const identity = await operatorIdentity(ns);
    identities.push(identity);
    await createTopic(topic);
    producer = await workerProducer();
    operator = startReplica({ namespace: ns, topic, kubeconfig: identity.kubeconfig, staleAfterMs: 3000 }, { suffix: "a", port: 18380 });
    await eventually("the operator's consumer to be healthy", async () =>
      (await metric(operator.metricsPort, "streamforge_operator_event_source_healthy").catch(() => 0)) === 1 ? true : undefined,
    );
  });

  afterAll(async () => {
    await operator?.stop();
    await producer?.disconnect();
    await deleteNamespace(ns);
  });

  it("loses no critical-error event and relaunches no healthy Job", async () => {
    const { batch } = kubeClients();
    await batch.createNamespacedJob({ namespace: ns, body: queueManagerJob("steady-2", "loader-producer") });
    await batch.createNamespacedJob({ namespace: ns, body: queueManagerJob("victim-2", "loader-producer") });
    const alive = new Set(["steady-2", "victim-2"]);
    const beat = heartbeats(producer, topic, alive);
    try {
      await pause("the workers to report before the broker restarts", 3000);
      let restarted = false;
      const restart = new Promise<void>((resolve, reject) => {
        const child = spawn("bash", [join(REPO_ROOT, "local", "kafka.sh"), "restart"], { stdio: "ignore" });
        child.once("exit", (code) => {
          restarted = true;
          if (code === 0) resolve();
          else reject(new Error(`kafka.sh restart exited ${code}`));
        });
      });
      await eventually("the broker to be down", async () => {
        if (restarted) throw new GiveUp("the restart ended before the broker was seen down");
        return (await brokerAnswers()) ? undefined : true;
      });
      // While the broker is down: victim-2 fails; the producer retries until the broker is back.
      alive.delete("victim-2");
      const fatal = publish(producer, topic, [
        { queue_id: "victim-2", event: "error", timestamp: new Date().toISOString(), payload: { reason: "disk full", code: 507 } },
      ]);
      await restart;
      await fatal;
      await eventually(
        "victim-2 to be relaunched",
        async () => (names(await listJobs(ns)).includes("victim-2-loader-producer-r1") ? true : undefined),
        90_000,
      );
      alive.add("victim-2");
      await jobsStay("victim-2 relaunched once, steady-2 never", ns, ["steady-2-loader-producer", "victim-2-loader-producer-r1"], 10_000, [
        operator,
      ]);
    } finally {
      await beat.stop();
    }
    const reason = (await batch.readNamespacedJob({ name: "victim-2-loader-producer-r1", namespace: ns })).metadata!.annotations![
      "streamforge.io/relaunch-reason"
    ];
    expect(reason).toMatch(/^fatal-error: reported a critical error: disk full/);
  });
});

describe("leader failover", () => {
  const ns = unique("it-failover");
  const topic = unique("queue-events");
  const operators: OperatorProcess[] = [];
  let producer: Producer;

  beforeAll(async () => {
    await createNamespace(ns);
    const identity = await operatorIdentity(ns);
    identities.push(identity);
    await createTopic(topic);
    producer = await workerProducer();
    operators.push(
      ...startReplicas({ namespace: ns, topic, kubeconfig: identity.kubeconfig }, [
        { suffix: "a", port: 18480 },
        { suffix: "b", port: 18580 },
      ]),
    );
  });

  afterAll(async () => {
    await Promise.all(operators.map((o) => o.stop()));
    await producer?.disconnect();
    await deleteNamespace(ns);
  });

  it("a replica killed without releasing the Lease is replaced by the other, which relaunches once", async () => {
    const leader = await eventually("one operator to lead", () => leaderOf(operators));
    const follower = operators.find((o) => o !== leader)!;
    // No SIGTERM, no Lease release: the follower must wait out the lease.
    leader.child.kill("SIGKILL");
    await eventually(
      "the follower to take the Lease",
      async () => ((await metric(follower.metricsPort, "streamforge_operator_leader")) === 1 ? true : undefined),
      60_000,
    );
    await eventually("the follower's consumer to be healthy", async () =>
      (await metric(follower.metricsPort, "streamforge_operator_event_source_healthy")) === 1 ? true : undefined,
    );

    const { batch } = kubeClients();
    await batch.createNamespacedJob({ namespace: ns, body: queueManagerJob("orphan-3", "loader-producer") });
    const alive = new Set(["orphan-3"]);
    const beat = heartbeats(producer, topic, alive);
    try {
      await pause("orphan-3 to report before it goes silent", 2000);
      alive.delete("orphan-3");
      await eventually(
        "orphan-3 to be relaunched",
        async () => (names(await listJobs(ns)).includes("orphan-3-loader-producer-r1") ? true : undefined),
        60_000,
      );
      alive.add("orphan-3");
      await jobsStay("orphan-3 relaunched once", ns, ["orphan-3-loader-producer-r1"], 10_000, [follower]);
    } finally {
      await beat.stop();
    }
  });
});

describe("graceful shutdown", () => {
  const ns = unique("it-shutdown");
  const topic = unique("queue-events");
  const operators: OperatorProcess[] = [];
  const kafka = new Kafka({ clientId: "itest-shutdown", brokers: [env.plainBootstrap()], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  let producer: Producer;

  beforeAll(async () => {
    await createNamespace(ns);
    const identity = await operatorIdentity(ns);
    identities.push(identity);
    await createTopic(topic);
    await admin.connect();
    producer = await workerProducer();
    // Before any operator runs: a Job reports a critical error.
    await kubeClients().batch.createNamespacedJob({ namespace: ns, body: queueManagerJob("early-1", "arango-connector") });
    await publish(producer, topic, [
      { queue_id: "early-1", event: "error", timestamp: new Date().toISOString(), payload: { reason: "is terminating" } },
    ]);
    operators.push(
      ...startReplicas({ namespace: ns, topic, kubeconfig: identity.kubeconfig }, [
        { suffix: "a", port: 18680 },
        { suffix: "b", port: 18780 },
      ]),
    );
  });

  afterAll(async () => {
    await Promise.all(operators.map((o) => o.stop()));
    await producer?.disconnect();
    await admin.disconnect();
    await deleteNamespace(ns);
  });

  it("a new consumer group starts from the earliest event: a critical error reported before any operator ran is acted on", async () => {
    await eventually("early-1 to be relaunched", async () =>
      names(await listJobs(ns)).includes("early-1-arango-connector-r1") ? true : undefined,
    );
  });

  it("on SIGTERM, commits what it applied, releases the Lease and exits 0; the other replica takes over", async () => {
    const leader = await eventually("one operator to lead", () => leaderOf(operators));
    const follower = operators.find((o) => o !== leader)!;
    await eventually("the leader's consumer to be healthy", async () =>
      (await metric(leader.metricsPort, "streamforge_operator_event_source_healthy")) === 1 ? true : undefined,
    );
    const events = Array.from({ length: 300 }, (_, i) => status(`queue-${i % 10}`, "loading"));
    await publish(producer, topic, events);
    await eventually("the leader to apply every event", async () =>
      (await metric(leader.metricsPort, "streamforge_operator_events_total")) >= events.length ? true : undefined,
    );

    await leader.stop();
    expect(leader.child.exitCode).toBe(0);
    // Released, not left to expire: the Lease no longer names the stopped replica.
    const lease = await kubeClients()
      .kc.makeApiClient(k8s.CoordinationV1Api)
      .readNamespacedLease({ name: "streamforge-self-healing-operator", namespace: ns });
    expect(lease.spec?.holderIdentity).not.toBe(leader.name);
    // Everything it applied is committed: a successor starts where it stopped.
    const [committed] = await admin.fetchOffsets({ groupId: `${ns}-operator`, topics: [topic] });
    const end = await admin.fetchTopicOffsets(topic);
    const sum = (xs: { offset: string }[]) => xs.reduce((total, x) => total + Math.max(Number(x.offset), 0), 0);
    expect(sum(committed!.partitions)).toBe(sum(end));
    await eventually("the other replica to lead", async () =>
      (await metric(follower.metricsPort, "streamforge_operator_leader")) === 1 ? true : undefined,
    );
  });
});

describe("the operator's Role, as the API server saw it used", () => {
  it("every verb the stack grants was used by the runs above, and none they needed was refused", () => {
    expect(identities.length).toBeGreaterThan(0);
    const granted = grantedPairs(identities[0]!.roles);
    const requests = identities.flatMap((i) => auditedRequests(i.username));
    const used = usedPairs(requests);
    const refused = refusedPairs(requests);
    const unused = granted.filter((p) => !used.includes(p));
    console.log(
      `the API server's audit log, ${requests.length} requests of the operators' ServiceAccounts in ${identities.length} namespaces:\n` +
        `  granted: ${granted.join(" ")}\n  used:    ${used.join(" ")}\n  unused:  ${unused.join(" ") || "-"}\n  refused: ${refused.join(" ") || "-"}`,
    );
    // Only what the Role grants, and nothing refused: the stack's Role is enough.
    expect(used.filter((p) => !granted.includes(p))).toEqual([]);
    expect(refused).toEqual([]);
    // Least privilege: nothing granted that the operator does not use.
    expect(unused).toEqual([]);
  });
});
