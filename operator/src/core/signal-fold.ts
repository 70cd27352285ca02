/**
 * Intake's fold: raw `queue-events` values in, queue signals and a tally out. Pure (no I/O, no
 * clock: times are passed in), so the same code runs on the main thread in tests and on the
 * intake thread in the operator.
 */
import { type EventKind, type ParseLimits, type QueueEvent, type RejectReason, parseEventBytes } from "./events.js";
import { queueKey } from "./jobs.js";
import { EMPTY_SIGNAL, type QueueSignal, applyEvent } from "./signals.js";

/** The first message rejected for a reason since the last report, for the log. */
export interface RejectionSample {
  readonly detail: string;
  readonly partition: number;
  readonly offset: string;
}

/** What intake saw since the previous report. Plain data: it crosses threads. */
export interface IntakeReport {
  /** The current signal of every queue that changed. */
  readonly changed: [key: string, signal: QueueSignal][];
  readonly consumedByKind: [kind: EventKind, count: number][];
  readonly rejected: { readonly reason: RejectReason; readonly count: number; readonly first: RejectionSample }[];
  readonly clockSkewed: number;
}

export interface FoldOptions {
  readonly parseLimits: ParseLimits;
  /** Events older than this (by their own time) are not a sign of life now. */
  readonly maxEventAgeMs: number;
  /** A queue with no event for this long and no Job is forgotten, so state does not grow with every queue ever seen. */
  readonly retentionMs: number;
}

/** A batch as it crosses to the worker: values back to back in one transferable buffer. */
export interface PackedBatch {
  readonly partition: number;
  readonly receivedAt: number;
  /** The cluster's clock minus ours when it arrived: turns the events' stamps into our time. */
  readonly clusterOffsetMs: number;
  readonly bytes: Uint8Array;
  /** Length of each value; -1 for a null value (a tombstone). */
  readonly lengths: Int32Array;
  readonly offsets: Float64Array;
}

/** Messages of one partition as the Kafka client returns them. */
export interface FetchedBatch {
  readonly partition: number;
  readonly messages: readonly { readonly value: Uint8Array | null; readonly offset: string }[];
}

/** Packs a fetched batch for the intake thread. */
export function packBatch(batch: FetchedBatch, receivedAt: number, clusterOffsetMs = 0): PackedBatch {
  const { messages } = batch;
  let total = 0;
  for (const m of messages) total += m.value?.byteLength ?? 0;
  // Its own ArrayBuffer (not Node's shared pool), so it can be transferred rather than copied.
  const bytes = new Uint8Array(total);
  const lengths = new Int32Array(messages.length);
  const offsets = new Float64Array(messages.length);
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    offsets[i] = Number(m.offset);
    if (m.value === null) {
      lengths[i] = -1;
      continue;
    }
    bytes.set(m.value, at);
    at += m.value.byteLength;
    lengths[i] = m.value.byteLength;
  }
  return { partition: batch.partition, receivedAt, clusterOffsetMs, bytes, lengths, offsets };
}

/** Not heard from for longer than the retention. */
export const isStale = (s: QueueSignal, now: number, retentionMs: number) => now - Math.max(s.aliveAt, s.lastOccurredAt) > retentionMs;

/**
 * Queues whose state may go: stale, and no Job in the watched namespace is theirs. A Job that
 * finished or was interrupted keeps its queue's state as long as it exists, so it is never
 * taken for a silent one.
 */
export function forgettable(
  signals: ReadonlyMap<string, QueueSignal>,
  jobQueues: ReadonlySet<string>,
  now: number,
  retentionMs: number,
): string[] {
  const keys: string[] = [];
  for (const [key, signal] of signals) if (!jobQueues.has(key) && isStale(signal, now, retentionMs)) keys.push(key);
  return keys;
}

export class SignalFold {
  private readonly signals = new Map<string, QueueSignal>();
  private changed = new Set<string>();
  private consumed = new Map<EventKind, number>();
  private rejected = new Map<RejectReason, { count: number; first: RejectionSample }>();
  private clockSkewed = 0;

  constructor(private readonly options: FoldOptions) {}

  /** Folds a batch; never throws: an unusable message is tallied by reason. */
  applyBatch(batch: PackedBatch): void {
    const bytes = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
    let at = 0;
    for (let i = 0; i < batch.lengths.length; i++) {
      const length = batch.lengths[i]!;
      const parsed =
        length < 0
          ? ({ ok: false, reason: "malformed-json", detail: "empty message" } as const)
          : parseEventBytes(bytes, at, (at += length), batch.receivedAt, this.options.parseLimits, batch.clusterOffsetMs);
      if (parsed.ok) this.fold(parsed.event);
      else this.tallyRejection(parsed.reason, parsed.detail, batch.partition, batch.offsets[i]!);
    }
  }

  private fold(event: QueueEvent): void {
    if (event.clockSkewed) this.clockSkewed += 1;
    this.consumed.set(event.kind, (this.consumed.get(event.kind) ?? 0) + 1);
    const key = queueKey(event.queueId);
    this.signals.set(key, applyEvent(this.signals.get(key) ?? EMPTY_SIGNAL, event, this.options.maxEventAgeMs));
    this.changed.add(key);
  }

  private tallyRejection(reason: RejectReason, detail: string, partition: number, offset: number): void {
    const seen = this.rejected.get(reason);
    if (seen) seen.count += 1;
    else this.rejected.set(reason, { count: 1, first: { detail, partition, offset: String(offset) } });
  }

  /** What changed since the last report. */
  report(): IntakeReport {
    const report: IntakeReport = {
      changed: [...this.changed].map((key) => [key, this.signals.get(key)!]),
      consumedByKind: [...this.consumed],
      rejected: [...this.rejected].map(([reason, r]) => ({ reason, ...r })),
      clockSkewed: this.clockSkewed,
    };
    this.changed = new Set();
    this.consumed = new Map();
    this.rejected = new Map();
    this.clockSkewed = 0;
    return report;
  }

  /** Drops queues found stale and unused, unless an event arrived for them since. */
  forget(keys: readonly string[], now: number): void {
    for (const key of keys) {
      const signal = this.signals.get(key);
      if (signal && isStale(signal, now, this.options.retentionMs)) this.signals.delete(key);
    }
  }

  get size(): number {
    return this.signals.size;
  }
}
