/**
 * Exponential backoffs, as Kubernetes' controllers use them. Pure: time and chance are arguments.
 * - Decision rounds: controller-runtime requeues a failed reconcile rate-limited
 *   (pkg/internal/controller/controller.go, reconcileHandler: `AddRateLimited`), and
 *   client-go's workqueue.DefaultTypedControllerRateLimiter backs an item off from 5 ms,
 *   doubling, up to 1000 s (util/workqueue/default_rate_limiters.go,
 *   TypedItemExponentialFailureRateLimiter.When); `Forget` after a success starts it over.
 * - Watch restarts: client-go's reflector waits between list-and-watch attempts with
 *   NewExponentialBackoffManager(800ms, 30s, 2min, 2.0, 1.0) (tools/cache/reflector.go,
 *   NewReflectorWithOptions; since v0.31 the same constants through wait.Backoff.DelayWithReset):
 *   from 800 ms, doubling, capped at 30 s, each delay stretched by up to 100 % jitter, and back to
 *   800 ms when no backoff was needed for 2 minutes (apimachinery pkg/util/wait/backoff.go,
 *   exponentialBackoffManagerImpl.getNextBackoff).
 */

/**
 * The wait before the decision round after `failures` failed ones in a row (1 or more): 5 ms,
 * doubling, capped at one minute. controller-runtime caps at 1000 s; a decision loop paused that
 * long would be a silent outage, and the process exits after MAX_FAILED_ROUNDS failures anyway.
 */
export const ROUND_BACKOFF = { baseMs: 5, maxMs: 60_000 } as const;

export function roundBackoffMs(failures: number, backoff: { baseMs: number; maxMs: number } = ROUND_BACKOFF): number {
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, failures - 1));
}

export interface BackoffSettings {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  /** Each delay is stretched by up to this fraction of itself (1.0: up to double). */
  readonly jitter: number;
  /** No backoff for this long: the next one starts again from initialMs. */
  readonly resetAfterMs: number;
}

/** client-go's reflector's constants (tools/cache/reflector.go: defaultBackoffInit and the rest). */
export const WATCH_BACKOFF: BackoffSettings = { initialMs: 800, maxMs: 30_000, factor: 2, jitter: 1, resetAfterMs: 120_000 };

/** apimachinery's exponentialBackoffManagerImpl: a delay per call, growing until it has a rest. */
export class ExponentialBackoff {
  private current: number;
  private lastAt: number | undefined;

  constructor(private readonly settings: BackoffSettings = WATCH_BACKOFF) {
    this.current = settings.initialMs;
  }

  /** The delay for a backoff starting at `now`; `random` in [0, 1) picks the jitter. */
  next(now: number, random: number): number {
    if (this.lastAt !== undefined && now - this.lastAt > this.settings.resetAfterMs) this.current = this.settings.initialMs;
    this.lastAt = now;
    const base = this.current;
    this.current = Math.min(this.settings.maxMs, base * this.settings.factor);
    return base + base * this.settings.jitter * random;
  }
}
