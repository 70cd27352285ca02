/** A fake world for the core's tests: a clock, Jobs as queue-manager creates them, events as workers send them. */
import { decide, initialBucket, type Decision, type Verdict, assess } from "../src/core/decide.js";
import { DEFAULT_PARSE_LIMITS, parseEvent } from "../src/core/events.js";
import { type JobManifest, type ObservedJob, observeJob, trimJob } from "../src/core/jobs.js";
import { DEFAULT_POLICY, type Policy } from "../src/core/policy.js";
import { EMPTY_SIGNAL, type QueueSignal, applyEvent } from "../src/core/signals.js";
import { queueManagerJob as queueManagerJobOf } from "../testkit/queue-manager-job.js";

export const T0 = Date.parse("2026-11-27T10:00:00Z");
export const s = (seconds: number): number => T0 + seconds * 1000;

/** What queue-manager's job_launcher submits: `<queue_id>-<target>`, no labels, the task in env. */
export function queueManagerJob(queueId: string, target: string): JobManifest {
  return queueManagerJobOf({
    queueId,
    target,
    name: `${queueId}-${target}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-"),
    image: `streamforge/${target}:latest`,
    imagePullPolicy: "Always",
    env: [
      { name: "SYMBOL", value: "BTCUSDT" },
      { name: "TYPE", value: "trades" },
      { name: "KAFKA_TOPIC", value: "market-trades" },
      { name: "TELEMETRY_PRODUCER_ID", value: `${target}__abc123` },
      { name: "QUEUE_EVENTS_TOPIC", value: "queue-events" },
      { name: "KAFKA_PASSWORD", valueFrom: { secretKeyRef: { name: "loaders", key: "password" } } },
    ],
  });
}

/** That Job as the API server returns it: uid, creation time, the selector and labels the Job controller adds, status. */
export function launchedJob(
  queueId: string,
  target: string,
  opts: { createdAt?: number; phase?: "Complete" | "Failed"; annotations?: Record<string, string> } = {},
): JobManifest {
  const job = queueManagerJob(queueId, target);
  const name = job.metadata.name;
  const controller = {
    "batch.kubernetes.io/controller-uid": `uid-${name}`,
    "batch.kubernetes.io/job-name": name,
    "job-name": name,
    "controller-uid": `uid-${name}`,
  };
  return {
    ...job,
    metadata: {
      name,
      namespace: "stf",
      uid: `uid-${name}`,
      resourceVersion: "1",
      creationTimestamp: new Date(opts.createdAt ?? T0).toISOString(),
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: {
      ...job.spec,
      selector: { matchLabels: { "batch.kubernetes.io/controller-uid": `uid-${name}` } },
      template: { ...job.spec!.template, metadata: { labels: controller } },
    },
    status: {
      startTime: new Date(opts.createdAt ?? T0).toISOString(),
      ...(opts.phase ? { conditions: [{ type: opts.phase, status: "True" }] } : {}),
    },
  };
}

export const loading = (queueId: string, at: number) => ({
  event: "status",
  queue_id: queueId,
  status: "loading",
  sent_at: at / 1000,
  finished: false,
});
export const progress = (queueId: string, at: number) => ({
  event: "progress",
  queue_id: queueId,
  symbol: "BTCUSDT",
  type: "trades",
  message_count: 10,
  sent_at: at / 1000,
});
export const statusError = (queueId: string, at: number, message: string) => ({
  event: "status",
  queue_id: queueId,
  status: "error",
  message,
  sent_at: at / 1000,
});
export const statusFinished = (queueId: string, at: number) => ({
  event: "status",
  queue_id: queueId,
  status: "finished",
  finished: true,
  sent_at: at / 1000,
});
export const documented = (queueId: string, event: string, at: number, payload: object = {}) => ({
  queue_id: queueId,
  event,
  timestamp: new Date(at).toISOString(),
  payload,
});

export interface Delivery {
  /** When it arrives (ms). */
  readonly at: number;
  readonly body: unknown;
}

/** Folds deliveries into signals, as the intake does. */
export function signalsOf(deliveries: readonly Delivery[], policy: Policy = DEFAULT_POLICY): Map<string, QueueSignal> {
  const signals = new Map<string, QueueSignal>();
  for (const d of [...deliveries].sort((a, b) => a.at - b.at)) {
    const parsed = parseEvent(typeof d.body === "string" ? d.body : JSON.stringify(d.body), d.at, DEFAULT_PARSE_LIMITS);
    if (!parsed.ok) continue;
    const key = parsed.event.queueId.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
    signals.set(key, applyEvent(signals.get(key) ?? EMPTY_SIGNAL, parsed.event, policy.maxEventAgeMs));
  }
  return signals;
}

export function verdictAt(
  job: JobManifest,
  deliveries: readonly Delivery[],
  now: number,
  policy: Policy = DEFAULT_POLICY,
  observingSince = T0,
): Verdict {
  const observed = observeJob(trimJob(job));
  const signal = signalsOf(deliveries, policy).get(observed.queue!) ?? EMPTY_SIGNAL;
  return assess(observed, signal, now, observingSince, policy);
}

export function decideAt(
  jobs: readonly JobManifest[],
  deliveries: readonly Delivery[],
  now: number,
  opts: { policy?: Policy; sourceHealthy?: boolean; inFlight?: string[]; tokens?: number } = {},
): Decision {
  const policy = opts.policy ?? DEFAULT_POLICY;
  const observed: ObservedJob[] = jobs.map((job) => observeJob(trimJob(job)));
  return decide(
    {
      now,
      jobs: observed,
      signals: signalsOf(deliveries, policy),
      observingSince: T0,
      sourceHealthy: opts.sourceHealthy ?? true,
      inFlight: new Set(opts.inFlight ?? []),
      bucket: opts.tokens === undefined ? initialBucket(policy, now) : { tokens: opts.tokens, updatedAt: now },
    },
    policy,
  );
}

/** Deliveries every `every` seconds from `from` to `to` (inclusive), arriving when sent. */
export function rhythm(
  queueId: string,
  from: number,
  to: number,
  every: number,
  make: (queueId: string, at: number) => object = loading,
): Delivery[] {
  const out: Delivery[] = [];
  for (let t = from; t <= to; t += every) out.push({ at: s(t), body: make(queueId, s(t)) });
  return out;
}
