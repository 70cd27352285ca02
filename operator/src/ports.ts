/**
 * The operator's edges. The controller depends on these small interfaces only, so the Kafka
 * client and the Kubernetes client can be swapped (and faked in tests).
 */
import type { CachedJob, JobManifest, JobRef } from "./core/jobs.js";

export interface Clock {
  now(): number;
}

/** Timers on the clock's time: Node's in the operator, a fake in tests that moves time by hand. */
export interface Timers {
  /** Calls `fn` once, `ms` from now; the function returned cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock & Timers = {
  now: () => Date.now(),
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export interface RawMessage {
  readonly value: Buffer | null;
  readonly offset: string;
}

/** Consecutive messages of one partition, as fetched. */
export interface RawBatch {
  readonly partition: number;
  readonly messages: readonly RawMessage[];
}

export interface SourceHealth {
  /** Joined the group and fetching. */
  readonly connected: boolean;
  /** Messages behind the log end, summed over the partitions seen; undefined until known. */
  readonly lag: number | undefined;
  /** Local time of the last successful fetch (ms), 0 before the first. */
  readonly lastFetchAt: number;
  /** Local time of the last error reaching a broker (ms), 0 if none: fetches may still look fine while a broker goes away. */
  readonly lastErrorAt: number;
  /** Local time the consumer last joined its group (ms), 0 before: a join after an error means the brokers answer again. */
  readonly lastJoinAt: number;
}

/**
 * Where events come from. A batch's offsets are committed only once the promise `onBatch`
 * returned for it has resolved (the batch is applied); later batches may be handed over before
 * then, and a batch whose promise rejects is never committed.
 */
export interface EventSource {
  start(onBatch: (batch: RawBatch) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
  health(): SourceHealth;
}

export type CreateResult = "created" | "exists";

/** A request the API server answered with an error status (undefined: no answer at all). */
export class ApiError extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/**
 * A write refused before it was sent because this replica no longer acts (it lost the Lease, or
 * is stopping on a fatal error): nothing reached the API server, and the next leader carries on
 * from the state of the world (a claimed relaunch is finished from its claim).
 */
export class NotActing extends Error {
  constructor(write: string) {
    super(`Did not ${write}: this replica no longer acts`);
    this.name = "NotActing";
  }
}

/** What the operator does to Kubernetes. Jobs live in one watched namespace. */
export interface KubePort {
  /** Current Jobs of the watched namespace, kept fresh by a watch, as the cache keeps them (trimJob). */
  jobs(): CachedJob[];
  /** The whole Job, read from the API server (not the cache): what a replacement is built from. */
  readJob(name: string): Promise<JobManifest | undefined>;
  /** Merge-patches annotations if the Job is still at `resourceVersion`; false when it changed (someone else acted). */
  annotateIfUnchanged(name: string, resourceVersion: string, annotations: Record<string, string>): Promise<boolean>;
  createJob(job: JobManifest): Promise<CreateResult>;
  /** Deletes with Background propagation (its pods go too) if the Job still has `uid`. */
  deleteJob(name: string, uid: string): Promise<void>;
  recordEvent(job: JobRef, type: "Normal" | "Warning", reason: string, message: string): Promise<void>;
  /** The API server's clock minus this process's, in ms, as last measured (0 until measured). */
  serverClockOffset(): number;
}
