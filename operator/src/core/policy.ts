import { DEFAULT_TARGET, DEFAULT_TARGETS } from "../contract.js";

/** Detection and safety policy. All thresholds in milliseconds. */

export interface TargetPolicy {
  /** Upper bound: a Job silent this long is stuck, whatever its rhythm. */
  readonly stuckAfterMs: number;
  /** A Job's first events may take this long after it starts. */
  readonly startGraceMs: number;
  /** Learn the Job's rhythm and declare stuck earlier when it breaks (phi accrual). */
  readonly adaptive: boolean;
  /** Never stuck earlier than this, however regular the rhythm was. */
  readonly minStuckAfterMs: number;
}

export interface Policy {
  readonly targets: Readonly<Record<string, TargetPolicy>>;
  /** For Jobs whose target is unknown or not listed. */
  readonly defaultTarget: TargetPolicy;
  readonly phiThreshold: number;
  /** Intervals to see before trusting a learned rhythm. */
  readonly minSamples: number;
  readonly minStdDevMs: number;
  /** The rhythm's spread is taken as at least this fraction of its mean: real workers jitter. */
  readonly minStdDevFraction: number;
  /** A `status: error` with no progress for this long is fatal. */
  readonly errorGraceMs: number;
  /** A `status: error` whose message matches is fatal at once. */
  readonly fatalMessagePattern: RegExp | null;
  /** Relaunch Jobs Kubernetes marked Failed (backoffLimit exhausted). */
  readonly relaunchFailedJobs: boolean;
  /** At most `maxRelaunches` per queue within `windowMs`, then give up. */
  readonly budget: { readonly maxRelaunches: number; readonly windowMs: number };
  /** Relaunches across all queues: a token bucket. */
  readonly rateLimit: { readonly perMinute: number; readonly burst: number };
  /** When this many Jobs and this fraction of the active ones are silent at once, suspect the event source. */
  readonly massSilence: { readonly minJobs: number; readonly fraction: number };
  /** Events whose own time is older than this do not count as a sign of life now (replays). */
  readonly maxEventAgeMs: number;
  /** A queue not heard from for this long is forgotten (its Jobs are long gone or long relaunched). */
  readonly signalRetentionMs: number;
}

const MINUTE = 60_000;

export const DEFAULT_POLICY: Policy = {
  targets: DEFAULT_TARGETS,
  defaultTarget: DEFAULT_TARGET,
  phiThreshold: 8,
  minSamples: 5,
  minStdDevMs: 2_000,
  minStdDevFraction: 0.2,
  errorGraceMs: 60_000,
  fatalMessagePattern: /fatal/i,
  relaunchFailedJobs: true,
  budget: { maxRelaunches: 3, windowMs: 60 * MINUTE },
  rateLimit: { perMinute: 10, burst: 5 },
  massSilence: { minJobs: 3, fraction: 0.5 },
  maxEventAgeMs: 5 * MINUTE,
  signalRetentionMs: 24 * 60 * MINUTE,
};

export function targetPolicy(policy: Policy, target: string | undefined): TargetPolicy {
  // hasOwn: a target labelled "constructor" or "__proto__" must not find Object's members.
  return target !== undefined && Object.hasOwn(policy.targets, target) ? policy.targets[target]! : policy.defaultTarget;
}
