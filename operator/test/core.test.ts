/**
 * The decision core, table-driven over event sequences with a fake clock. Times are seconds
 * after the Job's start (T0); the default policy gives loaders 120 s of silence (learned
 * rhythm may say stuck earlier, never before 45 s), arango-connector 30 min ("quiet is fine").
 */
import { DEFAULT_POLICY, targetPolicy } from "../src/core/policy.js";
import {
  type Delivery,
  T0,
  documented,
  launchedJob,
  loading,
  progress,
  rhythm,
  s,
  signalsOf,
  statusError,
  statusFinished,
  verdictAt,
} from "./sim.js";

const Q = "Q-1";
const loader = launchedJob(Q, "loader-producer");
const connector = launchedJob(Q, "arango-connector");

type Case = [name: string, job: typeof loader, deliveries: Delivery[], checkAt: number, expected: string];

const kindOf = (v: ReturnType<typeof verdictAt>): string => (v.kind === "faulty" ? `faulty:${v.reason}` : v.kind);

const cases: Case[] = [
  ["normal run: loading every 10 s", loader, rhythm(Q, 5, 300, 10), 305, "healthy"],
  ["normal run, documented shape", loader, rhythm(Q, 5, 300, 10, (q, t) => documented(q, "loading", t, { progress: 0.5 })), 305, "healthy"],
  ["new Job, silent, inside start grace + threshold", loader, [], 239, "healthy"],
  ["new Job, silent past start grace + threshold", loader, [], 241, "stuck"],
  ["silence past the fixed threshold", loader, rhythm(Q, 5, 95, 10), 95 + 121, "stuck"],
  ["silence that breaks a learned 10 s rhythm: stuck before the threshold", loader, rhythm(Q, 5, 95, 10), 95 + 50, "stuck"],
  ["a pause below the 45 s floor is never stuck", loader, rhythm(Q, 5, 95, 10), 95 + 40, "healthy"],
  ["slow but alive: a loader reporting every 60 s", loader, rhythm(Q, 5, 605, 60), 605 + 100, "healthy"],
  ["quiet is fine: arango-connector reporting every 20 min", connector, rhythm(Q, 60, 60 * 60, 20 * 60), 70 * 60, "healthy"],
  ["arango-connector silent past 30 min", connector, rhythm(Q, 60, 60, 60), 60 + 30 * 60 + 1, "stuck"],
  [
    "documented critical error",
    loader,
    [...rhythm(Q, 5, 45, 10), { at: s(50), body: documented(Q, "error", s(50), { reason: "disk full", code: 507 }) }],
    51,
    "faulty:fatal-error",
  ],
  [
    "arango-connector fatal: error, then finished, Job Complete",
    launchedJob(Q, "arango-connector", { phase: "Complete" }),
    [
      ...rhythm(Q, 5, 45, 10),
      { at: s(50), body: statusError(Q, s(50), "Fatal consumer error") },
      { at: s(51), body: statusFinished(Q, s(51)) },
    ],
    52,
    "faulty:fatal-error",
  ],
  [
    "any error followed by finished is a failed task",
    connector,
    [
      { at: s(50), body: statusError(Q, s(50), "boom") },
      { at: s(51), body: statusFinished(Q, s(51)) },
    ],
    52,
    "faulty:fatal-error",
  ],
  [
    "per-record error followed by loading is survived",
    connector,
    [{ at: s(50), body: statusError(Q, s(50), "JSON decode error") }, ...rhythm(Q, 55, 95, 10)],
    100,
    "healthy",
  ],
  [
    "per-record error, progress may still follow",
    connector,
    [{ at: s(50), body: statusError(Q, s(50), "Data processing error") }],
    80,
    "watching",
  ],
  [
    "error with no progress for the error grace",
    connector,
    [{ at: s(50), body: statusError(Q, s(50), "Data processing error") }],
    111,
    "faulty:fatal-error",
  ],
  ["finished cleanly", loader, [...rhythm(Q, 5, 45, 10), { at: s(50), body: statusFinished(Q, s(50)) }], 3600, "done"],
  ["documented finished", loader, [{ at: s(50), body: documented(Q, "finished", s(50)) }], 3600, "done"],
  ["Job Complete without events", launchedJob(Q, "loader-producer", { phase: "Complete" }), [], 3600, "done"],
  [
    "interrupted on purpose (stop), even after an error",
    loader,
    [
      { at: s(40), body: statusError(Q, s(40), "x") },
      { at: s(50), body: { event: "status", queue_id: Q, status: "interrupted", finished: true, sent_at: s(50) / 1000 } },
    ],
    3600,
    "done",
  ],
  ["documented interrupted", loader, [{ at: s(50), body: documented(Q, "interrupted", s(50)) }], 3600, "done"],
  ["Job Failed (backoffLimit exhausted)", launchedJob(Q, "loader-producer", { phase: "Failed" }), [], 10, "faulty:job-failed"],
  [
    "out of order: progress sent after the error arrives first",
    connector,
    [
      { at: s(61), body: loading(Q, s(60)) },
      { at: s(62), body: statusError(Q, s(50), "JSON decode error") },
    ],
    200,
    "healthy",
  ],
  [
    "out of order: a stale progress arriving after finished does not revive the Job",
    loader,
    [
      { at: s(50), body: statusFinished(Q, s(50)) },
      { at: s(52), body: progress(Q, s(45)) },
    ],
    3600,
    "done",
  ],
  [
    "finished is final for its incarnation: a progress stamped after the finish (a telemetry thread flushing late) does not revive it",
    loader,
    [
      { at: s(50), body: statusFinished(Q, s(50)) },
      { at: s(53), body: progress(Q, s(52)) },
    ],
    3600,
    "done",
  ],
  ["duplicates change nothing", loader, [...rhythm(Q, 5, 95, 10), ...rhythm(Q, 5, 95, 10)], 95 + 40, "healthy"],
  [
    "an event stamped two hours ahead still shows the Job alive now",
    loader,
    [{ at: s(200), body: loading(Q, s(200 + 7200)) }],
    290,
    "healthy",
  ],
  [
    "an event stamped hours ago (a replay) is no sign of life now",
    loader,
    [{ at: s(200), body: loading(Q, s(200 - 3 * 3600)) }],
    241,
    "stuck",
  ],
  [
    "a replay of a long-running Job's old event does not make it look silent for hours",
    launchedJob(Q, "loader-producer", { createdAt: s(-20000) }),
    [{ at: s(200), body: loading(Q, s(200 - 3 * 3600)) }],
    201,
    "healthy",
  ],
  [
    "a critical error from before this Job was created is not this Job's",
    launchedJob(Q, "loader-producer", { createdAt: s(100) }),
    [{ at: s(101), body: documented(Q, "error", s(90)) }, ...rhythm(Q, 110, 200, 10)],
    205,
    "healthy",
  ],
  [
    "the error that got a Job relaunched is not its replacement's, even within the same second",
    launchedJob(Q, "loader-producer", { createdAt: s(100), annotations: { "streamforge.io/relaunched-at": String(s(100) + 700) } }),
    [{ at: s(100) + 500, body: documented(Q, "error", s(100) + 400) }],
    101,
    "healthy",
  ],
  ["events of another queue say nothing about this Job", loader, rhythm("other-queue", 5, 300, 10), 241, "stuck"],
  [
    "pong answers count as signs of life",
    loader,
    rhythm(Q, 5, 300, 10, (q, t) => ({ event: "pong", queue_id: q, ping_ts: t / 1000, ponged_at: t / 1000 })),
    305,
    "healthy",
  ],
];

describe("assess", () => {
  it.each(cases)("%s", (_name, job, deliveries, checkAt, expected) => {
    expect(kindOf(verdictAt(job, deliveries, s(checkAt)))).toBe(expected);
  });

  it("says when a healthy verdict is due to change, so the loop can wake then", () => {
    expect(verdictAt(loader, rhythm(Q, 5, 95, 10), s(100))).toEqual({ kind: "healthy", dueAt: s(95) + 120_000 + 1 });
    expect(verdictAt(loader, [], s(100))).toEqual({ kind: "healthy", dueAt: s(120) + 120_000 + 1 });
  });

  it("explains a stuck verdict with the silence and the threshold", () => {
    expect(verdictAt(loader, rhythm(Q, 5, 95, 10), s(95 + 121))).toEqual({
      kind: "stuck",
      detail: expect.stringMatching(/no event for 121s/),
    });
  });

  it("explains an early stuck verdict with phi and the learned rhythm", () => {
    expect(verdictAt(loader, rhythm(Q, 5, 95, 10), s(95 + 50))).toEqual({
      kind: "stuck",
      detail: expect.stringMatching(/phi .* for its rhythm of ~10s/),
    });
  });

  it("counts silence from when the operator began listening, not from a Job started long before", () => {
    const old = launchedJob(Q, "loader-producer", { createdAt: s(-3600) });
    expect(kindOf(verdictAt(old, [], s(100), DEFAULT_POLICY, T0))).toBe("healthy");
    expect(kindOf(verdictAt(old, [], s(241), DEFAULT_POLICY, T0))).toBe("stuck");
  });

  it("treats the fatal message pattern as optional", () => {
    const policy = { ...DEFAULT_POLICY, fatalMessagePattern: null };
    expect(kindOf(verdictAt(connector, [{ at: s(50), body: statusError(Q, s(50), "Fatal consumer error") }], s(55), policy))).toBe(
      "watching",
    );
    expect(kindOf(verdictAt(connector, [{ at: s(50), body: statusError(Q, s(50), "Fatal consumer error") }], s(55)))).toBe(
      "faulty:fatal-error",
    );
  });

  it("leaves Failed Jobs alone when that is configured", () => {
    const failed = launchedJob(Q, "loader-producer", { phase: "Failed" });
    expect(kindOf(verdictAt(failed, [], s(10), { ...DEFAULT_POLICY, relaunchFailedJobs: false }))).toBe("done");
  });
});

describe("signals", () => {
  it("are the same whatever the delivery order and however often an event is delivered", () => {
    const events = rhythm(Q, 5, 95, 10);
    const once = signalsOf(events).get("q-1");
    const twice = signalsOf([...events, ...events.map((d) => ({ ...d, at: d.at + 500 }))]).get("q-1");
    expect(twice?.progressAt).toBe(once?.progressAt);
    expect(twice?.count).toBe(once?.count);
    expect(once?.mean).toBeCloseTo(10_000, -2);
  });
});

describe("targetPolicy", () => {
  it("uses the default for targets named after Object members, not Object's own properties", () => {
    for (const target of ["constructor", "__proto__", "toString", "hasOwnProperty"])
      expect(targetPolicy(DEFAULT_POLICY, target)).toBe(DEFAULT_POLICY.defaultTarget);
    expect(targetPolicy(DEFAULT_POLICY, "arango-connector")).toBe(DEFAULT_POLICY.targets["arango-connector"]);
  });
});
