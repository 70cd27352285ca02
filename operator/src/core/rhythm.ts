/**
 * A Job's own event rhythm, learned online, and the phi accrual suspicion level of a silence
 * (Hayashibara et al.; as in Akka and Cassandra). phi = -log10(P(the next event comes later
 * than `silence`)), with intervals modelled as a normal distribution. phi 8 means a one in
 * 10^8 chance that a healthy Job of this rhythm would be this quiet.
 * Fixed size (three numbers), so a tracked Job stays small.
 */
export interface Rhythm {
  /** Intervals seen. */
  readonly count: number;
  /** Exponentially weighted mean and variance of the intervals (ms). */
  readonly mean: number;
  readonly variance: number;
}

export const EMPTY_RHYTHM: Rhythm = { count: 0, mean: 0, variance: 0 };

/** Weight of the newest interval: recent rhythm matters more, a Job may change pace. */
const ALPHA = 0.1;

export function observeInterval(rhythm: Rhythm, intervalMs: number): Rhythm {
  if (!(intervalMs > 0)) return rhythm;
  if (rhythm.count === 0) return { count: 1, mean: intervalMs, variance: 0 };
  const diff = intervalMs - rhythm.mean;
  const mean = rhythm.mean + ALPHA * diff;
  const variance = (1 - ALPHA) * (rhythm.variance + ALPHA * diff * diff);
  return { count: rhythm.count + 1, mean, variance };
}

/**
 * Suspicion that a silence of `silenceMs` means the source is gone. `minStdDevMs` keeps a very
 * regular rhythm from making a small delay look fatal; `acceptablePauseMs` is added to the mean.
 */
export function phi(rhythm: Rhythm, silenceMs: number, minStdDevMs: number, acceptablePauseMs = 0): number {
  if (rhythm.count === 0) return 0;
  const mean = rhythm.mean + acceptablePauseMs;
  const std = Math.max(Math.sqrt(rhythm.variance), minStdDevMs);
  const y = (silenceMs - mean) / std;
  // Logistic approximation of the normal CDF tail (Akka's PhiAccrualFailureDetector).
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  const tail = silenceMs > mean ? e / (1 + e) : 1 - 1 / (1 + e);
  return tail <= 0 ? Number.POSITIVE_INFINITY : -Math.log10(tail);
}
