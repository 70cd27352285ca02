/**
 * Intake's real parts: the intake thread (the compiled worker, as the operator runs it) and the
 * kafkajs source's offset handling against the real broker, over SCRAM-SHA-512 and TLS
 * verified against the broker's CA. Offsets are read back from the broker, not from the source.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import { pino } from "pino";
import { KafkajsSource } from "../../src/adapters/kafka-source.js";
import { DEFAULT_PARSE_LIMITS } from "../../src/core/events.js";
import type { FoldOptions, IntakeReport } from "../../src/core/signal-fold.js";
import { InlineIntake, ThreadIntake } from "../../src/intake.js";
import { type RawBatch, systemClock } from "../../src/ports.js";
import { consistently, pause } from "../../testkit/wait.js";
import { OPERATOR_DIR, createTopic, env, eventually, unique } from "./platform.js";

const FOLD: FoldOptions = { parseLimits: { ...DEFAULT_PARSE_LIMITS, maxBytes: 512 }, maxEventAgeMs: 300_000, retentionMs: 3_600_000 };
const WORKER_SCRIPT = pathToFileURL(join(OPERATOR_DIR, "dist", "intake-thread.js"));
const log = pino({ level: "silent" });

/** Everything intake must handle: both shapes, each kind of rejection, a tombstone, Object-member names. */
function mixedBatches(now: number): RawBatch[] {
  const bodies: (object | string | null)[] = [];
  for (let i = 0; i < 300; i++) {
    const q = `queue-${i % 7}`;
    bodies.push(
      i % 4 === 0
        ? { event: "progress", queue_id: q, message_count: i, sent_at: (now - 1000 + i) / 1000 }
        : i % 4 === 1
          ? {
              event: "status",
              queue_id: q,
              status: i % 3 ? "loading" : "error",
              message: "Fatal consumer error",
              sent_at: (now - 900 + i) / 1000,
            }
          : i % 4 === 2
            ? { queue_id: q.toUpperCase(), event: "loading", timestamp: new Date(now - 800 + i).toISOString() }
            : [
                "{broken",
                null,
                JSON.stringify({ event: "constructor", queue_id: q }),
                "x".repeat(600),
                "[]",
                JSON.stringify({ event: "pong" }),
              ][Math.floor(i / 4) % 6]!,
    );
  }
  const batches: RawBatch[] = [];
  for (let i = 0; i < bodies.length; i += 64)
    batches.push({
      partition: (i / 64) % 3,
      messages: bodies.slice(i, i + 64).map((b, k) => ({
        value: b === null ? null : Buffer.from(typeof b === "string" ? b : JSON.stringify(b)),
        offset: String(1000 + i + k),
      })),
    });
  return batches;
}

const sorted = (r: IntakeReport) => ({
  ...r,
  changed: [...r.changed].sort(([a], [b]) => a.localeCompare(b)),
  consumedByKind: [...r.consumedByKind].sort(([a], [b]) => a.localeCompare(b)),
  rejected: [...r.rejected].sort((a, b) => a.reason.localeCompare(b.reason)),
});

describe("the intake thread", () => {
  it("folds the same signals and tallies as the inline fold, rejections included", async () => {
    const now = Date.now();
    const failures: Error[] = [];
    const thread = new ThreadIntake(FOLD, (err) => failures.push(err), WORKER_SCRIPT);
    const inline = new InlineIntake(FOLD);
    try {
      for (const batch of mixedBatches(now)) await Promise.all([thread.apply(batch, now), inline.apply(batch, now)]);
      const [fromThread, fromInline] = [await thread.report(now, []), await inline.report(now, [])];
      expect(sorted(fromThread)).toEqual(sorted(fromInline));
      // Not a vacuous equality: the batches produced signals and every kind of rejection.
      expect(fromThread.changed.map(([k]) => k).sort()).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `queue-${i}`));
      expect(fromThread.rejected.map((r) => r.reason).sort()).toEqual([
        "malformed-json",
        "missing-queue-id",
        "not-an-object",
        "oversized",
        "unknown-kind",
      ]);
      // A second report holds only what changed since the first.
      expect((await thread.report(now, [])).changed).toEqual([]);
    } finally {
      await thread.close();
    }
    expect(failures).toEqual([]);
  });
});

describe("the kafkajs source over SCRAM and TLS", () => {
  const kafka = new Kafka({ clientId: "itest-intake", brokers: [env.plainBootstrap()], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();

  beforeAll(() => admin.connect());
  afterAll(() => admin.disconnect());

  /** What the sources reported as fatal, in order. */
  const fatalErrors: Error[] = [];

  async function committed(groupId: string, topic: string): Promise<number> {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return entry!.partitions.reduce((sum, p) => sum + Math.max(Number(p.offset), 0), 0);
  }

  async function topicWith(messages: number): Promise<string> {
    const topic = unique("intake");
    await createTopic(topic, 1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: messages }, (_, i) => ({ value: JSON.stringify({ queue_id: `q${i}`, event: "pong" }) })),
    });
    await producer.disconnect();
    return topic;
  }

  function source(topic: string, groupId: string): KafkajsSource {
    return new KafkajsSource(
      {
        brokers: [env.tlsBootstrap()],
        topic,
        groupId,
        clientId: "itest-intake",
        tls: true,
        caPath: env.caPath(),
        sasl: { mechanism: "scram-sha-512", username: env.adminUser(), password: env.adminPassword() },
        fromBeginning: true,
        commitIntervalMs: 200,
      },
      systemClock,
      log,
      (err) => fatalErrors.push(err),
    );
  }

  it("commits a batch's offsets only once it is applied, and nothing after a batch that failed", async () => {
    const topic = await topicWith(10);
    const groupId = `itest-${randomUUID()}`;
    const events = source(topic, groupId);
    let release: () => void = () => {};
    let handedOver = 0;
    await events.start(async (batch) => {
      handedOver += batch.messages.length;
      await new Promise<void>((resolve) => (release = resolve));
    });
    await eventually("the batch to be handed over", async () => (handedOver === 10 ? true : undefined));
    expect(events.health().connected).toBe(true);
    // Commit rounds (every 200 ms) pass while the batch is still being applied: nothing is
    // committed, while the source is seen fetching on (an idle fetch returns within kafkajs's 5 s).
    await consistently(
      "nothing committed while the batch is being applied",
      7000,
      async () => (await committed(groupId, topic)) === 0 || "committed already",
      { what: "the source's last fetch", read: () => events.health().lastFetchAt },
    );
    release();
    await eventually("the applied batch to be committed", async () => ((await committed(groupId, topic)) === 10 ? true : undefined));
    await events.stop();

    // A failed application: its offsets are never committed and the source reports itself unhealthy.
    const failedGroup = `itest-${randomUUID()}`;
    const failing = source(topic, failedGroup);
    let attempts = 0;
    await failing.start(async () => {
      attempts += 1;
      throw new Error("the intake thread died");
    });
    await eventually("the batch to fail", async () => (attempts > 0 && !failing.health().connected ? true : undefined));
    // ... and says intake cannot go on, so the process starts over from the committed offsets.
    expect(fatalErrors.map((e) => e.message)).toEqual(["the intake thread died"]);
    await consistently(
      "nothing committed after the failed batch",
      7000,
      async () => (await committed(failedGroup, topic)) === 0 || "committed already",
      { what: "the source's last fetch", read: () => failing.health().lastFetchAt },
    );
    await failing.stop();
    expect(await committed(failedGroup, topic)).toBe(0);
  });

  it("on stop, waits for batches still being applied and commits them", async () => {
    const topic = await topicWith(25);
    const groupId = `itest-${randomUUID()}`;
    const events = source(topic, groupId);
    let handedOver = 0;
    await events.start(async (batch) => {
      handedOver += batch.messages.length;
      await pause("a slow application of the batch", 1500);
    });
    await eventually("the batch to be handed over", async () => (handedOver === 25 ? true : undefined));
    await events.stop();
    expect(await committed(groupId, topic)).toBe(25);
  });
});
