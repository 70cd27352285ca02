/**
 * The operator's loop: events in, decisions out. Intake folds each batch into the queues'
 * signals (on its own thread) before its offsets may be committed; every tick, the controller
 * takes in what changed, the pure core decides over the watched Jobs, and this shell carries
 * out the actions, idempotently.
 */
import type { Logger } from "pino";
import { type Action, type Decision, type Hold, type TokenBucket, type Verdict, decide, initialBucket, isManaged } from "./core/decide.js";
import { type Retry, classify, nextRetry } from "./core/failures.js";
import { forgettable } from "./core/signal-fold.js";
import { ANNOTATIONS, type CachedJob, type JobManifest, type JobRef, type ObservedJob, observeJob } from "./core/jobs.js";
import type { Policy } from "./core/policy.js";
import { notTheReplacement, replacementJob, replacementName } from "./core/relaunch.js";
import { replacementQueueId } from "./core/relaunch-review.js";
import { type PendingRelaunch, pendingAnnotations, readPending, unfinishedRelaunches } from "./core/resume.js";
import type { QueueSignal } from "./core/signals.js";
import type { Intake } from "./intake.js";
import type { Metrics } from "./metrics.js";
import { ApiError, type Clock, type EventSource, type KubePort, NotActing } from "./ports.js";

export interface ControllerOptions {
  readonly policy: Policy;
  readonly dryRun: boolean;
  readonly maxLag: number;
  readonly staleAfterMs: number;
}

/** Logs a repeated problem once, then at most once a minute with how many were suppressed. */
class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly everyMs = 60_000,
  ) {}
  /** `times`: how often the problem occurred; one line stands for all of them. */
  warn(key: string, fields: object, message: string, times = 1): void {
    const now = this.clock.now();
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.everyMs) {
      entry.suppressed += times;
      return;
    }
    this.log.warn({ ...fields, suppressedSinceLast: entry?.suppressed ?? 0 }, message);
    this.last.set(key, { at: now, suppressed: times - 1 });
  }
}

export class Controller {
  private readonly signals = new Map<string, QueueSignal>();
  private readonly inFlight = new Set<string>();
  /** Jobs whose last action failed: not acted on again before their retry time. */
  private readonly retries = new Map<string, Retry>();
  /** Job key -> the hold it is under, so a hold is counted once, not every tick. */
  private readonly holding = new Map<string, string>();
  /**
   * Job key -> verdict kind last counted, so each detection is counted once. Healthy Jobs (most
   * of them) have no entry: an entry per Job would cost about 110 bytes each.
   */
  private readonly flagged = new Map<string, string>();
  private readonly dryRunDone = new Set<string>();
  /** Queues found stale and unused in the last round: intake drops them with the next report. */
  private toForget: string[] = [];
  private readonly rejections: RateLimitedLog;
  private bucket: TokenBucket;
  private observingSince: number;
  private wasHealthy = true;

  constructor(
    private readonly source: EventSource,
    private readonly intake: Intake,
    private readonly kube: KubePort,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly options: ControllerOptions,
  ) {
    this.rejections = new RateLimitedLog(log, clock);
    this.bucket = initialBucket(options.policy, clock.now());
    this.observingSince = clock.now();
  }

  /** Starts intake; from now on silence is measured. */
  async startIntake(): Promise<void> {
    this.observingSince = this.clock.now();
    await this.source.start((batch) => this.intake.apply(batch, this.clock.now(), this.kube.serverClockOffset()));
  }

  /** Takes in what intake applied since the last round: signals, counts, and unusable messages (logged, rate-limited). */
  async absorbIntake(): Promise<void> {
    const report = await this.intake.report(this.clock.now(), this.toForget);
    this.toForget = [];
    for (const [key, signal] of report.changed) this.signals.set(key, signal);
    for (const [kind, n] of report.consumedByKind) this.metrics.eventsConsumed.inc({ kind }, n);
    if (report.clockSkewed > 0) this.metrics.clockSkewed.inc(report.clockSkewed);
    for (const { reason, count, first } of report.rejected) {
      this.metrics.eventRejections.inc({ reason }, count);
      this.rejections.warn(reason, { reason, ...first }, "Skipped an unusable event", count);
    }
  }

  sourceHealthy(): boolean {
    const h = this.source.health();
    const now = this.clock.now();
    const healthy =
      h.connected &&
      (h.lag === undefined || h.lag <= this.options.maxLag) &&
      now - h.lastFetchAt <= this.options.staleAfterMs &&
      // A broker error counts until the stale window passes, unless the consumer joined its group
      // since: one transient error at start (a coordinator still being elected) is not an outage.
      (now - h.lastErrorAt > this.options.staleAfterMs || h.lastJoinAt > h.lastErrorAt);
    // Back from an outage: what happened while we could not read is unknown, not silence.
    if (healthy && !this.wasHealthy) this.observingSince = now;
    this.wasHealthy = healthy;
    this.metrics.sourceHealthy.set(healthy ? 1 : 0);
    if (h.lag !== undefined) this.metrics.consumerLag.set(h.lag);
    return healthy;
  }

  /** One decision round over the watched Jobs; returns when its actions are done. */
  async tick(): Promise<Decision> {
    await this.absorbIntake();
    const cached = this.kube.jobs();
    await this.finishInterruptedRelaunches(cached);
    const offset = this.kube.serverClockOffset();
    this.metrics.clusterClockOffset.set(offset / 1000);
    const jobs = cached.map((m) => observeJob(m, offset));
    // Health first: a recovery moves observingSince.
    const sourceHealthy = this.sourceHealthy();
    const stopTimer = this.metrics.decisionSeconds.startTimer();
    const decision = decide(
      {
        now: this.clock.now(),
        jobs,
        signals: this.signals,
        observingSince: this.observingSince,
        sourceHealthy,
        inFlight: this.busyOrBackingOff(),
        bucket: this.bucket,
      },
      this.options.policy,
    );
    stopTimer();
    this.bucket = decision.bucket;
    this.forgetStaleQueues(jobs, this.clock.now());
    this.metrics.trackedJobs.set(jobs.filter(isManaged).length);
    this.metrics.trackedQueues.set(this.signals.size);
    this.countDetections(decision.verdicts, decision.held);
    this.countHolds(decision.held);
    const byName = new Map(cached.map((m) => [m.metadata.name, m]));
    await Promise.all(decision.actions.map((a) => this.execute(a, byName.get(a.job.name))));
    return decision;
  }

  /** Jobs decide() must leave alone this round: acted on now, or waiting out a failure's backoff. */
  private busyOrBackingOff(): ReadonlySet<string> {
    const now = this.clock.now();
    const waiting = [...this.retries].filter(([, r]) => r.notBefore > now).map(([key]) => key);
    return waiting.length === 0 ? this.inFlight : new Set([...this.inFlight, ...waiting]);
  }

  private forgetStaleQueues(jobs: readonly ObservedJob[], now: number): void {
    const jobQueues = new Set(jobs.flatMap((job) => (job.queue === undefined ? [] : [job.queue])));
    this.toForget = forgettable(this.signals, jobQueues, now, this.options.policy.signalRetentionMs);
    for (const key of this.toForget) this.signals.delete(key);
  }

  /** Each hold counted and logged once, when it starts (a hold lasts as many ticks as the outage). */
  private countHolds(held: readonly Hold[]): void {
    const now = new Map(held.map((h) => [h.key, h]));
    for (const [key, h] of now) {
      if (this.holding.get(key) === h.kind) continue;
      this.metrics.held.inc({ why: h.kind });
      this.log.warn({ job: key, hold: h.kind, why: h.why }, "Held back a relaunch");
    }
    this.holding.clear();
    for (const [key, h] of now) this.holding.set(key, h.kind);
  }

  /**
   * Each detection counted and logged once per Job and verdict. A Job that only looks stuck
   * because the event source is down (or everything went quiet at once) is not detected.
   */
  private countDetections(verdicts: ReadonlyMap<string, Verdict>, held: readonly Hold[]): void {
    const suspectSource = new Set(held.filter((h) => h.kind !== "rate-limit").map((h) => h.key));
    for (const [key, original] of verdicts) {
      const verdict: Verdict =
        original.kind === "stuck" && suspectSource.has(key) ? { kind: "watching", why: "held: suspecting the event source" } : original;
      const kind = verdict.kind === "faulty" ? `faulty:${verdict.reason}` : verdict.kind;
      const previous = this.flagged.get(key) ?? "healthy";
      if ((verdict.kind === "stuck" || verdict.kind === "faulty") && previous !== kind) {
        this.metrics.detections.inc({ verdict: kind });
        this.log.info({ job: key, verdict }, verdict.kind === "stuck" ? "Detected a stuck Job" : "Detected a faulty Job");
      } else if (previous !== kind) {
        this.log.debug({ job: key, verdict, previous }, "Changed a Job's verdict");
      }
      if (kind === "healthy") this.flagged.delete(key);
      else this.flagged.set(key, kind);
    }
    for (const key of this.flagged.keys()) if (!verdicts.has(key)) this.flagged.delete(key);
  }

  private async execute(action: Action, manifest: CachedJob | undefined): Promise<void> {
    const key = action.job.key;
    if (this.options.dryRun) {
      if (!this.dryRunDone.has(key)) {
        this.dryRunDone.add(key);
        this.metrics.relaunches.inc({ reason: action.reason, result: action.type === "relaunch" ? "dry-run" : "dry-run-give-up" });
        this.log.info({ job: key, action: action.type, reason: action.reason, detail: action.detail }, "Dry run: would act on a Job");
      }
      return;
    }
    if (!manifest) return;
    this.inFlight.add(key);
    try {
      if (action.type === "give-up") await this.giveUp(action, manifest);
      else await this.relaunch(action, manifest);
      this.retries.delete(key);
    } catch (err) {
      await this.failed(key, action.type, action.reason, manifest, err);
    } finally {
      this.inFlight.delete(key);
    }
  }

  /**
   * A failed step is retried later (the claim makes a retry safe): soon when the failure may pass,
   * only after the longest backoff when the API server will answer the same (said once, as an
   * Event on the Job, so whoever can fix it sees it).
   */
  private async failed(key: string, step: string, reason: string, manifest: JobRef, err: unknown): Promise<void> {
    if (err instanceof NotActing) {
      // Leadership went: nothing was sent, and the next leader picks this Job up as it finds it.
      this.log.info({ job: key, action: step }, "Stopped acting on a Job: this replica no longer leads");
      return;
    }
    const status = err instanceof ApiError ? err.status : undefined;
    const kind = classify(status);
    const previous = this.retries.get(key);
    const retry = nextRetry(previous, kind, this.clock.now());
    this.retries.set(key, retry);
    this.metrics.relaunches.inc({ reason, result: "error" });
    this.metrics.actionFailures.inc({ kind, status: status === undefined ? "none" : String(status) });
    const detail = err instanceof Error ? err.message : String(err);
    const fields = { job: key, action: step, kind, status, failures: retry.failures, retryInMs: retry.notBefore - this.clock.now() };
    if (kind === "transient") {
      this.log.warn({ ...fields, err: detail }, "Failed to act on a Job; will retry after a backoff");
      return;
    }
    if (previous?.kind === "terminal") return;
    this.log.error({ ...fields, err: detail }, "The API server refused to act on a Job; not retried before the backoff ends");
    await this.kube
      .recordEvent(manifest, "Warning", "RelaunchRefused", `The API server refused to ${step} (${status}): ${detail}`)
      .catch((eventErr: unknown) => this.log.warn({ job: key, err: eventErr }, "Could not record an Event"));
  }

  private async relaunch(action: Extract<Action, { type: "relaunch" }>, cached: CachedJob): Promise<void> {
    // The cache keeps too little to build a replacement from: the whole Job is read from the API
    // server, as controller-runtime users do with the manager's uncached APIReader. That read also
    // gives the resourceVersion the claim is conditional on.
    const fresh = await this.kube.readJob(cached.metadata.name);
    if (!fresh || fresh.metadata.uid !== action.job.uid || fresh.metadata.annotations?.[ANNOTATIONS.supersededBy]) return;
    // The same choice the relaunch guard expects (core/relaunch-review.ts).
    const queueId = replacementQueueId(fresh);
    const pending: PendingRelaunch = {
      name: replacementName(fresh, action.attempt),
      reason: action.reason,
      detail: action.detail,
      attempt: action.attempt,
      // Written into the replacement in the API server's time, which every replica can read back.
      history: action.history.map((t) => t + this.kube.serverClockOffset()),
      ...(queueId !== undefined ? { queueId } : {}),
    };
    // The claim: only one replica (or one retry) gets past this for a given Job version.
    if (!(await this.kube.annotateIfUnchanged(fresh.metadata.name, fresh.metadata.resourceVersion ?? "", pendingAnnotations(pending)))) {
      this.log.info({ job: action.job.key }, "Skipped a relaunch: the Job changed or another replica claimed it");
      return;
    }
    await this.complete(fresh, pending);
  }

  /** Carries out a claimed relaunch: create the replacement (if missing), then delete the old Job. */
  private async complete(old: JobManifest, pending: PendingRelaunch): Promise<void> {
    const replacement = replacementJob({ old, ...pending, queueId: pending.queueId });
    const created = await this.kube.createJob(replacement);
    if (created === "exists") {
      // An earlier try of this relaunch, or a Job someone created under the replacement's name.
      const existing = await this.kube.readJob(replacement.metadata.name);
      const why = existing && notTheReplacement(existing, replacement);
      if (why)
        throw new ApiError(
          409,
          `a Job named ${replacement.metadata.name} exists that is not ${old.metadata.name}'s replacement (${why}); ${old.metadata.name} is kept until it is removed`,
        );
    }
    await this.kube.deleteJob(old.metadata.name, old.metadata.uid ?? "");
    this.metrics.relaunches.inc({ reason: pending.reason, result: created });
    const message = `Relaunched as ${replacement.metadata.name} (attempt ${pending.attempt}): ${pending.reason}: ${pending.detail}`;
    this.log.info(
      {
        job: `${old.metadata.namespace}/${old.metadata.name}`,
        replacement: replacement.metadata.name,
        reason: pending.reason,
        detail: pending.detail,
        attempt: pending.attempt,
      },
      "Relaunched a Job",
    );
    await Promise.all([
      this.kube.recordEvent(old, "Warning", "Relaunched", message),
      this.kube.recordEvent(replacement, "Normal", "RelaunchedFrom", `Replaces ${old.metadata.name}: ${pending.reason}: ${pending.detail}`),
    ]).catch((err: unknown) => this.log.warn({ err }, "Failed to record a Kubernetes Event"));
  }

  private async finishInterruptedRelaunches(cached: readonly CachedJob[]): Promise<void> {
    const now = this.clock.now();
    for (const { old, pending, replacementExists } of unfinishedRelaunches(cached)) {
      const key = `${old.metadata.namespace}/${old.metadata.name}`;
      if (this.inFlight.has(key) || this.options.dryRun || (this.retries.get(key)?.notBefore ?? 0) > now) continue;
      this.inFlight.add(key);
      try {
        // The replacement needs the whole Job: read it from the API server. Gone, another Job by
        // that name, no claim any more or being deleted: nothing to finish (the cache was behind).
        const fresh = await this.kube.readJob(old.metadata.name);
        const claim = fresh && readPending(fresh);
        if (!fresh || !claim || fresh.metadata.uid !== old.metadata.uid || fresh.metadata.deletionTimestamp !== undefined) continue;
        // Whether the crash came before or after the replacement was created, finishing it leaves
        // the same trace as an uninterrupted relaunch: the log line, the metric, the Events.
        this.log.info({ job: key, replacement: claim.name, replacementExists }, "Finishing a relaunch claimed earlier");
        await this.complete(fresh, claim);
        this.retries.delete(key);
      } catch (err) {
        await this.failed(key, "finish a relaunch", pending.reason, old, err);
      } finally {
        this.inFlight.delete(key);
      }
    }
  }

  private async giveUp(action: Extract<Action, { type: "give-up" }>, manifest: CachedJob): Promise<void> {
    const ok = await this.kube.annotateIfUnchanged(manifest.metadata.name, manifest.metadata.resourceVersion ?? "", {
      [ANNOTATIONS.gaveUp]: action.detail.slice(0, 1024),
    });
    if (!ok) return;
    this.metrics.giveUps.inc({ reason: action.reason });
    this.log.warn({ job: action.job.key, reason: action.reason, detail: action.detail }, "Gave up on a Job: its restart budget is spent");
    await this.kube
      .recordEvent(manifest, "Warning", "SelfHealingGaveUp", action.detail)
      .catch((err: unknown) => this.log.warn({ err }, "Failed to record a Kubernetes Event"));
  }
}
