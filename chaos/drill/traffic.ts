/**
 * What flows through Kafka during the drill: simulated workers that report progress on
 * queue-events while their Job has a Running pod (as the real ones do, without keys), and a
 * stream check that produces with `acks=all` and consumes, counting what was acknowledged and what
 * came back. I/O only.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { Kafka, type Producer, logLevel } from "kafkajs";
import { queueManagerJob as queueManagerJobOf } from "../../operator/testkit/queue-manager-job";
import { eventually, within } from "../../operator/testkit/wait";
import type { LaunchKube } from "../launch";
import { LOG_DIR, sleep } from "./pieces";

const client = (clientId: string, brokers: readonly string[]) =>
  new Kafka({
    clientId,
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 },
  });

export async function createTopics(
  brokers: readonly string[],
  topics: { topic: string; partitions: number; replicationFactor: number; minInSync: number }[],
) {
  const admin = client("drill-admin", brokers).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    // Not kafkajs's waitForLeaders: it retries only LEADER_NOT_AVAILABLE, and a KRaft broker that
    // has not yet applied the new topic's metadata answers UNKNOWN_TOPIC_OR_PARTITION ("This server
    // does not host this topic-partition"), which failed a CI run's drill setup. Every partition
    // with a leader, read until then.
    await admin.createTopics({
      topics: topics
        .filter((t) => !existing.has(t.topic))
        .map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          replicationFactor: t.replicationFactor,
          configEntries: [{ name: "min.insync.replicas", value: String(t.minInSync) }],
        })),
    });
    const names = topics.map((t) => t.topic);
    await eventually(
      `a leader for every partition of the drill's topics ${names.join(", ")}`,
      async () => {
        const { topics: described } = await admin.fetchTopicMetadata({ topics: names });
        return described.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)) ? true : undefined;
      },
      60_000,
      200,
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * Under-replicated partitions as the cluster's metadata has them (in-sync replicas fewer than the
 * replicas, what `kafka_server_replicamanager_underreplicatedpartitions` counts), read every
 * `everyMs` while it runs: the brokers' metrics are scraped every 5 s (local/prometheus.sh), and a
 * broker restarted within seconds on small topics may be out of the ISR for less than that. A
 * read that fails (a broker just killed) is skipped; the next one asks another broker.
 */
export function watchUnderReplicated(brokers: readonly string[], everyMs = 250): { max: () => number; stop: () => Promise<void> } {
  const admin = new Kafka({
    clientId: "drill-isr-watch",
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  let max = 0;
  let running = true;
  const loop = (async () => {
    await admin.connect().catch(() => undefined);
    while (running) {
      const read = await admin.fetchTopicMetadata().catch(() => undefined);
      if (read) {
        const count = read.topics.flatMap((t) => t.partitions).filter((p) => p.isr.length < p.replicas.length).length;
        max = Math.max(max, count);
      }
      await sleep(everyMs);
    }
  })();
  return {
    max: () => max,
    stop: async () => {
      running = false;
      await loop;
      await admin.disconnect().catch(() => undefined);
    },
  };
}

export async function deleteTopics(brokers: readonly string[], topics: string[]) {
  const admin = client("drill-admin", brokers).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

/** A Job as queue-manager's job_launcher creates it: no labels, the queue in its name and env. */
export function queueManagerJob(queueId: string, target: string, namespace: string) {
  return queueManagerJobOf({
    queueId,
    target,
    namespace,
    image: `ghcr.io/olehkondratow/streamforge-${target}:1.0.0`,
    env: [{ name: "TELEMETRY_PRODUCER_ID", value: `${target}__${queueId}` }],
  });
}

export interface SimulatedWorkers {
  /** When each queue's last progress event was acknowledged (ms since epoch). */
  readonly lastAcked: ReadonlyMap<string, number>;
  /** The slowest acknowledgement on the proxied path so far, in ms, and how many events were acknowledged. */
  readonly stats: { maxAckMs: number; acked: number; failed: number };
  /** Stops one queue's events, as a worker that hangs would. */
  silence(queueId: string): void;
  /**
   * Sends these queues' events through Toxiproxy and every other queue's straight to the brokers,
   * so a latency toxic slows only the targets' traffic, as netem on the target pods' egress does.
   */
  route(throughProxy: ReadonlySet<string>): void;
  stop(): Promise<void>;
}

/**
 * One loop for all simulated workers: every second, each queue whose Job (or its relaunch, named
 * `<job>-r<N>`) has a Running pod publishes a `loading` status event with `acks=all`, straight to
 * the brokers unless `route` sends it through the proxies.
 */
export async function simulateWorkers(
  kube: LaunchKube,
  namespace: string,
  brokers: { readonly direct: readonly string[]; readonly proxied: readonly string[] },
  topic: string,
  jobs: readonly { queueId: string; job: string }[],
): Promise<SimulatedWorkers> {
  const direct: Producer = client("drill-workers", brokers.direct).producer({ allowAutoTopicCreation: false });
  const proxied: Producer = client("drill-workers-proxied", brokers.proxied).producer({ allowAutoTopicCreation: false });
  await direct.connect();
  await proxied.connect();
  const lastAcked = new Map<string, number>();
  const silenced = new Set<string>();
  let throughProxy: ReadonlySet<string> = new Set();
  const stats = { maxAckMs: 0, acked: 0, failed: 0 };
  let running = true;
  const send = async (producer: Producer, live: readonly { queueId: string }[], timed: boolean) => {
    if (live.length === 0) return;
    const sentAt = Date.now();
    const events = live.map((j) => ({
      event: "status",
      queue_id: j.queueId,
      symbol: "BTCUSDT",
      type: "trades",
      status: "loading",
      message: "loaded 100 records",
      records_written: 100,
      finished: false,
      sent_at: sentAt / 1000,
    }));
    try {
      await producer.send({ topic, acks: -1, messages: events.map((e) => ({ value: JSON.stringify(e) })) });
      const now = Date.now();
      if (timed) stats.maxAckMs = Math.max(stats.maxAckMs, now - sentAt);
      stats.acked += events.length;
      for (const j of live) lastAcked.set(j.queueId, now);
    } catch {
      stats.failed += events.length;
    }
  };
  const loop = (async () => {
    while (running) {
      const pods = await kube.listPods(namespace).catch(() => []);
      const live = jobs.filter(
        (j) =>
          !silenced.has(j.queueId) &&
          pods.some((p) => p.phase === "Running" && !p.deleting && (p.ownerJob === j.job || p.ownerJob?.startsWith(`${j.job}-r`))),
      );
      await Promise.all([
        send(
          proxied,
          live.filter((j) => throughProxy.has(j.queueId)),
          true,
        ),
        send(
          direct,
          live.filter((j) => !throughProxy.has(j.queueId)),
          false,
        ),
      ]);
      await sleep(1000);
    }
  })();
  return {
    lastAcked,
    stats,
    silence: (q) => void silenced.add(q),
    route: (queues) => void (throughProxy = new Set(queues)),
    async stop() {
      running = false;
      await loop;
      await Promise.all([direct.disconnect(), proxied.disconnect()]);
    },
  };
}

export interface StreamFigures {
  readonly acknowledged: number;
  readonly unacknowledged: number;
  readonly consumed: number;
  /** Acknowledged but not in the log. */
  readonly lost: number;
  /** Acknowledged, in the log, but never delivered to the consumer group. */
  readonly missedByConsumer: number;
  readonly firstLost: number[];
  readonly duplicated: number;
  /** The longest time without an acknowledgement while producing, in ms. */
  readonly longestPauseMs: number;
}

/** The witness producer's class, compiled against the broker's own jars (once per run). */
function compileWitness(kafkaLibs: string): string {
  const classes = path.join(LOG_DIR, "classes");
  mkdirSync(classes, { recursive: true });
  execFileSync("javac", ["-cp", path.join(kafkaLibs, "*"), "-d", classes, path.join(__dirname, "IdempotentProducer.java")], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return classes;
}

/**
 * What the stream check concludes. Pure. `acked`: values the producer saw acknowledged; `seen`:
 * values the consumer group got; `copies`: how often each value is in the log, read whole.
 */
export function streamFigures(
  acked: ReadonlySet<number>,
  seen: ReadonlyMap<number, number>,
  copies: ReadonlyMap<number, number>,
  unacknowledged: number,
  longestPauseMs: number,
): StreamFigures {
  return {
    acknowledged: acked.size,
    unacknowledged,
    consumed: seen.size,
    lost: [...acked].filter((n) => !copies.has(n)).length,
    missedByConsumer: [...acked].filter((n) => !seen.has(n)).length,
    firstLost: [...acked].filter((n) => !copies.has(n) || !seen.has(n)).slice(0, 5),
    duplicated: [...copies.values()].reduce((sum, c) => sum + c - 1, 0),
    longestPauseMs,
  };
}

/** The stream hypotheses of the broker scenario, from the figures. Pure. */
export function streamHypotheses(s: StreamFigures): { hypothesis: string; observed: string; passed: boolean }[] {
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return [
    {
      hypothesis: "producing with acks=all kept working; no acknowledged message is lost",
      observed:
        `${s.acknowledged} acknowledged (longest pause ${secs(s.longestPauseMs)}), ${s.unacknowledged} not; ${s.lost} missing from the log, ` +
        `${s.missedByConsumer} never consumed${s.firstLost.length ? ` (e.g. ${s.firstLost.join(", ")})` : ""}`,
      passed: s.acknowledged > 0 && s.lost === 0 && s.missedByConsumer === 0,
    },
    {
      hypothesis: "nothing is duplicated (idempotent producer, retries on)",
      observed: `${s.duplicated} duplicates in the log`,
      passed: s.acknowledged > 0 && s.duplicated === 0,
    },
  ];
}

/**
 * Produces numbered messages with `acks=all` and consumes them in a consumer group, until stopped;
 * then waits for the consumer to catch up and compares. The producer is Kafka's Java client with
 * idempotence on and retries at their default (IdempotentProducer.java), printing every
 * acknowledgement. Kafka's VerifiableProducer forces retries=0 (kafka-tools 4.2.1
 * VerifiableProducer.createFromArgs, read with javap from the broker's jar), which turns
 * idempotence off, so its "no duplicate" could not fail. kafkajs 2.2.4's producer acknowledges
 * batches it never wrote when a leader is SIGKILLed (tulios/kafkajs#1303; the drill caught it), so
 * it cannot be the witness either.
 */
export async function streamCheck(brokers: readonly string[], topic: string, kafkaLibs: string) {
  const kafka = client("drill-stream", brokers);
  const consumer = kafka.consumer({ groupId: `drill-stream-${randomUUID().slice(0, 8)}`, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = new Map<number, number>();
  await consumer.run({
    eachMessage: ({ message }) => {
      const n = Number(message.value?.toString());
      seen.set(n, (seen.get(n) ?? 0) + 1);
      return Promise.resolve();
    },
  });
  const acked = new Set<number>();
  let unacknowledged = 0;
  let lastAck = Date.now();
  let longestPauseMs = 0;
  const classes = compileWitness(kafkaLibs);
  const producer = spawn(
    "java",
    ["-Xmx128m", "-cp", `${classes}:${path.join(kafkaLibs, "*")}`, "IdempotentProducer", brokers.join(","), topic, "200"],
    { stdio: ["pipe", "pipe", "ignore"] },
  );
  const exited = new Promise<void>((resolve) => producer.once("exit", () => resolve()));
  let started: () => void = () => {};
  const startup = new Promise<void>((resolve) => (started = resolve));
  createInterface({ input: producer.stdout }).on("line", (line) => {
    const event = JSON.parse(line) as { name: string; value?: string };
    if (event.name === "startup_complete") started();
    else if (event.name === "producer_send_success") {
      const now = Date.now();
      if (acked.size > 0) longestPauseMs = Math.max(longestPauseMs, now - lastAck);
      lastAck = now;
      acked.add(Number(event.value));
    } else if (event.name === "producer_send_error") unacknowledged += 1;
  });
  await Promise.race([startup, exited]);
  return {
    /** The values acknowledged so far. */
    acked: acked as ReadonlySet<number>,
    /** Stops producing (the producer flushes what it holds), waits up to `catchUpMs` for every acknowledged message to be consumed, and counts. */
    async stop(catchUpMs = 60_000): Promise<StreamFigures> {
      producer.stdin.end();
      await exited;
      // What is still unseen after catchUpMs is counted as lost below, not an error here.
      await within("every acknowledged message consumed", () => ([...acked].every((n) => seen.has(n)) ? true : undefined), catchUpMs, 500);
      await consumer.disconnect();
      // The group may see a message twice after a rebalance (at-least-once): duplicates are
      // counted in the log itself, read whole by a fresh consumer.
      return streamFigures(acked, seen, await readLog(kafka, topic), unacknowledged, longestPauseMs);
    },
  };
}

/** Every message of `topic` up to its current end, counted by value. */
async function readLog(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high) - 1]));
  const copies = new Map<number, number>();
  const reader = kafka.consumer({ groupId: `drill-log-${randomUUID().slice(0, 8)}` });
  await reader.connect();
  await reader.subscribe({ topic, fromBeginning: true });
  await reader.run({
    eachMessage: ({ partition, message }) => {
      const n = Number(message.value?.toString());
      copies.set(n, (copies.get(n) ?? 0) + 1);
      if (Number(message.offset) >= (remaining.get(partition) ?? Infinity)) remaining.delete(partition);
      return Promise.resolve();
    },
  });
  await within(`${topic} read back to its end`, () => (remaining.size === 0 ? true : undefined), 60_000, 200);
  await reader.disconnect();
  if (remaining.size > 0) throw new Error(`reading ${topic} back did not reach the end of partitions ${[...remaining.keys()].join(", ")}`);
  return copies;
}
