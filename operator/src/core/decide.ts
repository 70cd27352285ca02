/**
 * The decision core: from observed Jobs, the queues' signals and the time, which Jobs to
 * relaunch, which to give up on, and why. Pure: no I/O, the clock is an argument, and the
 * same world always gives the same decision. All policy lives here.
 */
import type { ObservedJob } from "./jobs.js";
import { type Policy, targetPolicy } from "./policy.js";
import { phi } from "./rhythm.js";
import { EMPTY_SIGNAL, type QueueSignal } from "./signals.js";

export type Verdict =
  /** `dueAt`: when, without news, the verdict would next change (ms); the loop wakes then. */
  | { readonly kind: "healthy"; readonly dueAt?: number }
  /** Finished cleanly or stopped on purpose: never relaunched. */
  | { readonly kind: "done"; readonly why: string }
  /** Something is pending (an error that progress may still follow). */
  | { readonly kind: "watching"; readonly why: string; readonly dueAt?: number }
  | { readonly kind: "stuck"; readonly detail: string }
  | { readonly kind: "faulty"; readonly reason: "fatal-error" | "job-failed"; readonly detail: string };

export const RELAUNCH_REASONS = ["stuck", "fatal-error", "job-failed"] as const;
export type RelaunchReason = (typeof RELAUNCH_REASONS)[number];

/**
 * Why a relaunch waits. A stuck verdict held for `source-unhealthy` or `mass-silence` is a
 * suspicion about the event source, not about the Job: it is not a detection.
 */
export type HoldKind = "source-unhealthy" | "mass-silence" | "rate-limit";
export interface Hold {
  readonly key: string;
  readonly kind: HoldKind;
  readonly why: string;
}

export type Action =
  | {
      readonly type: "relaunch";
      readonly job: ObservedJob;
      readonly reason: RelaunchReason;
      readonly detail: string;
      readonly attempt: number;
      /** Relaunch times (ms) to carry to the replacement, this one included. */
      readonly history: readonly number[];
    }
  | { readonly type: "give-up"; readonly job: ObservedJob; readonly reason: RelaunchReason; readonly detail: string };

export interface TokenBucket {
  readonly tokens: number;
  readonly updatedAt: number;
}

export interface World {
  readonly now: number;
  readonly jobs: readonly ObservedJob[];
  /** Signals by queue key. */
  readonly signals: ReadonlyMap<string, QueueSignal>;
  /** Since when events have been read: silence before that is unknown, not silence. */
  readonly observingSince: number;
  /** False while the consumer is disconnected or lagging: silence may be ours, not the Job's. */
  readonly sourceHealthy: boolean;
  /** Jobs with an action already under way. */
  readonly inFlight: ReadonlySet<string>;
  readonly bucket: TokenBucket;
}

export interface Decision {
  readonly actions: readonly Action[];
  /** Verdict of every managed Job, by key. */
  readonly verdicts: ReadonlyMap<string, Verdict>;
  /** Relaunches held back: which kind of hold, and why in words. */
  readonly held: readonly Hold[];
  readonly bucket: TokenBucket;
}

const seconds = (ms: number): string => `${Math.round(ms / 1000)}s`;

/** A Job the operator may act on: it runs a queue, is not opted out and is not already being replaced. */
/** How far in the future a recorded relaunch time may be and still count: the clocks' skew. */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

export function isManaged(job: ObservedJob): boolean {
  return job.queue !== undefined && !job.optedOut && !job.deleting && job.supersededBy === undefined && !job.gaveUp;
}

/** What one Job's state and its queue's events say about it. */
export function assess(job: ObservedJob, signal: QueueSignal, now: number, observingSince: number, policy: Policy): Verdict {
  // Only events of this incarnation count: the error that got the previous Job relaunched does
  // not. creationTimestamp has one-second resolution, so a replacement also carries the exact
  // time its relaunch was decided, and only later events are its own.
  // A relaunch time in the future is no relaunch's (forged, or a clock far off): it would hide every event.
  const relaunchedAt = job.relaunchedAt - now > FUTURE_TOLERANCE_MS ? 0 : job.relaunchedAt;
  const since = (t: number): boolean => t > 0 && t >= job.createdAt && t > relaunchedAt;
  const progressAt = since(signal.progressAt) ? signal.progressAt : 0;
  const errorAt = since(signal.errorAt) && signal.errorAt > progressAt ? signal.errorAt : 0;
  const stoppedAt = since(signal.interruptedAt) ? signal.interruptedAt : 0;
  const fatalAt = since(signal.fatalAt) ? signal.fatalAt : 0;
  const finishedAt = since(signal.finishedAt) ? signal.finishedAt : 0;

  if (stoppedAt > 0 && stoppedAt >= Math.max(fatalAt, errorAt)) return { kind: "done", why: "interrupted on purpose" };
  if (fatalAt > 0)
    return {
      kind: "faulty",
      reason: "fatal-error",
      detail: `reported a critical error${signal.errorMessage ? `: ${signal.errorMessage}` : ""}`,
    };
  if (errorAt > 0) {
    const message = signal.errorMessage ? `: ${signal.errorMessage}` : "";
    if (finishedAt >= errorAt) return { kind: "faulty", reason: "fatal-error", detail: `finished right after an error${message}` };
    if (policy.fatalMessagePattern?.test(signal.errorMessage ?? ""))
      return { kind: "faulty", reason: "fatal-error", detail: `reported a fatal error${message}` };
    const quiet = now - signal.aliveAt;
    if (quiet >= policy.errorGraceMs)
      return { kind: "faulty", reason: "fatal-error", detail: `no progress ${seconds(quiet)} after an error${message}` };
    if (job.phase === "active")
      return {
        kind: "watching",
        why: `error${message}; waiting ${seconds(policy.errorGraceMs - quiet)} for progress`,
        dueAt: signal.aliveAt + policy.errorGraceMs,
      };
  }
  if (job.phase === "failed") {
    return policy.relaunchFailedJobs
      ? { kind: "faulty", reason: "job-failed", detail: "Kubernetes marked the Job Failed" }
      : { kind: "done", why: "failed; relaunching failed Jobs is off" };
  }
  if (job.phase === "complete") return { kind: "done", why: "completed" };
  // Final for this incarnation, like interrupted: a worker's telemetry thread may flush a progress
  // event after the finish while its pod winds down; that is not silence to act on.
  if (finishedAt > 0) return { kind: "done", why: "reported finished" };

  const target = targetPolicy(policy, job.target);
  const alive = since(signal.aliveAt) ? signal.aliveAt : 0;
  // Silence counts from the last sign of life heard while listening; for a Job not heard from
  // since, from its start (or from when this operator began listening, if later) plus the grace:
  // silence before the operator listened is unknown, not silence.
  const reference =
    alive >= observingSince && alive > 0
      ? alive
      : Math.max(alive, Math.max(job.startedAt ?? job.createdAt, observingSince) + target.startGraceMs);
  const quiet = now - reference;
  const dueAt = reference + target.stuckAfterMs + 1;
  if (quiet <= 0) return { kind: "healthy", dueAt };
  if (quiet > target.stuckAfterMs)
    return { kind: "stuck", detail: `no event for ${seconds(quiet)} (threshold ${seconds(target.stuckAfterMs)})` };
  if (target.adaptive && alive > 0 && signal.count >= policy.minSamples && quiet >= target.minStuckAfterMs) {
    const suspicion = phi(signal, quiet, Math.max(policy.minStdDevMs, signal.mean * policy.minStdDevFraction));
    if (suspicion >= policy.phiThreshold)
      return {
        kind: "stuck",
        detail: `no event for ${seconds(quiet)}, phi ${suspicion === Infinity ? "inf" : suspicion.toFixed(1)} >= ${policy.phiThreshold} for its rhythm of ~${seconds(signal.mean)}`,
      };
  }
  return { kind: "healthy", dueAt };
}

function refill(bucket: TokenBucket, now: number, policy: Policy): TokenBucket {
  const elapsed = Math.max(0, now - bucket.updatedAt);
  const tokens = Math.min(policy.rateLimit.burst, bucket.tokens + (elapsed * policy.rateLimit.perMinute) / 60_000);
  return { tokens, updatedAt: now };
}

/**
 * How long the loop may sleep: until the earliest moment a verdict is due to change, but no
 * longer than `intervalMs` (events and Job changes arrive in between) and no shorter than 10 ms.
 */
export function nextWakeIn(decision: Decision, now: number, intervalMs: number): number {
  let due = now + intervalMs;
  for (const v of decision.verdicts.values()) {
    if ((v.kind === "healthy" || v.kind === "watching") && v.dueAt !== undefined) due = Math.min(due, v.dueAt);
  }
  return Math.max(10, due - now);
}

export function initialBucket(policy: Policy, now: number): TokenBucket {
  return { tokens: policy.rateLimit.burst, updatedAt: now };
}

export function decide(world: World, policy: Policy): Decision {
  const verdicts = new Map<string, Verdict>();
  const held: Hold[] = [];
  const managed = world.jobs.filter(isManaged).sort((a, b) => a.key.localeCompare(b.key));
  for (const job of managed) {
    verdicts.set(job.key, assess(job, world.signals.get(job.queue!) ?? EMPTY_SIGNAL, world.now, world.observingSince, policy));
  }

  const active = managed.filter((j) => j.phase === "active").length;
  const stuck = [...verdicts.values()].filter((v) => v.kind === "stuck").length;
  const massSilence = stuck >= policy.massSilence.minJobs && stuck >= active * policy.massSilence.fraction;
  const stuckHold: Omit<Hold, "key"> | undefined = !world.sourceHealthy
    ? { kind: "source-unhealthy", why: "the event source is unhealthy (disconnected or lagging)" }
    : massSilence
      ? { kind: "mass-silence", why: `${stuck} of ${active} active Jobs went quiet at once: suspecting the event source` }
      : undefined;

  // Critical errors first: they are certain; silence is a suspicion.
  const candidates = managed
    .map((job) => ({ job, verdict: verdicts.get(job.key)! }))
    .filter(
      (c): c is { job: ObservedJob; verdict: Extract<Verdict, { kind: "stuck" | "faulty" }> } =>
        c.verdict.kind === "stuck" || c.verdict.kind === "faulty",
    )
    .sort((a, b) => Number(a.verdict.kind === "stuck") - Number(b.verdict.kind === "stuck"));

  let bucket = refill(world.bucket, world.now, policy);
  const actions: Action[] = [];
  for (const { job, verdict } of candidates) {
    if (world.inFlight.has(job.key)) continue;
    if (verdict.kind === "stuck" && stuckHold) {
      held.push({ key: job.key, ...stuckHold });
      continue;
    }
    const reason: RelaunchReason = verdict.kind === "stuck" ? "stuck" : verdict.reason;
    // A time in the future is no relaunch's: counted, it would spend the budget for good.
    const recent = job.relaunchHistory.filter((t) => t - world.now <= FUTURE_TOLERANCE_MS && world.now - t < policy.budget.windowMs);
    if (recent.length >= policy.budget.maxRelaunches) {
      actions.push({
        type: "give-up",
        job,
        reason,
        detail: `${verdict.detail}; restart budget spent (${recent.length} relaunches in ${seconds(policy.budget.windowMs)})`,
      });
      continue;
    }
    if (bucket.tokens < 1) {
      held.push({ key: job.key, kind: "rate-limit", why: "global relaunch rate limit" });
      continue;
    }
    bucket = { ...bucket, tokens: bucket.tokens - 1 };
    actions.push({ type: "relaunch", job, reason, detail: verdict.detail, attempt: job.attempt + 1, history: [...recent, world.now] });
  }
  return { actions, verdicts, held, bucket };
}
