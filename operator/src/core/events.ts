/**
 * Parsing of `queue-events` messages into one normalised event, for both shapes in the wild:
 *   documented: {queue_id, event: started|pong|loading|interrupted|finished|error, timestamp (ISO 8601), payload}
 *   code:       {event: "status", queue_id, status, message, finished, sent_at (Unix s)} and
 *               {event: "progress", queue_id, message_count, sent_at}
 * Pure: no I/O, no clock (the receive time is passed in). Every rejection has a reason that
 * the intake counts in a metric.
 *
 * Clocks: an event's stamp is the cluster's time (workers run on its nodes, which keep the API
 * server's time, as Kubernetes requires); the receive time is the operator's. `clusterOffsetMs`
 * (the cluster's clock minus ours, measured against the API server) turns a stamp into our time,
 * so an operator whose clock is minutes off neither takes fresh events for a backlog nor dates
 * them before the Job they belong to (whose times are converted with the same offset).
 */

/** What an event says about its Job, independent of the shape it came in. */
export type EventKind =
  /** The worker started (or restarted) its task. */
  | "started"
  /** Work is happening: loading, progress, pong. */
  | "progress"
  /** A status: error. Fatal only if no progress follows (arango-connector's per-record errors are survived). */
  | "error"
  /** A critical error: the documented `event: error` ("is terminating"). */
  | "fatal"
  /** The task finished (it may still have failed: see `error` followed by `finished`). */
  | "finished"
  /** Stopped on purpose (`stop` command). */
  | "interrupted";

export interface QueueEvent {
  readonly queueId: string;
  readonly kind: EventKind;
  /** When the event says it happened (ms, our clock), clamped to the receive time: never in the future. */
  readonly occurredAt: number;
  /** When it arrived here (ms, local clock). */
  readonly receivedAt: number;
  /** What went wrong, in the worker's words: read for error and fatal events only. */
  readonly message: string | undefined;
  /** The event's own timestamp lay further in the future than the tolerated skew. */
  readonly clockSkewed: boolean;
}

export type RejectReason = "oversized" | "malformed-json" | "not-an-object" | "missing-queue-id" | "unknown-kind" | "bad-timestamp";

export type ParseResult =
  { readonly ok: true; readonly event: QueueEvent } | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

export interface ParseLimits {
  /** Larger messages are rejected unread. */
  readonly maxBytes: number;
  /** Event timestamps up to this far ahead of the local clock are trusted as they are. */
  readonly maxFutureSkewMs: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxBytes: 64 * 1024, maxFutureSkewMs: 60_000 };

// Maps, not object literals: an event named "constructor" must not find Object's own.
const DOCUMENTED_KINDS: ReadonlyMap<string, EventKind> = new Map([
  ["started", "started"],
  ["pong", "progress"],
  ["loading", "progress"],
  ["interrupted", "interrupted"],
  ["finished", "finished"],
  ["error", "fatal"],
]);

const STATUS_KINDS: ReadonlyMap<string, EventKind> = new Map([
  ["started", "started"],
  ["loading", "progress"],
  ["error", "error"],
  ["interrupted", "interrupted"],
  ["finished", "finished"],
]);

const reject = (reason: RejectReason, detail: string): ParseResult => ({ ok: false, reason, detail });

/** The rejection of a message over the size limit, decided before anything is decoded. */
const oversized = (size: number, limits: ParseLimits): ParseResult | undefined =>
  size > limits.maxBytes ? reject("oversized", `${size} bytes > ${limits.maxBytes}`) : undefined;

/** ISO 8601 text, Unix seconds (number or numeric text), or Unix milliseconds; null when unreadable. */
export function parseTimestamp(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value)) {
    // Seconds until the year 5138; anything larger is already milliseconds.
    return value < 1e11 ? value * 1000 : value;
  }
  if (typeof value === "string" && value.trim() !== "") {
    if (/^-?\d+(\.\d+)?$/.test(value.trim())) return parseTimestamp(Number(value));
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

function kindOf(body: Record<string, unknown>): EventKind | null {
  const event = body.event;
  if (event === "status") {
    const status = body.status;
    if (typeof status !== "string") return null;
    // A status event with finished: true after interruption is still an interruption.
    return STATUS_KINDS.get(status) ?? null;
  }
  if (event === "progress") return "progress";
  return typeof event === "string" ? (DOCUMENTED_KINDS.get(event) ?? null) : null;
}

/** What went wrong, in the worker's words: arango-connector sends a summary and the exception text. */
function messageOf(body: Record<string, unknown>): string | undefined {
  const payload = body.payload;
  const parts = [
    body.message,
    body.error_message,
    payload && typeof payload === "object" ? (payload as Record<string, unknown>).reason : undefined,
  ];
  let text: string | undefined;
  for (const part of parts) if (typeof part === "string" && part.length > 0) text = text === undefined ? part : `${text}: ${part}`;
  return text === undefined ? undefined : text.slice(0, 200);
}

/** Parses one message. This runs for every event the platform sends: it allocates little and keeps one object shape. */
export function parseEvent(
  raw: string | Uint8Array,
  receivedAt: number,
  limits: ParseLimits = DEFAULT_PARSE_LIMITS,
  clusterOffsetMs = 0,
): ParseResult {
  if (typeof raw === "string") return oversized(Buffer.byteLength(raw), limits) ?? parseText(raw, receivedAt, limits, clusterOffsetMs);
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return parseEventBytes(bytes, 0, bytes.byteLength, receivedAt, limits, clusterOffsetMs);
}

/** Parses the message in `bytes[start, end)`; an oversized one is rejected before it is decoded. */
export function parseEventBytes(
  bytes: Buffer,
  start: number,
  end: number,
  receivedAt: number,
  limits: ParseLimits,
  clusterOffsetMs = 0,
): ParseResult {
  return oversized(end - start, limits) ?? parseText(bytes.toString("utf8", start, end), receivedAt, limits, clusterOffsetMs);
}

function parseText(text: string, receivedAt: number, limits: ParseLimits, clusterOffsetMs: number): ParseResult {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return reject("malformed-json", (err as Error).message.slice(0, 120));
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) return reject("not-an-object", typeof body);
  const record = body as Record<string, unknown>;
  const queueId = record.queue_id;
  if (typeof queueId !== "string" || queueId.trim() === "") return reject("missing-queue-id", "queue_id is missing or empty");
  const kind = kindOf(record);
  if (kind === null)
    return reject("unknown-kind", `event=${String(record.event).slice(0, 40)} status=${String(record.status).slice(0, 40)}`);

  const rawTime = record.timestamp ?? record.sent_at ?? record.ponged_at;
  let stated = receivedAt;
  if (rawTime !== undefined) {
    const parsed = parseTimestamp(rawTime);
    if (parsed === null) return reject("bad-timestamp", `unreadable timestamp ${JSON.stringify(rawTime).slice(0, 40)}`);
    stated = parsed - clusterOffsetMs;
  }
  return {
    ok: true,
    event: {
      queueId,
      kind,
      occurredAt: Math.min(stated, receivedAt),
      receivedAt,
      clockSkewed: stated > receivedAt + limits.maxFutureSkewMs,
      // Only errors say what went wrong; skipping the rest saves work on every other event.
      message: kind === "error" || kind === "fatal" ? messageOf(record) : undefined,
    },
  };
}
