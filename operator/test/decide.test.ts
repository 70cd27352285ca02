/** Safety around the verdicts: budgets, rate limit, the event-source guard, idempotency. */
import { ANNOTATIONS } from "../src/core/jobs.js";
import { nextWakeIn } from "../src/core/decide.js";
import { DEFAULT_POLICY } from "../src/core/policy.js";
import { decideAt, documented, launchedJob, rhythm, s } from "./sim.js";

const fatal = (q: string, at: number) => ({ at: s(at), body: documented(q, "error", s(at), { reason: "boom" }) });
const summary = (d: ReturnType<typeof decideAt>) => d.actions.map((a) => `${a.type}:${a.job.name}:${a.reason}`);

describe("decide", () => {
  it("relaunches a faulty Job with the next attempt and the relaunch recorded in its history", () => {
    const d = decideAt([launchedJob("q1", "loader-producer")], [fatal("q1", 30)], s(31));
    expect(d.actions).toEqual([expect.objectContaining({ type: "relaunch", reason: "fatal-error", attempt: 1, history: [s(31)] })]);
  });

  it("never touches opted-out, unlabelled-and-unnamed, deleting or already superseded Jobs", () => {
    const optedOut = launchedJob("q1", "loader-producer", { annotations: { [ANNOTATIONS.selfHealing]: "disabled" } });
    const superseded = launchedJob("q2", "loader-producer", { annotations: { [ANNOTATIONS.supersededBy]: "q2-loader-producer-r1" } });
    const foreign = launchedJob("q3", "loader-producer");
    foreign.metadata.name = "nightly-backup";
    foreign.spec!.template!.spec!.containers![0]!.env = [];
    const deleting = launchedJob("q4", "loader-producer");
    deleting.metadata.deletionTimestamp = new Date(s(1)).toISOString();
    const d = decideAt(
      [optedOut, superseded, foreign, deleting],
      [fatal("q1", 30), fatal("q2", 30), fatal("q3", 30), fatal("q4", 30)],
      s(31),
    );
    expect(d.actions).toEqual([]);
    expect(d.verdicts.size).toBe(0);
  });

  it("gives up on a queue whose restart budget is spent, and says so", () => {
    const history = [s(-1800), s(-1200), s(-600)].map((t) => Math.round(t / 1000)).join(",");
    const job = launchedJob("q1", "loader-producer", { annotations: { [ANNOTATIONS.history]: history, [ANNOTATIONS.attempt]: "3" } });
    const d = decideAt([job], [fatal("q1", 30)], s(31));
    expect(d.actions).toEqual([
      expect.objectContaining({
        type: "give-up",
        reason: "fatal-error",
        detail: expect.stringMatching(/restart budget spent \(3 relaunches in 3600s\)/),
      }),
    ]);
  });

  it("forgets relaunches older than the budget window", () => {
    const history = [s(-7200), s(-5000), s(-600)].map((t) => Math.round(t / 1000)).join(",");
    const job = launchedJob("q1", "loader-producer", { annotations: { [ANNOTATIONS.history]: history, [ANNOTATIONS.attempt]: "3" } });
    const d = decideAt([job], [fatal("q1", 30)], s(31));
    expect(d.actions).toEqual([expect.objectContaining({ type: "relaunch", attempt: 4, history: [s(-600), s(31)] })]);
  });

  it("counts no relaunch time in the future (forged, or a clock far off): it would spend the budget for good", () => {
    const history = [s(-600), s(86_400), s(86_401), s(86_402)].map((t) => Math.round(t / 1000)).join(",");
    const job = launchedJob("q1", "loader-producer", { annotations: { [ANNOTATIONS.history]: history, [ANNOTATIONS.attempt]: "4" } });
    const d = decideAt([job], [fatal("q1", 30)], s(31));
    expect(d.actions).toEqual([expect.objectContaining({ type: "relaunch", attempt: 5, history: [s(-600), s(31)] })]);
  });

  it("counts a replacement's events even when its relaunch time is in the future (forged): that time would hide them all", () => {
    const job = launchedJob("q1", "loader-producer", {
      annotations: { [ANNOTATIONS.relaunchedAt]: String(s(86_400)), [ANNOTATIONS.attempt]: "1" },
    });
    const d = decideAt([job], [fatal("q1", 30)], s(31));
    expect(d.actions).toEqual([expect.objectContaining({ type: "relaunch", reason: "fatal-error" })]);
  });

  it("holds relaunches beyond the global rate limit, critical errors first", () => {
    const jobs = ["a", "b", "c", "d", "e", "f"].map((q) => launchedJob(q, "loader-producer"));
    const stuckJob = launchedJob("z", "loader-producer");
    const d = decideAt(
      [...jobs, stuckJob],
      ["a", "b", "c", "d", "e", "f"].map((q) => fatal(q, 250)),
      s(251),
      { tokens: 5 },
    );
    expect(d.actions).toHaveLength(5);
    expect(d.actions.every((a) => a.reason === "fatal-error")).toBe(true);
    expect(d.held.map((h) => h.why)).toEqual(["global relaunch rate limit", "global relaunch rate limit"]);
  });

  it("refills the rate limit over time", () => {
    const jobs = ["a", "b"].map((q) => launchedJob(q, "loader-producer"));
    expect(decideAt(jobs, [fatal("a", 30), fatal("b", 30)], s(31), { tokens: 0 }).actions).toHaveLength(0);
    const refilled = decideAt(jobs, [fatal("a", 30), fatal("b", 30)], s(31), { tokens: 1.5 });
    expect(refilled.actions).toHaveLength(1);
  });

  it("pauses stuck detection while the event source is unhealthy, but still acts on critical errors", () => {
    const quiet = launchedJob("quiet", "loader-producer");
    const broken = launchedJob("broken", "loader-producer");
    const d = decideAt([quiet, broken], [...rhythm("broken", 5, 295, 10), fatal("broken", 296)], s(300), { sourceHealthy: false });
    expect(summary(d)).toEqual(["relaunch:broken-loader-producer:fatal-error"]);
    expect(d.held).toEqual([
      { key: "stf/quiet-loader-producer", kind: "source-unhealthy", why: "the event source is unhealthy (disconnected or lagging)" },
    ]);
  });

  it("suspects the event source when most Jobs go quiet at once", () => {
    const queues = ["a", "b", "c", "d"];
    const jobs = queues.map((q) => launchedJob(q, "loader-producer"));
    const events = queues.flatMap((q) => rhythm(q, 5, 95, 10));
    const d = decideAt(jobs, events, s(95 + 121));
    expect(d.actions).toEqual([]);
    expect(d.held).toHaveLength(4);
    expect(d.held[0]?.why).toMatch(/4 of 4 active Jobs went quiet at once/);
  });

  it("relaunches a single quiet Job among healthy ones", () => {
    const queues = ["a", "b", "c", "d"];
    const jobs = queues.map((q) => launchedJob(q, "loader-producer"));
    const events = [...rhythm("a", 5, 95, 10), ...["b", "c", "d"].flatMap((q) => rhythm(q, 5, 300, 10))];
    expect(summary(decideAt(jobs, events, s(95 + 121)))).toEqual(["relaunch:a-loader-producer:stuck"]);
  });

  it("skips Jobs with an action under way", () => {
    expect(
      decideAt([launchedJob("q1", "loader-producer")], [fatal("q1", 30)], s(31), { inFlight: ["stf/q1-loader-producer"] }).actions,
    ).toEqual([]);
  });

  it("is deterministic", () => {
    const jobs = ["c", "a", "b"].map((q) => launchedJob(q, "loader-producer"));
    const events = ["c", "a", "b"].map((q) => fatal(q, 30));
    expect(summary(decideAt(jobs, events, s(31)))).toEqual(summary(decideAt([...jobs].reverse(), [...events].reverse(), s(31))));
    expect(summary(decideAt(jobs, events, s(31)))).toEqual([
      "relaunch:a-loader-producer:fatal-error",
      "relaunch:b-loader-producer:fatal-error",
      "relaunch:c-loader-producer:fatal-error",
    ]);
  });

  it("wakes the loop when the earliest verdict is due, within [10 ms, interval]", () => {
    const jobs = [launchedJob("a", "loader-producer"), launchedJob("b", "arango-connector")];
    const d = decideAt(jobs, rhythm("a", 5, 95, 10), s(100));
    expect(nextWakeIn(d, s(100), 200_000)).toBe(s(95) + 120_001 - s(100));
    expect(nextWakeIn(d, s(100), 1000)).toBe(1000);
    expect(nextWakeIn(d, s(95) + 120_000, 1000)).toBe(10);
  });

  it("uses the budget window from the policy", () => {
    const history = [s(-100)].map((t) => Math.round(t / 1000)).join(",");
    const job = launchedJob("q1", "loader-producer", { annotations: { [ANNOTATIONS.history]: history } });
    const policy = { ...DEFAULT_POLICY, budget: { maxRelaunches: 1, windowMs: 3_600_000 } };
    expect(decideAt([job], [fatal("q1", 30)], s(31), { policy }).actions[0]?.type).toBe("give-up");
  });
});
