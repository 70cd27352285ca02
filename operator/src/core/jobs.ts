/**
 * What the operator knows of a Kubernetes Job, read from a plain manifest (the shape the API
 * returns), and how a Job is tied to its queue. Pure: no Kubernetes client here.
 */
import { ANNOTATIONS, KNOWN_TARGETS } from "../contract.js";

/** Annotations the operator reads and writes: in the contract, which the program's guard reads too. */
export { ANNOTATIONS };

export const QUEUE_ID_LABEL = "streamforge.io/queue-id";

/** The `target` values queue-manager accepts (the settings contract holds the list). */
export { KNOWN_TARGETS };

/** The subset of a Kubernetes Job manifest the operator reads. */
export interface JobManifest {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string | Date;
    deletionTimestamp?: string | Date;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  spec?: {
    template?: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [key: string]: unknown };
      spec?: {
        containers?: { name: string; env?: { name: string; value?: string; [key: string]: unknown }[]; [key: string]: unknown }[];
        [key: string]: unknown;
      };
    };
    [key: string]: unknown;
  };
  status?: {
    startTime?: string | Date;
    conditions?: { type: string; status: string; [key: string]: unknown }[];
    [key: string]: unknown;
  };
}

export type JobPhase = "active" | "complete" | "failed";

export interface ObservedJob {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
  /** Normalised queue key (see queueKey); undefined when the Job is not a queue's Job. */
  readonly queue: string | undefined;
  readonly target: string | undefined;
  readonly createdAt: number;
  /** For a replacement, when its relaunch was decided (ms); 0 for a Job queue-manager launched. */
  readonly relaunchedAt: number;
  readonly startedAt: number | undefined;
  readonly phase: JobPhase;
  readonly optedOut: boolean;
  readonly deleting: boolean;
  readonly supersededBy: string | undefined;
  readonly gaveUp: boolean;
  readonly attempt: number;
  /** Epoch ms of this queue-and-target's earlier relaunches, carried from Job to Job. */
  readonly relaunchHistory: readonly number[];
}

/** queue-manager's Job name rule sanitises queue ids; events carry them raw. Both meet here. */
export function queueKey(queueId: string): string {
  // Most ids are already in the sanitised form; the replace chain is the slow path.
  if (/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(queueId)) return queueId;
  return queueId
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

const toMs = (t: string | Date | undefined): number | undefined => (t === undefined ? undefined : new Date(t).getTime());

function envOf(job: JobManifest, name: string): string | undefined {
  for (const container of job.spec?.template?.spec?.containers ?? []) {
    const found = container.env?.find((e) => e.name === name && typeof e.value === "string");
    if (found?.value !== undefined) return found.value;
  }
  return undefined;
}

/** The Job's name without the `-r<N>` suffix of a relaunch. */
export function originalName(job: JobManifest): string {
  return job.metadata.annotations?.[ANNOTATIONS.originalName] ?? job.metadata.name;
}

function targetFromName(name: string): string | undefined {
  return KNOWN_TARGETS.find((t) => name.endsWith(`-${t}`));
}

/** The queue a Job runs: a label, else its QUEUE_ID env var, else the `<queue_id>-<target>` name rule. */
export function queueOf(job: JobManifest): string | undefined {
  const fromLabel = job.metadata.labels?.[QUEUE_ID_LABEL] ?? job.metadata.annotations?.[ANNOTATIONS.queueId];
  const raw = fromLabel ?? envOf(job, "QUEUE_ID");
  if (raw !== undefined && raw.trim() !== "") return queueKey(raw);
  return queueInName(originalName(job));
}

/** The `<queue_id>-<target>` name rule. */
function queueInName(name: string): string | undefined {
  const target = targetFromName(name);
  return target ? queueKey(name.slice(0, -(target.length + 1))) || undefined : undefined;
}

export function targetOf(job: JobManifest): string | undefined {
  const fromLabel = job.metadata.labels?.[ANNOTATIONS.target];
  if (fromLabel) return fromLabel;
  const producer = envOf(job, "TELEMETRY_PRODUCER_ID");
  if (producer?.includes("__")) return producer.split("__")[0];
  return targetFromName(originalName(job));
}

function phaseOf(job: JobManifest): JobPhase {
  const done = (type: string) => job.status?.conditions?.some((c) => c.type === type && c.status === "True") ?? false;
  if (done("Failed")) return "failed";
  if (done("Complete")) return "complete";
  return "active";
}

export function parseHistory(value: string | undefined): number[] {
  if (!value) return [];
  return value
    .split(",")
    .map((s) => Number(s.trim()) * 1000)
    .filter((n) => Number.isFinite(n) && n > 0);
}

/**
 * Litmus's own Jobs (an experiment's Job carries the engine's `chaosUID` and `part-of: litmus`)
 * are never StreamForge work, even where a namespaced Litmus runs them beside the workers and a
 * name happens to fit `<queue_id>-<target>`.
 */
function isChaosJob(labels: Record<string, string> | undefined): boolean {
  return labels?.["chaosUID"] !== undefined || labels?.["app.kubernetes.io/part-of"] === "litmus";
}

/** A Job as the operator names it in writes and Events: all they read of it. */
export interface JobRef {
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly uid?: string };
}

/**
 * Annotations the operator reads back from the Job cache. The others it writes (the relaunch
 * reason, up to 1 KiB, and relaunched-from) are for people, and the queue-id, original-name and
 * opt-out annotations are read into `queue` and `optedOut` at the cache's edge.
 */
const CACHED_ANNOTATIONS: readonly string[] = [
  ANNOTATIONS.attempt,
  ANNOTATIONS.relaunchedAt,
  ANNOTATIONS.history,
  ANNOTATIONS.supersededBy,
  ANNOTATIONS.pending,
  ANNOTATIONS.gaveUp,
];

/**
 * What the Job cache keeps of a Job (`trimJob`): the metadata the operator reads, and its reading
 * of the rest, done once when the Job arrives instead of every round. The replacement of a Job
 * is built from the Job read from the API server, never from this.
 */
export interface CachedJob extends JobRef {
  readonly metadata: JobRef["metadata"] & {
    readonly resourceVersion?: string;
    /** Present while the Job is being deleted. */
    readonly deletionTimestamp?: string | Date;
    /** Only CACHED_ANNOTATIONS; absent when the Job has none of them. */
    readonly annotations?: Readonly<Record<string, string>>;
  };
  /** creationTimestamp and status.startTime in ms, the API server's clock; undefined when unset. */
  readonly createdAt: number | undefined;
  readonly startedAt: number | undefined;
  /**
   * The queue, only when the Job's name does not say it: queue-manager names a Job
   * `<queue_id>-<target>`, so most Jobs keep no second copy of it (48 bytes); observeJob reads it
   * from the name then.
   */
  readonly queue: string | undefined;
  readonly target: string | undefined;
  readonly phase: JobPhase;
  /** Opted out by annotation on the Job or its template, or a Litmus Job. */
  readonly optedOut: boolean;
}

/**
 * The Job cache's transform, as client-go's SharedInformer.SetTransform is "to strip unused
 * metadata fields out of objects to save on RAM cost": a queue-manager Job as the API server
 * returns it (managedFields, the pod template, 15 env vars) takes about 9 KB of heap parsed,
 * this about 0.4 KB. Pure; reads a malformed Job the way the readers above do (they may throw
 * on a shape the API server would never send: the cache's edge skips such objects).
 */
export function trimJob(job: JobManifest): CachedJob {
  const meta = job.metadata;
  const queue = queueOf(job);
  const optOut = (a: Record<string, string> | undefined) => a?.[ANNOTATIONS.selfHealing] === "disabled";
  let annotations: Record<string, string> | undefined;
  for (const key of CACHED_ANNOTATIONS) {
    const value = meta.annotations?.[key];
    if (value !== undefined) (annotations ??= {})[key] = value;
  }
  return {
    metadata: {
      name: meta.name,
      ...(meta.namespace === undefined ? {} : { namespace: meta.namespace }),
      ...(meta.uid === undefined ? {} : { uid: meta.uid }),
      ...(meta.resourceVersion === undefined ? {} : { resourceVersion: meta.resourceVersion }),
      ...(meta.deletionTimestamp === undefined ? {} : { deletionTimestamp: meta.deletionTimestamp }),
      ...(annotations === undefined ? {} : { annotations }),
    },
    createdAt: toMs(meta.creationTimestamp),
    startedAt: toMs(job.status?.startTime),
    queue: queue === queueInName(meta.name) ? undefined : queue,
    // One string per target, not one per Job: targets are a handful of names.
    target: internTarget(targetOf(job)),
    phase: phaseOf(job),
    optedOut:
      optOut(meta.annotations) ||
      optOut(job.spec?.template?.metadata?.annotations) ||
      isChaosJob(meta.labels) ||
      isChaosJob(job.spec?.template?.metadata?.labels),
  };
}

const internTarget = (target: string | undefined): string | undefined => KNOWN_TARGETS.find((t) => t === target) ?? target;

/**
 * `serverOffsetMs` is the API server's clock minus this replica's (what the kube adapter
 * measures). Every time in a Job, whether the server stamped it or a replica wrote it into an
 * annotation (replicas write server time: see `toServerTime`), is turned into this replica's
 * clock, so a replica minutes off compares like with like.
 */
/** The relaunch attempt a Job records: 0 for a Job queue-manager launched, or a record that is not a whole number. */
export function attemptOf(annotations: Readonly<Record<string, string>> | undefined): number {
  const attempt = Number(annotations?.[ANNOTATIONS.attempt] ?? "0");
  return Number.isInteger(attempt) && attempt >= 0 ? attempt : 0;
}

export function observeJob(job: CachedJob, serverOffsetMs = 0): ObservedJob {
  const local = (t: number | undefined) => (t === undefined || t === 0 ? t : t - serverOffsetMs);
  const meta = job.metadata;
  // A measured offset is good to about a second: err towards an earlier creation, so an event
  // right after it is never taken for one of an earlier incarnation.
  const created = local(job.createdAt);
  const annotations = meta.annotations ?? {};
  const namespace = meta.namespace ?? "default";
  return {
    key: `${namespace}/${meta.name}`,
    namespace,
    name: meta.name,
    uid: meta.uid ?? "",
    resourceVersion: meta.resourceVersion ?? "",
    queue: job.queue ?? queueInName(meta.name),
    target: job.target,
    createdAt: created === undefined ? 0 : created - (serverOffsetMs === 0 ? 0 : 1000),
    relaunchedAt: local(Number(annotations[ANNOTATIONS.relaunchedAt] ?? 0) || 0) ?? 0,
    startedAt: local(job.startedAt),
    phase: job.phase,
    optedOut: job.optedOut,
    deleting: meta.deletionTimestamp !== undefined,
    supersededBy: annotations[ANNOTATIONS.supersededBy],
    gaveUp: annotations[ANNOTATIONS.gaveUp] !== undefined,
    attempt: attemptOf(annotations),
    relaunchHistory: parseHistory(annotations[ANNOTATIONS.history]).map((t) => t - serverOffsetMs),
  };
}
