/**
 * What a queue's events say, folded into a few timestamps. Every field is a maximum, so
 * applying events in any order, or twice, gives the same state: out-of-order delivery across
 * partitions and redelivery after a rebalance cannot confuse it. Only in-order fresh events
 * feed the learned rhythm.
 */
import type { QueueEvent } from "./events.js";
import { EMPTY_RHYTHM, type Rhythm, observeInterval } from "./rhythm.js";

/**
 * The learned rhythm's three numbers sit in the signal itself rather than in an object of their
 * own: a signal is kept twice per queue (the intake thread's and the controller's copy), and
 * the object would add about 32 bytes to each.
 */
export interface QueueSignal extends Rhythm {
  /** Local-clock time of the newest sign of life (ms). */
  readonly aliveAt: number;
  /** Newest event time seen (ms). */
  readonly lastOccurredAt: number;
  /** Newest started / progress event time (ms); 0 when none. */
  readonly progressAt: number;
  /** Newest `status: error` event time; 0 when none. */
  readonly errorAt: number;
  readonly errorMessage: string | undefined;
  /** Newest documented `event: error` (critical) time; 0 when none. */
  readonly fatalAt: number;
  readonly finishedAt: number;
  readonly interruptedAt: number;
}

export const EMPTY_SIGNAL: QueueSignal = {
  aliveAt: 0,
  lastOccurredAt: 0,
  progressAt: 0,
  errorAt: 0,
  errorMessage: undefined,
  fatalAt: 0,
  finishedAt: 0,
  interruptedAt: 0,
  ...EMPTY_RHYTHM,
};

/**
 * When an event counts as a sign of life: when it arrived, unless its own time says it is
 * older than `maxEventAgeMs` (a replay, a backlog): then only its own time.
 */
export function aliveTime(event: QueueEvent, maxEventAgeMs: number): number {
  return event.receivedAt - event.occurredAt > maxEventAgeMs ? event.occurredAt : event.receivedAt;
}

export function applyEvent(signal: QueueSignal, event: QueueEvent, maxEventAgeMs: number): QueueSignal {
  const t = event.occurredAt;
  const kind = event.kind;
  const aliveAt = aliveTime(event, maxEventAgeMs);
  const inOrder = t > signal.lastOccurredAt && aliveAt > signal.aliveAt;
  // The newest error's message wins; a fatal event's message also counts as the newest error's.
  const newestError = (kind === "error" || kind === "fatal") && t >= signal.errorAt;
  // A fresh in-order event after an earlier one is an interval of the Job's rhythm.
  const rhythm = inOrder && signal.aliveAt > 0 ? observeInterval(signal, aliveAt - signal.aliveAt) : signal;
  // One literal, not a spread and then edits: this runs for every event.
  return {
    aliveAt: Math.max(signal.aliveAt, aliveAt),
    lastOccurredAt: Math.max(signal.lastOccurredAt, t),
    progressAt: kind === "started" || kind === "progress" ? Math.max(signal.progressAt, t) : signal.progressAt,
    errorAt: kind === "error" && t >= signal.errorAt ? t : signal.errorAt,
    errorMessage: newestError ? event.message : signal.errorMessage,
    fatalAt: kind === "fatal" ? Math.max(signal.fatalAt, t) : signal.fatalAt,
    finishedAt: kind === "finished" ? Math.max(signal.finishedAt, t) : signal.finishedAt,
    interruptedAt: kind === "interrupted" ? Math.max(signal.interruptedAt, t) : signal.interruptedAt,
    count: rhythm.count,
    mean: rhythm.mean,
    variance: rhythm.variance,
  };
}
