/**
 * The decision loop on the replica holding the Lease, run as controller-runtime's manager runs
 * its controllers:
 * - A failed round is counted (`streamforge_operator_reconcile_errors_total`, as
 *   pkg/internal/controller/controller.go's reconcileHandler counts
 *   controller_runtime_reconcile_errors_total), logged, and the next one waits an exponential
 *   backoff (core/backoff.ts); a successful round starts the backoff over (the workqueue's
 *   `Forget`). After MAX_FAILED_ROUNDS failures in a row the process exits non-zero, and the
 *   liveness probe fails while rounds keep failing: a loop that cannot decide is restarted, not
 *   left looking healthy.
 * - Lost leadership stops all action at once: the controller writes through a port that refuses
 *   every write once this replica no longer acts (checked before each request is sent), so a round
 *   in progress sends nothing more, no further round starts, and the process exits, as
 *   controller-runtime's OnStoppedLeading does (pkg/manager/internal.go, initLeaderElector: "leader
 *   election lost", with graceful shutdown skipped).
 * - On SIGTERM the round in progress finishes, then no more start.
 */
import type { Logger } from "pino";
import { ROUND_BACKOFF, roundBackoffMs } from "./core/backoff.js";
import { type Decision, nextWakeIn } from "./core/decide.js";
import type { JobManifest, JobRef } from "./core/jobs.js";
import type { Metrics } from "./metrics.js";
import { type Clock, type KubePort, NotActing, type Timers } from "./ports.js";

/** What the manager drives: the Controller, or a stand-in in tests. */
export interface Reconciler {
  startIntake(): Promise<void>;
  tick(): Promise<Decision>;
  sourceHealthy(): boolean;
}

export interface ManagerOptions {
  /** The longest wait between two successful rounds (TICK_INTERVAL_MS). */
  readonly tickIntervalMs: number;
  /** Failed rounds in a row after which the process exits (MAX_FAILED_ROUNDS). */
  readonly maxFailedRounds: number;
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
}

/**
 * standby: not leading yet. leading: rounds run. stopping: SIGTERM, the round in progress may
 * finish. stopped: no action ever again in this process (lost the Lease, a fatal error, or stopped).
 */
type State = "standby" | "leading" | "stopping" | "stopped";

/** `kube` with every write refused (NotActing) once `acting()` says no, checked just before the request would be sent. */
export function gateWrites(kube: KubePort, acting: () => boolean): KubePort {
  const allow = (write: string) => {
    if (!acting()) throw new NotActing(write);
  };
  return {
    jobs: () => kube.jobs(),
    readJob: (name) => kube.readJob(name),
    serverClockOffset: () => kube.serverClockOffset(),
    async annotateIfUnchanged(name: string, resourceVersion: string, annotations: Record<string, string>) {
      allow(`annotate Job ${name}`);
      return kube.annotateIfUnchanged(name, resourceVersion, annotations);
    },
    async createJob(job: JobManifest) {
      allow(`create Job ${job.metadata.name}`);
      return kube.createJob(job);
    },
    async deleteJob(name: string, uid: string) {
      allow(`delete Job ${name}`);
      return kube.deleteJob(name, uid);
    },
    async recordEvent(job: JobRef, type: "Normal" | "Warning", reason: string, message: string) {
      allow(`record Event ${reason} on Job ${job.metadata.name}`);
      return kube.recordEvent(job, type, reason, message);
    },
  };
}

export class Manager {
  /** The controller, acting through the gated port. */
  readonly controller: Reconciler;
  private state: State = "standby";
  private failures = 0;
  private lastRoundAt: number;
  private cancelNext: (() => void) | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    kube: KubePort,
    /** Builds the controller on the port it must act through. */
    controller: (kube: KubePort) => Reconciler,
    private readonly clock: Clock & Timers,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly options: ManagerOptions,
    /** The process's one way out (exit 1). */
    private readonly onFatal: (err: unknown, message: string) => void,
  ) {
    this.controller = controller(gateWrites(kube, () => this.acting()));
    this.lastRoundAt = clock.now();
  }

  /** Whether writes may be sent: leading, or finishing the last round on SIGTERM. */
  acting(): boolean {
    return this.state === "leading" || this.state === "stopping";
  }

  /** Failed rounds in a row so far. */
  failedRounds(): number {
    return this.failures;
  }

  /** The elector's onStartedLeading: intake, then rounds. A replica that stopped acting never starts again. */
  startLeading(): void {
    if (this.state !== "standby") return;
    this.state = "leading";
    this.metrics.leader.set(1);
    this.log.info("Acquired the Lease; started intake and decisions");
    this.lastRoundAt = this.clock.now();
    this.controller.startIntake().catch((err: unknown) => this.fail(err, "Event intake failed to start"));
    this.schedule(0);
  }

  /** The elector's onStoppedLeading: no write is sent from now on, and the process exits. */
  stopLeading(): void {
    const wasActing = this.acting();
    this.halt();
    if (wasActing) this.fail(new Error("lost the Lease"), "Lost leadership; stopped acting at once");
  }

  /** Stops all action at once (a fatal error elsewhere): no write is sent from now on. */
  halt(): void {
    this.state = "stopped";
    this.metrics.leader.set(0);
    this.cancelNext?.();
    this.cancelNext = undefined;
  }

  /** SIGTERM: no new round; the one in progress finishes (its writes allowed), then nothing more. */
  async stop(): Promise<void> {
    if (this.state === "leading") this.state = "stopping";
    this.cancelNext?.();
    this.cancelNext = undefined;
    await this.inFlight;
    this.halt();
  }

  /** The liveness probe: false while rounds keep failing, or when none ended for ten intervals (a round hung). */
  live(): boolean {
    if (this.state !== "leading") return true;
    return this.failures === 0 && this.clock.now() - this.lastRoundAt < 10 * this.options.tickIntervalMs + 30_000;
  }

  /** The readiness probe's part: the leader is ready while its event source is healthy. */
  ready(): boolean {
    return this.state !== "leading" || this.controller.sourceHealthy();
  }

  private schedule(ms: number): void {
    if (this.state !== "leading") return;
    this.cancelNext = this.clock.after(ms, () => {
      this.cancelNext = undefined;
      this.inFlight = this.round();
    });
  }

  private async round(): Promise<void> {
    if (this.state !== "leading") return;
    let wait: number;
    try {
      const decision = await this.controller.tick();
      this.failures = 0;
      // Sleep until the next verdict is due, so detection does not wait for a whole interval.
      wait = nextWakeIn(decision, this.clock.now(), this.options.tickIntervalMs);
    } catch (err) {
      // Refused because leadership went during the round: not a failure of the round.
      if (!this.acting() || err instanceof NotActing) return;
      this.failures += 1;
      this.metrics.reconcileErrors.inc();
      if (this.failures >= this.options.maxFailedRounds) {
        this.fail(err, `Decision rounds failed ${this.failures} times in a row (MAX_FAILED_ROUNDS)`);
        return;
      }
      wait = roundBackoffMs(this.failures, this.options.backoff ?? ROUND_BACKOFF);
      this.log.error({ err, failures: this.failures, retryInMs: wait }, "Decision round failed; retrying after a backoff");
    } finally {
      this.lastRoundAt = this.clock.now();
    }
    this.schedule(wait);
  }

  private fail(err: unknown, message: string): void {
    this.halt();
    this.onFatal(err, message);
  }
}
