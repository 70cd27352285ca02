/**
 * Argo Rollouts' aggregation of one metric's measurements into the metric's phase, as the
 * v1.10.2 controller does it (the source read: the Go module argo-rollouts@v1.10.2, the version
 * local/rollouts.sh builds and rollouts/config.ts pins). Pure; each rule names where it comes from.
 * The test of our limits runs every measurement sequence through it, and the real controller shows
 * the sequences where a naive reading of the limits and Argo differ (rollouts/test/controller.itest.ts).
 */

/** A measurement's phase (the provider's verdict on one query). */
export type Measurement = "Successful" | "Failed" | "Inconclusive" | "Error";
/** A metric's phase: Running until one of the completed phases. */
export type MetricPhase = "Running" | Measurement;

/** The metric fields that steer aggregation (pkg/apis/rollouts/v1alpha1/analysis_types.go, Metric). */
export interface MetricLimits {
  readonly interval?: string;
  readonly count?: number;
  readonly failureLimit?: number;
  readonly inconclusiveLimit?: number;
  readonly consecutiveErrorLimit?: number;
  readonly consecutiveSuccessLimit?: number;
}

/** The counters of v1alpha1.MetricResult that aggregation reads. */
export interface MetricResult {
  readonly count: number;
  readonly successful: number;
  readonly failed: number;
  readonly inconclusive: number;
  readonly error: number;
  readonly consecutiveError: number;
  readonly consecutiveSuccess: number;
}

export const EMPTY_RESULT: MetricResult = {
  count: 0,
  successful: 0,
  failed: 0,
  inconclusive: 0,
  error: 0,
  consecutiveError: 0,
  consecutiveSuccess: 0,
};

/** utils/defaults/defaults.go: DefaultConsecutiveErrorLimit = 4. */
export const DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4;

/**
 * analysis/analysis.go runMeasurements, the switch on newMeasurement.Phase: an Error does not
 * count towards `count` (it is retried after DefaultErrorRetryInterval, 10 s), and every phase but
 * Successful breaks the success streak.
 */
export function record(r: MetricResult, m: Measurement): MetricResult {
  switch (m) {
    case "Successful":
      return { ...r, successful: r.successful + 1, count: r.count + 1, consecutiveError: 0, consecutiveSuccess: r.consecutiveSuccess + 1 };
    case "Failed":
      return { ...r, failed: r.failed + 1, count: r.count + 1, consecutiveError: 0, consecutiveSuccess: 0 };
    case "Inconclusive":
      return { ...r, inconclusive: r.inconclusive + 1, count: r.count + 1, consecutiveError: 0, consecutiveSuccess: 0 };
    case "Error":
      return { ...r, error: r.error + 1, consecutiveError: r.consecutiveError + 1, consecutiveSuccess: 0 };
  }
}

/**
 * analysis/analysis.go assessMetricFailureInconclusiveOrError. The three checks run in this order
 * and each overwrites the phase, so Error beats Inconclusive beats Failed when several hold.
 * Unset limits are 0 (failureLimit -1 switches the failure check off).
 */
export function failureInconclusiveOrError(l: MetricLimits, r: MetricResult): Measurement | undefined {
  let phase: Measurement | undefined;
  const failureLimit = l.failureLimit ?? 0;
  if (failureLimit >= 0 && r.failed > failureLimit) phase = "Failed";
  if (r.inconclusive > (l.inconclusiveLimit ?? 0)) phase = "Inconclusive";
  if (r.consecutiveError > (l.consecutiveErrorLimit ?? DEFAULT_CONSECUTIVE_ERROR_LIMIT)) phase = "Error";
  return phase;
}

/** pkg/apis/rollouts/v1alpha1/analysis_types.go Metric.EffectiveCount: no count and no interval is 1; no count with an interval runs on. */
export function effectiveCount(l: MetricLimits): number | undefined {
  if (l.count === undefined || l.count === 0) return l.interval ? undefined : 1;
  return l.count;
}

/**
 * analysis/analysis.go assessMetricStatus after a completed measurement (not terminating):
 * the limits first, then the success streak, then `count`. Reaching `count` without the streak
 * is Inconclusive when both failureLimit (>= 0) and consecutiveSuccessLimit (> 0) apply,
 * Failed when only the streak applies, Successful when only failureLimit applies.
 */
export function assessMetric(l: MetricLimits, r: MetricResult): MetricPhase {
  const limited = failureInconclusiveOrError(l, r);
  if (limited) return limited;
  const streak = l.consecutiveSuccessLimit ?? 0;
  if (streak > 0 && r.consecutiveSuccess >= streak) return "Successful";
  const count = effectiveCount(l);
  if (count !== undefined && r.count >= count) {
    const failureApplicable = l.failureLimit === undefined || l.failureLimit >= 0;
    const successApplicable = streak > 0;
    if (failureApplicable && successApplicable) return "Inconclusive";
    if (successApplicable) return "Failed";
    return "Successful";
  }
  return "Running";
}

/**
 * Feeds measurements one by one until the metric completes (analysis/analysis.go
 * generateMetricTasks takes no measurement of a completed metric, nor beyond `count`).
 * Returns the phase and how many measurements were taken; Running if the sequence ran out first.
 */
export function runMetric(l: MetricLimits, measurements: readonly Measurement[]): { phase: MetricPhase; taken: number } {
  let r = EMPTY_RESULT;
  for (let i = 0; i < measurements.length; i++) {
    r = record(r, measurements[i]!);
    const phase = assessMetric(l, r);
    if (phase !== "Running") return { phase, taken: i + 1 };
  }
  return { phase: "Running", taken: measurements.length };
}

/**
 * utils/analysis/factory.go ValidateMetric, the limit rules: an AnalysisRun breaking one is set to
 * Error ("Analysis spec invalid") by analysis/analysis.go reconcileAnalysisRun. Returns the message or undefined.
 */
export function validateLimits(l: MetricLimits): string | undefined {
  const count = l.count ?? 0;
  const failureLimit = l.failureLimit ?? 0;
  const streak = l.consecutiveSuccessLimit ?? 0;
  const inconclusiveLimit = l.inconclusiveLimit ?? 0;
  if (streak < 0) return "consecutiveSuccessLimit must be >= 0";
  if (failureLimit < -1) return "failureLimit must be >= 0, or -1 to be disabled";
  if (streak === 0 && failureLimit === -1) return "failureLimit and consecutiveSuccessLimit cannot both be disabled";
  if (inconclusiveLimit < 0) return "inconclusiveLimit must be >= 0";
  if ((l.consecutiveErrorLimit ?? 0) < 0) return "consecutiveErrorLimit must be >= 0";
  if (count > 0) {
    if (failureLimit >= 0 && count < failureLimit + streak)
      return `count (${count}) must be >= failureLimit + consecutiveSuccessLimit (${failureLimit} + ${streak}) if both >= 0`;
    if (failureLimit < 0 && count < streak) return "count must be >= consecutiveSuccessLimit";
    if (count < inconclusiveLimit) return "count must be >= inconclusiveLimit";
  }
  if (count > 1 && !l.interval) return "interval must be specified when count > 1";
  return undefined;
}

/** utils/analysis/helpers.go analysisStatusOrder, best to worst; the run takes its metrics' worst (assessRunStatus). */
const ORDER = ["Successful", "Running", "Pending", "Inconclusive", "Error", "Failed"] as const;
export function worst(a: MetricPhase, b: MetricPhase): MetricPhase {
  return ORDER.indexOf(b) > ORDER.indexOf(a) ? b : a;
}

/** All sequences over `alphabet` of exactly `length` items, in a fixed order. */
export function sequences<T>(alphabet: readonly T[], length: number): T[][] {
  if (length === 0) return [[]];
  return sequences(alphabet, length - 1).flatMap((s) => alphabet.map((a) => [...s, a]));
}
