/**
 * `npm run bench`: figures for the record, each next to a baseline measured in the same run
 * (these machines are noisy: read the ratios). Needs the local broker for the end-to-end part:
 * `eval "$(../local/kafka.sh env)"` first (the script says so if it is missing).
 *
 *  1. events/s the core absorbs (parse + fold into state, one thread), next to JSON.parse alone;
 *  2. events/s end to end through kafkajs into the operator (the fold on its intake thread,
 *     counted once applied), next to a bare kafkajs consumer
 *     reading the same topic in the same run (target: ratio >= 0.8);
 *  3. memory per tracked Job at 10k and 100k Jobs, the whole process (target: <= 1 KiB), next to
 *     the operator's own state and to the same run with the informer keeping whole Jobs;
 *  4. detection delay beyond the threshold with the real tick loop (target: <= 1 s).
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { deserialize, serialize } from "node:v8";
import * as k8s from "@kubernetes/client-node";
import { Kafka, logLevel } from "kafkajs";
import { pino } from "pino";
import { type WatchLike, cachedJobs, trimmedJobInformer } from "../src/adapters/job-cache.js";
import { KafkajsSource } from "../src/adapters/kafka-source.js";
import { Controller } from "../src/controller.js";
import { nextWakeIn } from "../src/core/decide.js";
import { DEFAULT_PARSE_LIMITS } from "../src/core/events.js";
import { type IntakeReport, type PackedBatch, SignalFold, packBatch } from "../src/core/signal-fold.js";
import { type CachedJob, type JobManifest, trimJob } from "../src/core/jobs.js";
import { DEFAULT_POLICY, type Policy } from "../src/core/policy.js";
import { type Intake, InlineIntake, ThreadIntake } from "../src/intake.js";
import { createMetrics } from "../src/metrics.js";
import type { CreateResult, EventSource, KubePort } from "../src/ports.js";
import { systemClock } from "../src/ports.js";
import { type QueueManagerEnvVar, queueManagerJob } from "../testkit/queue-manager-job.js";

const log = pino({ level: "silent" });
const foldOptions = {
  parseLimits: DEFAULT_PARSE_LIMITS,
  maxEventAgeMs: DEFAULT_POLICY.maxEventAgeMs,
  retentionMs: DEFAULT_POLICY.signalRetentionMs,
};
const gc = (globalThis as { gc?: () => void }).gc;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

function sampleEvents(n: number, queues: number): Buffer[] {
  const now = Date.now() / 1000;
  return Array.from({ length: n }, (_, i) => {
    const q = `queue-${i % queues}`;
    const body =
      i % 3 === 0
        ? { event: "progress", queue_id: q, symbol: "BTCUSDT", type: "trades", message_count: i, sent_at: now }
        : i % 3 === 1
          ? {
              event: "status",
              queue_id: q,
              symbol: "BTCUSDT",
              type: "trades",
              status: "loading",
              message: "ok",
              finished: false,
              sent_at: now,
            }
          : { queue_id: q, event: "loading", timestamp: new Date().toISOString(), payload: { progress: 0.5, details: "x" } };
    return Buffer.from(JSON.stringify(body));
  });
}

function coreThroughput(): void {
  const events = sampleEvents(300_000, 1000);
  const time = (fn: () => void) => {
    const t = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  const baseline = time(() => {
    for (const e of events) JSON.parse(e.toString("utf8"));
  });
  // Packed as the consumer hands them to the intake thread, in fetch-sized batches.
  const now = Date.now();
  const batches: PackedBatch[] = [];
  for (let i = 0; i < events.length; i += 1000)
    batches.push(
      packBatch({ partition: 0, messages: events.slice(i, i + 1000).map((value, k) => ({ value, offset: String(i + k) })) }, now),
    );
  const fold = new SignalFold(foldOptions);
  const core = time(() => {
    for (const batch of batches) fold.applyBatch(batch);
  });
  if (fold.report().consumedByKind.reduce((sum, [, n]) => sum + n, 0) !== events.length) throw new Error("events lost");
  console.log(
    `1. core: ${fmt(events.length / core)} events/s (parse + fold into state); baseline JSON.parse alone ${fmt(events.length / baseline)} events/s; core/baseline ${(baseline / core).toFixed(2)}`,
  );
}

class NullKube implements KubePort {
  serverClockOffset(): number {
    return 0;
  }
  jobs(): CachedJob[] {
    return [];
  }
  async readJob(): Promise<JobManifest | undefined> {
    return undefined;
  }
  async annotateIfUnchanged(): Promise<boolean> {
    return false;
  }
  async createJob(): Promise<CreateResult> {
    return "created";
  }
  async deleteJob(): Promise<void> {}
  async recordEvent(): Promise<void> {}
}

async function endToEnd(): Promise<void> {
  const brokers = process.env.KAFKA_BOOTSTRAP_SERVERS;
  if (!brokers) {
    console.log('2. end to end: skipped: no broker. Run `eval "$(../local/kafka.sh env)"` after `../local/kafka.sh start`.');
    return;
  }
  // Long enough for each run to reach a steady state: runs of a fraction of a second mostly measure the JIT warming up.
  const total = Number(process.env.BENCH_EVENTS ?? 500_000);
  const ROUNDS = 3;
  const topic = `bench-${randomUUID().slice(0, 8)}`;
  const kafka = new Kafka({ clientId: "bench", brokers: [brokers], logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  const events = sampleEvents(total, 1000);
  for (let i = 0; i < events.length; i += 5000) {
    await producer.sendBatch({ topicMessages: [{ topic, messages: events.slice(i, i + 5000).map((value) => ({ value })) }] });
  }
  await producer.disconnect();

  /** Wall time and the CPU of the whole process (all its threads) over a run. */
  const measured = () => {
    const [wall, cpu] = [process.hrtime.bigint(), process.cpuUsage()];
    return () => {
      const seconds = Number(process.hrtime.bigint() - wall) / 1e9;
      const used = process.cpuUsage(cpu);
      return { rate: total / seconds, cpuPerEventUs: (used.user + used.system) / total };
    };
  };
  type Run = ReturnType<ReturnType<typeof measured>>;

  const bare = async (parse = false): Promise<Run> => {
    const consumer = kafka.consumer({ groupId: `bench-bare-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = measured();
    let seen = 0;
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachBatchAutoResolve: false,
        eachBatch: async (payload) => {
          const { batch } = payload;
          for (const m of batch.messages) {
            if (parse && m.value) JSON.parse(m.value.toString("utf8"));
            seen += m.value ? 1 : 0;
            payload.resolveOffset(m.offset);
          }
          await payload.commitOffsetsIfNecessary();
          await payload.heartbeat();
          if (seen >= total) resolve();
        },
      });
    });
    const run = done();
    await consumer.disconnect();
    return run;
  };

  const operator = async (): Promise<Run> => {
    const source = new KafkajsSource(
      { brokers: [brokers], topic, groupId: `bench-op-${randomUUID()}`, clientId: "bench-op", tls: false, fromBeginning: true },
      systemClock,
      log,
      (err) => {
        throw err;
      },
    );
    const intake = new ThreadIntake(foldOptions, (err) => {
      throw err;
    });
    const metrics = createMetrics();
    let seen = 0;
    let allApplied = () => {};
    // The operator's own wiring (Controller.startIntake), with a count of what was applied.
    const counted: EventSource = {
      start: (onBatch) =>
        source.start(async (batch) => {
          await onBatch(batch);
          if ((seen += batch.messages.length) >= total) allApplied();
        }),
      stop: () => source.stop(),
      health: () => source.health(),
    };
    const controller = new Controller(counted, intake, new NullKube(), systemClock, metrics, log, {
      policy: DEFAULT_POLICY,
      dryRun: true,
      maxLag: 1e9,
      staleAfterMs: 1e9,
    });
    const done = measured();
    await new Promise<void>((resolve) => {
      allApplied = resolve;
      void controller.startIntake();
    });
    const run = done();
    await source.stop();
    // Every event must have been parsed and folded, not just handed over.
    await controller.absorbIntake();
    const folded = (await metrics.eventsConsumed.get()).values.reduce((sum, v) => sum + v.value, 0);
    await intake.close();
    if (folded !== total) throw new Error(`the operator folded ${folded} of ${total} events`);
    return run;
  };

  // Alternate to spread the machine's noise over both.
  const runs = { bare: [] as Run[], bareJson: [] as Run[], operator: [] as Run[] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.bare.push(await bare());
    runs.operator.push(await operator());
    runs.bareJson.push(await bare(true));
  }
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
  const mean = (xs: Run[], of: (r: Run) => number) => xs.reduce((a, r) => a + of(r), 0) / xs.length;
  const rate = (xs: Run[]) => mean(xs, (r) => r.rate);
  const cpu = (xs: Run[]) => mean(xs, (r) => r.cpuPerEventUs).toFixed(2);
  const ratio = rate(runs.operator) / rate(runs.bare);
  console.log(
    `2. end to end (${fmt(total)} events, 3 partitions, ${ROUNDS} rounds): operator ${fmt(rate(runs.operator))} events/s; bare kafkajs consumer ${fmt(rate(runs.bare))} events/s; ratio ${ratio.toFixed(2)} (target >= 0.8) ${ratio >= 0.8 ? "MET" : "NOT MET"}; ` +
      `per round ${runs.operator.map((r, i) => (r.rate / runs.bare[i]!.rate).toFixed(2)).join(", ")}`,
  );
  console.log(
    `   for scale: a bare consumer that only JSON.parses each value: ${fmt(rate(runs.bareJson))} events/s; operator/that ${(rate(runs.operator) / rate(runs.bareJson)).toFixed(2)}`,
  );
  // Why the ratio is what it is here: the intake thread needs a core of its own, and this
  // machine's cores are shared with the broker.
  console.log(
    `   CPU per event (all threads of the process): bare ${cpu(runs.bare)} us, bare + JSON.parse ${cpu(runs.bareJson)} us, operator ${cpu(runs.operator)} us; ` +
      `${availableParallelism()} CPUs here, shared with the broker`,
  );
}

/**
 * A Job as the API server sends it in a watch event: queue-manager's Job (testkit/queue-manager-job.ts,
 * the env STREAMFORGE.md lists) with what the API server adds: defaults, the Job controller's
 * labels and selector, managedFields, status. About 4.3 KB of JSON.
 */
function servedJobEvent(i: number, now: string): string {
  const queueId = `queue-${i}-btcusdt-trades`;
  const target = "loader-producer";
  const uid = randomUUID();
  const job = queueManagerJob({
    queueId,
    target,
    namespace: "stf",
    image: "streamforge/loader-producer:latest",
    imagePullPolicy: "Always",
    env: [
      ...[
        ["SYMBOL", "BTCUSDT"],
        ["TYPE", "trades"],
        ["KAFKA_TOPIC", `binance-trades-${i}`],
        ["TELEMETRY_PRODUCER_ID", `${target}__${uid.slice(0, 8)}`],
        ["KAFKA_BOOTSTRAP_SERVERS", "k3-kafka-bootstrap.kafka:9093"],
        ["KAFKA_USER", "user-streamforge"],
        ["CA_PATH", "/usr/local/share/ca-certificates/ca.crt"],
        ["QUEUE_CONTROL_TOPIC", "queue-control"],
        ["QUEUE_EVENTS_TOPIC", "queue-events"],
        ["ARANGO_URL", "http://arangodb.stf:8529"],
        ["ARANGO_DB", "streamforge"],
        ["ARANGO_USER", "streamforge"],
        ["COLLECTION_NAME", `btcusdt_trades_${i}`],
        ["TIME_RANGE", "2026-11-01:2026-11-30"],
      ].map(([name, value]): QueueManagerEnvVar => ({ name: name!, value: value! })),
      { name: "KAFKA_PASSWORD", valueFrom: { secretKeyRef: { name: "user-streamforge", key: "password" } } },
    ],
  });
  const name = job.metadata.name;
  const labels = {
    "batch.kubernetes.io/controller-uid": uid,
    "batch.kubernetes.io/job-name": name,
    "controller-uid": uid,
    "job-name": name,
  };
  const container = job.spec.template.spec.containers[0]!;
  const envFields = Object.fromEntries(
    container.env.map((e) => [`k:{"name":"${e.name}"}`, { ".": {}, "f:name": {}, [e.value ? "f:value" : "f:valueFrom"]: {} }]),
  );
  const served = {
    ...job,
    metadata: {
      ...job.metadata,
      uid,
      resourceVersion: String(4_000_000 + i),
      generation: 1,
      creationTimestamp: now,
      labels,
      managedFields: [
        {
          manager: "OpenAPI-Generator",
          operation: "Update",
          apiVersion: "batch/v1",
          time: now,
          fieldsType: "FieldsV1",
          fieldsV1: {
            "f:spec": {
              "f:backoffLimit": {},
              "f:completionMode": {},
              "f:completions": {},
              "f:manualSelector": {},
              "f:parallelism": {},
              "f:podReplacementPolicy": {},
              "f:suspend": {},
              "f:template": {
                "f:spec": {
                  "f:containers": {
                    [`k:{"name":"${target}"}`]: {
                      ".": {},
                      "f:env": envFields,
                      "f:image": {},
                      "f:imagePullPolicy": {},
                      "f:name": {},
                      "f:resources": {},
                      "f:terminationMessagePath": {},
                      "f:terminationMessagePolicy": {},
                    },
                  },
                  "f:dnsPolicy": {},
                  "f:restartPolicy": {},
                  "f:schedulerName": {},
                  "f:securityContext": {},
                  "f:terminationGracePeriodSeconds": {},
                },
              },
              "f:ttlSecondsAfterFinished": {},
            },
          },
        },
        {
          manager: "kube-controller-manager",
          operation: "Update",
          apiVersion: "batch/v1",
          time: now,
          fieldsType: "FieldsV1",
          fieldsV1: {
            "f:status": { "f:active": {}, "f:ready": {}, "f:startTime": {}, "f:terminating": {}, "f:uncountedTerminatedPods": {} },
          },
          subresource: "status",
        },
      ],
    },
    spec: {
      ...job.spec,
      parallelism: 1,
      completions: 1,
      selector: { matchLabels: { "batch.kubernetes.io/controller-uid": uid } },
      manualSelector: false,
      completionMode: "NonIndexed",
      suspend: false,
      podReplacementPolicy: "TerminatingOrFailed",
      template: {
        metadata: { creationTimestamp: null, labels },
        spec: {
          ...job.spec.template.spec,
          containers: [{ ...container, resources: {}, terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "File" }],
          terminationGracePeriodSeconds: 30,
          dnsPolicy: "ClusterFirst",
          securityContext: {},
          schedulerName: "default-scheduler",
        },
      },
    },
    status: { startTime: now, active: 1, ready: 1, terminating: 0, uncountedTerminatedPods: {} },
  };
  return JSON.stringify({ type: "ADDED", object: served });
}

/** The heap after a full collection (run with --expose-gc). */
function heapNow(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

/** A watch that hands over the events the bench sends, parsed as client-node's Watch parses them. */
class BenchWatch implements WatchLike {
  private send: ((phase: string, obj: unknown) => void) | undefined;
  async watch(_path: string, _query: Record<string, unknown>, callback: (phase: string, obj: unknown) => void) {
    this.send = callback;
    return { abort() {} };
  }
  deliver(line: string): void {
    const data = JSON.parse(line) as { type: string; object: unknown };
    this.send!(data.type, data.object);
  }
}

/**
 * Five events for each of `n` queues into `fold`, and the report the intake thread then posts:
 * serialized, outside either heap until the controller reads it. Here and in `rounds`, work done
 * in a function of its own: an async function's suspended frame may keep a value it no longer
 * needs, which would count as the operator's.
 */
function foldQueues(fold: SignalFold, n: number, now: number): Buffer {
  for (let i = 0; i < n; i++) {
    const q = `queue-${i}-btcusdt-trades`;
    for (let k = 0; k < 5; k++) {
      const value = Buffer.from(JSON.stringify({ event: "progress", queue_id: q, sent_at: (now - 50_000 + k * 10_000) / 1000 }));
      fold.applyBatch(packBatch({ partition: 0, messages: [{ value, offset: String(k) }] }, now - 50_000 + k * 10_000));
    }
  }
  return serialize(fold.report());
}

/**
 * Runs decision rounds and returns how many Jobs the last one judged. A function of its own so
 * that no decision outlives it: the operator holds none between rounds (Manager.round), and the
 * heap is measured between rounds.
 */
async function rounds(controller: Controller, count: number): Promise<number> {
  let judged = 0;
  for (let round = 0; round < count; round++) judged = (await controller.tick()).verdicts.size;
  return judged;
}

interface MemoryRun {
  /** Per Job, in bytes. */
  readonly fold: number;
  readonly copy: number;
  readonly cache: number;
  readonly controller: number;
  readonly total: number;
}

/**
 * Everything the operator holds for `n` tracked Jobs, measured as the heap grows while it is
 * built up in one process: the queues' signals in the intake thread's fold, the controller's
 * copy of them (serialized across threads as postMessage does), the Job informer's cache filled
 * through the watch, and what the controller keeps after its rounds over them. `trimmed`:
 * the operator's informer (trimJob at its edge); otherwise the same informer storing whole
 * Jobs, as before.
 */
async function memoryRun(n: number, trimmed: boolean): Promise<MemoryRun> {
  const now = Date.now();
  const stamp = new Date(now - 60_000).toISOString().replace(/\.\d+Z$/, "Z");
  const start = heapNow();
  const fold = new SignalFold(foldOptions);
  let posted: Buffer | undefined = foldQueues(fold, n, now);
  const afterFold = heapNow();

  const watch = new BenchWatch();
  const path = "/apis/batch/v1/namespaces/stf/jobs";
  const empty = async () => ({ metadata: { resourceVersion: "1" }, items: [] });
  const informer = trimmed
    ? trimmedJobInformer(path, watch, empty, () => {
        throw new Error("a served Job was skipped");
      })
    : new k8s.ListWatch<k8s.KubernetesObject>(path, watch as unknown as k8s.Watch, empty, false);
  await informer.start();
  for (let i = 0; i < n; i++) watch.deliver(servedJobEvent(i, stamp));
  const afterCache = heapNow();

  const kube = new (class extends NullKube {
    override jobs(): CachedJob[] {
      const listed = cachedJobs(informer, "stf");
      // Before the cache was trimmed, each round read the whole Jobs.
      return trimmed ? listed : (listed as unknown as JobManifest[]).map(trimJob);
    }
  })();
  // The controller reads each report as ThreadIntake does: deserialized from what the thread posted.
  const intake: Intake = {
    apply: async () => {},
    report: async (at, forget) => {
      fold.forget(forget, at);
      const message = posted ?? serialize(fold.report());
      posted = undefined;
      return deserialize(message) as IntakeReport;
    },
    close: async () => {},
  };
  const source: EventSource = {
    start: async () => {},
    stop: async () => {},
    health: () => ({ connected: true, lag: 0, lastFetchAt: Date.now(), lastErrorAt: 0, lastJoinAt: 0 }),
  };
  const controller = new Controller(source, intake, kube, systemClock, createMetrics(), log, {
    policy: DEFAULT_POLICY,
    dryRun: true,
    maxLag: 1e9,
    staleAfterMs: 1e9,
  });
  await controller.absorbIntake();
  const afterCopy = heapNow();
  const managed = await rounds(controller, 3);
  const end = heapNow();
  if (managed !== n || fold.size !== n || cachedJobs(informer, "stf").length !== n) throw new Error("unreachable");
  await informer.stop();
  return {
    fold: (afterFold - start) / n,
    cache: (afterCache - afterFold) / n,
    copy: (afterCopy - afterCache) / n,
    controller: (end - afterCopy) / n,
    total: (end - start) / n,
  };
}

const MEMORY_RUN = "memory-run";

/** memoryRun in a fresh process, so that no run counts what an earlier one left to collect. */
function isolatedMemoryRun(n: number, trimmed: boolean): MemoryRun {
  const args = ["--expose-gc", fileURLToPath(import.meta.url), MEMORY_RUN, String(n), trimmed ? "trimmed" : "whole"];
  return JSON.parse(execFileSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 20 })) as MemoryRun;
}

async function memoryPerJob(): Promise<void> {
  if (!gc) {
    console.log("3. memory: skipped: run with node --expose-gc (npm run bench does)");
    return;
  }
  console.log(
    `3. memory per tracked Job, the whole process's heap after GC (a served Job's watch event: ${fmt(servedJobEvent(0, new Date().toISOString()).length)} bytes of JSON)`,
  );
  for (const n of [10_000, 100_000]) {
    const after = isolatedMemoryRun(n, true);
    const before = isolatedMemoryRun(n, false);
    const state = after.fold + after.copy;
    console.log(
      `   at ${fmt(n)} Jobs: ${fmt(after.total)} bytes per Job in all (target <= 1024) ${after.total <= 1024 ? "MET" : "NOT MET"}: ` +
        `operator state ${fmt(state)} (${fmt(after.fold)} in the fold + ${fmt(after.copy)} for the controller's copy), ` +
        `Job cache ${fmt(after.cache)}, the controller's other state ${fmt(after.controller)}; total/operator state ${(after.total / state).toFixed(2)}`,
    );
    console.log(
      `   baseline, the same run with the informer keeping whole Jobs: ${fmt(before.total)} bytes per Job (Job cache ${fmt(before.cache)}); ` +
        `trimmed/whole: total ${(after.total / before.total).toFixed(2)}, cache ${(after.cache / before.cache).toFixed(2)}`,
    );
  }
}

async function detectionDelay(): Promise<void> {
  const stuckAfterMs = 2000;
  const policy: Policy = {
    ...DEFAULT_POLICY,
    defaultTarget: { stuckAfterMs, startGraceMs: 0, adaptive: false, minStuckAfterMs: stuckAfterMs },
    massSilence: { minJobs: 1000, fraction: 1 },
  };
  const delays: number[] = [];
  for (let run = 0; run < 5; run++) {
    const current: { job?: JobManifest } = {};
    let detectedAt = 0;
    const kube = new (class extends NullKube {
      override jobs() {
        return current.job ? [trimJob(current.job)] : [];
      }
      override async readJob() {
        return current.job;
      }
      override async annotateIfUnchanged() {
        detectedAt ||= Date.now();
        return false;
      }
    })();
    const source = {
      start: async () => {},
      stop: async () => {},
      health: () => ({ connected: true, lag: 0, lastFetchAt: Date.now(), lastErrorAt: 0, lastJoinAt: 0 }),
    };
    const controller = new Controller(source, new InlineIntake(foldOptions), kube, systemClock, createMetrics(), log, {
      policy,
      dryRun: false,
      maxLag: 1e9,
      staleAfterMs: 1e9,
    });
    // The operator is already listening when the Job appears, at a random moment.
    const observingSince = Date.now();
    await controller.startIntake();
    await new Promise((r) => setTimeout(r, Math.random() * 1000));
    // creationTimestamp has one-second resolution, as the API server's does.
    const createdAt = Math.floor(Date.now() / 1000) * 1000;
    current.job = {
      metadata: {
        name: `q${run}-custom`,
        namespace: "stf",
        uid: `u${run}`,
        resourceVersion: "1",
        creationTimestamp: new Date(createdAt).toISOString(),
      },
      spec: { template: { spec: { containers: [{ name: "c", env: [{ name: "QUEUE_ID", value: `q${run}` }] }] } } },
    };
    // Silence counts from the Job's start, or from when the operator began observing if that is
    // later (a creationTimestamp rounded down can be): it cannot vouch for what came before.
    const threshold = Math.max(createdAt, observingSince) + stuckAfterMs;
    // The same loop main.ts runs: decide, then sleep until the next verdict is due (at most 1 s).
    while (!detectedAt) {
      const decision = await controller.tick();
      if (!detectedAt) await new Promise((r) => setTimeout(r, nextWakeIn(decision, Date.now(), 1000)));
    }
    delays.push(detectedAt - threshold);
  }
  const max = Math.max(...delays);
  console.log(
    `4. detection delay beyond the threshold (loop of at most 1 s, waking when a verdict is due; 5 runs): ${delays.map((d) => `${d} ms`).join(", ")}; max ${max} ms (target <= 1000) ${max <= 1000 ? "MET" : "NOT MET"}`,
  );
}

if (process.argv[2] === MEMORY_RUN) {
  // One measurement in a process of its own (see memoryPerJob).
  console.log(JSON.stringify(await memoryRun(Number(process.argv[3]), process.argv[4] === "trimmed")));
} else {
  coreThroughput();
  await memoryPerJob();
  await detectionDelay();
  await endToEnd();
}
