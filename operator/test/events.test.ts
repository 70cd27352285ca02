import { parseEvent, parseTimestamp } from "../src/core/events.js";

const NOW = Date.parse("2026-11-27T10:00:00Z");
const parse = (body: unknown, now = NOW) => parseEvent(typeof body === "string" ? body : JSON.stringify(body), now);

describe("parseEvent: the documented shape", () => {
  it.each([
    ["started", "started"],
    ["pong", "progress"],
    ["loading", "progress"],
    ["interrupted", "interrupted"],
    ["finished", "finished"],
    ["error", "fatal"],
  ])("event %s is %s", (event, kind) => {
    expect(parse({ queue_id: "q", event, timestamp: "2026-11-27T09:59:50Z", payload: {} })).toEqual({
      ok: true,
      event: { queueId: "q", kind, occurredAt: NOW - 10_000, receivedAt: NOW, clockSkewed: false },
    });
  });

  it("keeps the reason of an error", () => {
    const r = parse({ queue_id: "q", event: "error", timestamp: "2026-11-27T09:59:50Z", payload: { reason: "disk full", code: 507 } });
    expect(r.ok && r.event.message).toBe("disk full");
  });
});

describe("parseEvent: the shape the code sends", () => {
  it.each([
    ["started", "started"],
    ["loading", "progress"],
    ["error", "error"],
    ["interrupted", "interrupted"],
    ["finished", "finished"],
  ])("status %s is %s", (status, kind) => {
    const r = parse({
      event: "status",
      queue_id: "q",
      symbol: "BTCUSDT",
      type: "trades",
      status,
      message: "m",
      finished: false,
      sent_at: NOW / 1000 - 1.5,
    });
    expect(r).toEqual({
      ok: true,
      event: {
        queueId: "q",
        kind,
        occurredAt: NOW - 1500,
        receivedAt: NOW,
        clockSkewed: false,
        message: kind === "error" ? "m" : undefined,
      },
    });
  });

  it("reads progress events and arango-connector's error_message", () => {
    expect(parse({ event: "progress", queue_id: "q", message_count: 100, sent_at: NOW / 1000 })).toMatchObject({
      ok: true,
      event: { kind: "progress" },
    });
    const r = parse({
      event: "status",
      queue_id: "q",
      status: "error",
      error_message: "Fatal consumer error",
      message: "x",
      records_written: 5,
    });
    expect(r.ok && r.event.message).toBe("x: Fatal consumer error");
  });
});

describe("timestamps", () => {
  it("reads ISO 8601, Unix seconds, numeric text and milliseconds", () => {
    expect(parseTimestamp("2026-11-27T10:00:00Z")).toBe(NOW);
    expect(parseTimestamp("2026-11-27T12:00:00+02:00")).toBe(NOW);
    expect(parseTimestamp(NOW / 1000)).toBe(NOW);
    expect(parseTimestamp(String(NOW / 1000))).toBe(NOW);
    expect(parseTimestamp(NOW)).toBe(NOW);
    expect(parseTimestamp("yesterday")).toBeNull();
  });

  it("clamps an event from the future to its arrival and flags the skew", () => {
    expect(parse({ queue_id: "q", event: "loading", timestamp: "2026-11-27T12:00:00Z" })).toMatchObject({
      ok: true,
      event: { occurredAt: NOW, clockSkewed: true },
    });
    expect(parse({ queue_id: "q", event: "loading", timestamp: "2026-11-27T10:00:30Z" })).toMatchObject({
      ok: true,
      event: { occurredAt: NOW, clockSkewed: false },
    });
  });

  it("dates a stamp, which is in the cluster's time, in ours by the measured offset", () => {
    const body = JSON.stringify({ queue_id: "q", event: "loading", timestamp: "2026-11-27T10:11:50Z" });
    // The cluster's clock 12 min ahead of ours: a stamp of 10:11:50 happened at our 09:59:50.
    expect(parseEvent(body, NOW, undefined, 12 * 60_000)).toMatchObject({
      ok: true,
      event: { occurredAt: NOW - 10_000, clockSkewed: false },
    });
    // The cluster's clock 12 min behind: a stamp 12 min old by ours is fresh.
    expect(
      parseEvent(JSON.stringify({ queue_id: "q", event: "pong", timestamp: "2026-11-27T09:47:55Z" }), NOW, undefined, -12 * 60_000),
    ).toMatchObject({
      ok: true,
      event: { occurredAt: NOW - 5_000 },
    });
  });

  it("uses the arrival time when the event has none", () => {
    expect(parse({ queue_id: "q", event: "loading" })).toMatchObject({ ok: true, event: { occurredAt: NOW } });
  });
});

describe("rejections: counted, never thrown", () => {
  it.each([
    ["malformed JSON", "{not json", "malformed-json"],
    ["a JSON array", "[1,2]", "not-an-object"],
    ["null", "null", "not-an-object"],
    ["no queue_id", JSON.stringify({ event: "loading" }), "missing-queue-id"],
    ["an empty queue_id", JSON.stringify({ queue_id: " ", event: "loading" }), "missing-queue-id"],
    ["a numeric queue_id", JSON.stringify({ queue_id: 7, event: "loading" }), "missing-queue-id"],
    ["an unknown event", JSON.stringify({ queue_id: "q", event: "telemetry" }), "unknown-kind"],
    ["an unknown status", JSON.stringify({ event: "status", queue_id: "q", status: "paused" }), "unknown-kind"],
    ["a status without status", JSON.stringify({ event: "status", queue_id: "q" }), "unknown-kind"],
    ["an event named after an Object member", JSON.stringify({ queue_id: "q", event: "constructor" }), "unknown-kind"],
    ["a status named after an Object member", JSON.stringify({ event: "status", queue_id: "q", status: "toString" }), "unknown-kind"],
    ["an unreadable timestamp", JSON.stringify({ queue_id: "q", event: "loading", timestamp: "soon" }), "bad-timestamp"],
    ["an oversized message", JSON.stringify({ queue_id: "q", event: "loading", pad: "x".repeat(70_000) }), "oversized"],
  ])("%s", (_name, raw, reason) => {
    expect(parse(raw)).toMatchObject({ ok: false, reason });
  });

  it("reads bytes as the consumer hands them over", () => {
    expect(parseEvent(Buffer.from(JSON.stringify({ queue_id: "q", event: "loading" })), NOW)).toMatchObject({ ok: true });
    expect(parseEvent(Buffer.from([0xff, 0xfe, 0x00]), NOW)).toMatchObject({ ok: false, reason: "malformed-json" });
  });
});
