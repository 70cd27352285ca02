/** The fold intake runs (on its own thread in the operator): packing, tallies, reports, retention. */
import { DEFAULT_PARSE_LIMITS } from "../src/core/events.js";
import { type FoldOptions, SignalFold, forgettable, packBatch } from "../src/core/signal-fold.js";
import { EMPTY_SIGNAL } from "../src/core/signals.js";

const OPTIONS: FoldOptions = { parseLimits: DEFAULT_PARSE_LIMITS, maxEventAgeMs: 300_000, retentionMs: 3_600_000 };
const T0 = Date.UTC(2026, 10, 27, 12);

const batch = (partition: number, firstOffset: number, values: (object | string | null)[]) => ({
  partition,
  messages: values.map((v, i) => ({
    value: v === null ? null : Buffer.from(typeof v === "string" ? v : JSON.stringify(v)),
    offset: String(firstOffset + i),
  })),
});

describe("SignalFold", () => {
  it("folds a packed batch message by message, tallying kinds and rejections with the first one's place", () => {
    const fold = new SignalFold(OPTIONS);
    fold.applyBatch(
      packBatch(
        batch(2, 40, [
          { queue_id: "q1", event: "started", timestamp: new Date(T0 - 5000).toISOString() },
          null,
          "{broken",
          { event: "status", queue_id: "q1", status: "loading", sent_at: (T0 - 1000) / 1000 },
          "",
          { queue_id: "Q 2", event: "finished" },
        ]),
        T0,
      ),
    );
    const report = fold.report();
    expect(report.changed.map(([key]) => key)).toEqual(["q1", "q-2"]);
    expect(report.changed[0]![1]).toMatchObject({ progressAt: T0 - 1000, aliveAt: T0 });
    expect(report.consumedByKind).toEqual([
      ["started", 1],
      ["progress", 1],
      ["finished", 1],
    ]);
    // A tombstone, broken JSON and an empty value: one reason, counted three times, logged once with where the first was.
    expect(report.rejected).toEqual([
      { reason: "malformed-json", count: 3, first: { detail: "empty message", partition: 2, offset: "41" } },
    ]);
  });

  it("reports only what changed since the previous report", () => {
    const fold = new SignalFold(OPTIONS);
    fold.applyBatch(
      packBatch(
        batch(0, 0, [
          { queue_id: "a", event: "pong" },
          { queue_id: "b", event: "pong" },
        ]),
        T0,
      ),
    );
    expect(fold.report().changed).toHaveLength(2);
    fold.applyBatch(packBatch(batch(0, 2, [{ queue_id: "b", event: "pong" }]), T0 + 1000));
    const second = fold.report();
    expect(second.changed.map(([key]) => key)).toEqual(["b"]);
    expect(second.consumedByKind).toEqual([["progress", 1]]);
    expect(fold.size).toBe(2);
  });

  it("forgets the queues it is told to, unless an event refreshed them since", () => {
    const fold = new SignalFold(OPTIONS);
    fold.applyBatch(
      packBatch(
        batch(0, 0, [
          { queue_id: "old", event: "pong" },
          { queue_id: "revived", event: "pong" },
        ]),
        T0,
      ),
    );
    fold.report();
    const later = T0 + OPTIONS.retentionMs + 1;
    fold.applyBatch(packBatch(batch(0, 2, [{ queue_id: "revived", event: "pong" }]), later));
    fold.forget(["old", "revived", "unknown"], later);
    expect(fold.size).toBe(1);
    expect(fold.report().changed.map(([key]) => key)).toEqual(["revived"]);
  });
});

describe("forgettable", () => {
  const signal = (at: number) => ({ ...EMPTY_SIGNAL, aliveAt: at, lastOccurredAt: at });
  it("picks queues silent past the retention that no Job in the namespace belongs to", () => {
    const now = T0 + OPTIONS.retentionMs + 1;
    const signals = new Map([
      ["gone", signal(T0)],
      ["interrupted-job-still-there", { ...signal(T0), interruptedAt: T0 }],
      ["recent", signal(T0 + 1000)],
    ]);
    expect(forgettable(signals, new Set(["interrupted-job-still-there"]), now, OPTIONS.retentionMs)).toEqual(["gone"]);
  });
});
