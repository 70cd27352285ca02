/**
 * What a failed action on a Job means, and when to try again. Pure.
 * - Terminal: the API server will give the same answer until someone changes something (403
 *   forbidden, 422 invalid, 404 namespace gone, 400 bad request, 405, 413, and 409: the only
 *   conflict that reaches here is a replacement's name held by a Job that is not the replacement,
 *   since a claim's and a create's own 409 are answers, not failures). Said once (Event, metric,
 *   log) and tried again only after the longest backoff, never hot.
 * - Transient: anything else (timeouts, 429, 5xx, a connection reset, a 401 from a token being
 *   rotated): tried again after a per-Job exponential backoff from 5 ms up to 5 min, as
 *   controller-runtime's per-item limiter does (its cap is 1000 s; a relaunch waiting that long
 *   would be a silent outage). The global rate limit still applies on top.
 */
export type FailureKind = "terminal" | "transient";

const TERMINAL = new Set([400, 403, 404, 405, 409, 413, 422]);

export function classify(status: number | undefined): FailureKind {
  return status !== undefined && TERMINAL.has(status) ? "terminal" : "transient";
}

export const BACKOFF = { baseMs: 5, maxMs: 300_000 } as const;

export interface Retry {
  readonly failures: number;
  readonly kind: FailureKind;
  /** Not before this time (ms). */
  readonly notBefore: number;
}

/** The retry after one more failure of `kind` at `now`. */
export function nextRetry(previous: Retry | undefined, kind: FailureKind, now: number): Retry {
  const failures = (previous?.failures ?? 0) + 1;
  const delay = kind === "terminal" ? BACKOFF.maxMs : Math.min(BACKOFF.maxMs, BACKOFF.baseMs * 2 ** (failures - 1));
  return { failures, kind, notBefore: now + delay };
}
