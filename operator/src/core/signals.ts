/**
 * What a queue's events say, folded into a few timestamps. Every field is a maximum, so
 * applying events in any order, or twice, gives the same state: out-of-order delivery across
 * partitions and redelivery after a rebalance cannot confuse it. Only in-order fresh events
 * feed the learned rhythm.
 */
import type { QueueEvent } from "./events.js";
import { EMPTY_RHYTHM, type Rhythm, observeInterval } from "./rhythm.js";

export interface QueueSignal {
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
  readonly rhythm: Rhythm;
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
  rhythm: EMPTY_RHYTHM,
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
  const aliveAt = aliveTime(event, maxEventAgeMs);
  const inOrder = t > signal.lastOccurredAt && aliveAt > signal.aliveAt;
  const next: { -readonly [K in keyof QueueSignal]: QueueSignal[K] } = {
    ...signal,
    aliveAt: Math.max(signal.aliveAt, aliveAt),
    lastOccurredAt: Math.max(signal.lastOccurredAt, t),
    // A fresh in-order event after an earlier one is an interval of the Job's rhythm.
    rhythm: inOrder && signal.aliveAt > 0 ? observeInterval(signal.rhythm, aliveAt - signal.aliveAt) : signal.rhythm,
  };
  switch (event.kind) {
    case "started":
    case "progress":
      next.progressAt = Math.max(signal.progressAt, t);
      break;
    case "error":
      if (t >= signal.errorAt) {
        next.errorAt = t;
        next.errorMessage = event.message;
      }
      break;
    case "fatal":
      next.fatalAt = Math.max(signal.fatalAt, t);
      if (t >= signal.errorAt) next.errorMessage = event.message;
      break;
    case "finished":
      next.finishedAt = Math.max(signal.finishedAt, t);
      break;
    case "interrupted":
      next.interruptedAt = Math.max(signal.interruptedAt, t);
      break;
  }
  return next;
}
