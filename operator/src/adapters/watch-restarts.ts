/**
 * Restarts a watch that stopped on an error, after client-go's reflector's backoff (core/backoff.ts,
 * WATCH_BACKOFF): 0.8 s, 1.6 s, ... up to 30 s, jittered, and from 0.8 s again once the watch held
 * for 2 minutes. @kubernetes/client-node's informer stops for good on an error, so this is the
 * loop client-go's Reflector.RunWithContext runs around ListAndWatch.
 */
import { ExponentialBackoff, WATCH_BACKOFF, type BackoffSettings } from "../core/backoff.js";
import type { Clock, Timers } from "../ports.js";

export class WatchRestarts {
  private readonly backoff: ExponentialBackoff;
  private cancelPending: (() => void) | undefined;
  private stopped = false;

  constructor(
    /** Starts the watch again; a rejection counts as one more failure. */
    private readonly restart: () => Promise<void>,
    private readonly clock: Clock & Timers,
    /** Told of each failure and how long until the next attempt. */
    private readonly onFailure: (err: unknown, retryInMs: number) => void,
    settings: BackoffSettings = WATCH_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {
    this.backoff = new ExponentialBackoff(settings);
  }

  /** The watch stopped on `err`: start it again after the backoff (once, however often it is told). */
  failed(err: unknown): void {
    if (this.stopped || this.cancelPending) return;
    const delay = this.backoff.next(this.clock.now(), this.random());
    this.onFailure(err, delay);
    this.cancelPending = this.clock.after(delay, () => {
      this.cancelPending = undefined;
      if (this.stopped) return;
      this.restart().catch((restartErr: unknown) => this.failed(restartErr));
    });
  }

  /** No restart from now on, and none pending. */
  stop(): void {
    this.stopped = true;
    this.cancelPending?.();
    this.cancelPending = undefined;
  }
}
