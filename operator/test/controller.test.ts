/** The controller's wiring over in-memory ports: intake, decisions, idempotent execution. */
import { Controller } from "../src/controller.js";
import { DEFAULT_PARSE_LIMITS } from "../src/core/events.js";
import { ANNOTATIONS } from "../src/core/jobs.js";
import { DEFAULT_POLICY } from "../src/core/policy.js";
import { InlineIntake } from "../src/intake.js";
import { createMetrics } from "../src/metrics.js";
import { ApiError } from "../src/ports.js";
import { replacementJob } from "../src/core/relaunch.js";
import type { JobManifest } from "../src/core/jobs.js";
import { FakeClock, FakeKube, FakeSource, silentLog } from "./fakes.js";
import { T0, documented, launchedJob, loading } from "./sim.js";

function setup(opts: { dryRun?: boolean; kube?: FakeKube; clock?: FakeClock } = {}) {
  const clock = opts.clock ?? new FakeClock(T0);
  const kube = opts.kube ?? new FakeKube(clock);
  const source = new FakeSource(clock);
  const metrics = createMetrics();
  const intake = new InlineIntake({
    parseLimits: DEFAULT_PARSE_LIMITS,
    maxEventAgeMs: DEFAULT_POLICY.maxEventAgeMs,
    retentionMs: DEFAULT_POLICY.signalRetentionMs,
  });
  const controller = new Controller(source, intake, kube, clock, metrics, silentLog, {
    policy: DEFAULT_POLICY,
    dryRun: opts.dryRun ?? false,
    maxLag: 1000,
    staleAfterMs: 30_000,
  });
  return { clock, kube, source, metrics, controller };
}

const counter = async (metrics: ReturnType<typeof createMetrics>, name: string) =>
  (await metrics.registry.getSingleMetric(name)!.get()).values.reduce((sum, v) => sum + v.value, 0);

describe("Controller", () => {
  it("relaunches a Job that went silent once, with its env, and records Events", async () => {
    const { clock, kube, source, controller, metrics } = setup();
    kube.put(launchedJob("q1", "loader-producer"));
    await controller.startIntake();
    for (let t = 5; t <= 95; t += 10) {
      clock.t = T0 + t * 1000;
      await source.send(loading("q1", clock.t));
    }
    clock.t = T0 + 95_000 + 121_000;
    await controller.tick();
    await controller.tick();
    expect([...kube.store.keys()]).toEqual(["q1-loader-producer-r1"]);
    const replacement = kube.store.get("q1-loader-producer-r1")!;
    expect(replacement.spec?.template?.spec?.containers?.[0]?.env).toEqual(
      launchedJob("q1", "loader-producer").spec?.template?.spec?.containers?.[0]?.env,
    );
    expect(replacement.metadata.annotations?.[ANNOTATIONS.reason]).toMatch(/^stuck: /);
    expect(kube.events.map((e) => `${e.job}:${e.reason}`)).toEqual([
      "q1-loader-producer:Relaunched",
      "q1-loader-producer-r1:RelaunchedFrom",
    ]);
    expect(await counter(metrics, "streamforge_operator_relaunches_total")).toBe(1);
  });

  it("keeps consuming through a flood of malformed messages, counting them by reason", async () => {
    const { clock, kube, source, controller, metrics } = setup();
    kube.put(launchedJob("q1", "loader-producer"));
    await controller.startIntake();
    for (let i = 0; i < 5000; i++) await source.send(i % 2 ? "{broken" : { event: "loading" });
    clock.t = T0 + 230_000;
    await source.send(loading("q1", clock.t));
    clock.t = T0 + 300_000;
    const decision = await controller.tick();
    expect(decision.verdicts.get("stf/q1-loader-producer")).toMatchObject({ kind: "healthy" });
    expect(await counter(metrics, "streamforge_operator_event_rejections_total")).toBe(5000);
  });

  it("lets only one of two replicas relaunch a Job, even when both decide at once", async () => {
    const clock = new FakeClock(T0);
    const kube = new FakeKube(clock);
    kube.put(launchedJob("q1", "loader-producer"));
    const a = setup({ kube, clock });
    const b = setup({ kube, clock });
    await a.controller.startIntake();
    await b.controller.startIntake();
    const fatal = documented("q1", "error", T0 + 30_000, { reason: "boom" });
    await a.source.send(fatal);
    await b.source.send(fatal);
    await Promise.all([a.controller.tick(), b.controller.tick()]);
    await Promise.all([a.controller.tick(), b.controller.tick()]);
    expect([...kube.store.keys()]).toEqual(["q1-loader-producer-r1"]);
  });

  it("finishes a relaunch interrupted between its claim and the new Job", async () => {
    const { clock, kube, source, controller } = setup();
    kube.put(launchedJob("q1", "loader-producer"));
    await controller.startIntake();
    await source.send(documented("q1", "error", T0 + 1000, { reason: "boom" }));
    kube.failNextCreate = true;
    await controller.tick();
    expect(kube.store.get("q1-loader-producer")?.metadata.annotations?.[ANNOTATIONS.supersededBy]).toBe("q1-loader-producer-r1");
    expect(kube.store.has("q1-loader-producer-r1")).toBe(false);
    // A reset may pass: tried again after the first backoff step.
    clock.advance(5);
    await controller.tick();
    expect([...kube.store.keys()]).toEqual(["q1-loader-producer-r1"]);
  });

  it("a restarted operator finishing a relaunch whose replacement already exists leaves the same trace as any relaunch", async () => {
    const clock = new FakeClock(T0);
    const kube = new FakeKube(clock);
    const first = setup({ kube, clock });
    kube.put(launchedJob("q1", "loader-producer"));
    await first.controller.startIntake();
    await first.source.send(documented("q1", "error", T0 + 1000, { reason: "boom" }));
    // The first operator dies after creating the replacement, before deleting the old Job.
    kube.deleteErrors.push(new Error("process killed"));
    await first.controller.tick();
    expect([...kube.store.keys()].sort()).toEqual(["q1-loader-producer", "q1-loader-producer-r1"]);
    kube.events.length = 0;

    const restarted = setup({ kube, clock });
    await restarted.controller.startIntake();
    await restarted.controller.tick();
    expect([...kube.store.keys()]).toEqual(["q1-loader-producer-r1"]);
    expect(kube.events.map((e) => `${e.job}:${e.reason}`)).toEqual([
      "q1-loader-producer:Relaunched",
      "q1-loader-producer-r1:RelaunchedFrom",
    ]);
    const counted = (await restarted.metrics.registry.getSingleMetric("streamforge_operator_relaunches_total")!.get()).values.filter(
      (v) => v.value > 0,
    );
    expect(counted).toEqual([expect.objectContaining({ value: 1, labels: { reason: "fatal-error", result: "exists" } })]);
  });

  it.each<[string, (squatter: JobManifest) => void, string]>([
    [
      "names another predecessor",
      (j) => (j.metadata.annotations = { ...j.metadata.annotations, [ANNOTATIONS.relaunchedFrom]: "ghost" }),
      "metadata.annotations[streamforge.io/relaunched-from] differ",
    ],
    [
      "runs another image",
      (j) => (j.spec!.template!.spec!.containers![0]!.image = "ghcr.io/olehkondratow/streamforge-loader-producer:0.0.1"),
      "spec.template.spec.containers differ",
    ],
  ])("never lets a Job created under the replacement's name that %s stand in for the worker", async (_, edit, why) => {
    const { clock, kube, source, controller, metrics } = setup();
    const old = launchedJob("q1", "loader-producer");
    kube.put(old);
    // What the operator would create, as someone else created it first under that predictable name.
    const squatter = replacementJob({ old, reason: "stuck", detail: "", attempt: 1, history: [T0], queueId: "q1" });
    edit(squatter);
    kube.put(squatter);
    await controller.startIntake();
    await source.send(documented("q1", "error", T0 + 1000, { reason: "boom" }));
    await controller.tick();
    // The worker is kept, the squatter untouched, and whoever can fix it is told once.
    expect([...kube.store.keys()].sort()).toEqual(["q1-loader-producer", "q1-loader-producer-r1"]);
    const kept = kube.store.get("q1-loader-producer-r1")!;
    expect([kept.metadata.annotations, kept.spec]).toEqual([squatter.metadata.annotations, squatter.spec]);
    expect(kube.events.filter((e) => e.reason === "RelaunchRefused")).toEqual([
      expect.objectContaining({
        job: "q1-loader-producer",
        message: `The API server refused to relaunch (409): a Job named q1-loader-producer-r1 exists that is not q1-loader-producer's replacement (${why}); q1-loader-producer is kept until it is removed`,
      }),
    ]);
    const counted = (await metrics.registry.getSingleMetric("streamforge_operator_relaunches_total")!.get()).values.filter(
      (v) => v.value > 0,
    );
    expect(counted).toEqual([expect.objectContaining({ value: 1, labels: { reason: "fatal-error", result: "error" } })]);
    // Once someone removes it, the relaunch is finished after the longest backoff.
    kube.store.delete("q1-loader-producer-r1");
    clock.advance(300_000);
    await controller.tick();
    expect([...kube.store.keys()]).toEqual(["q1-loader-producer-r1"]);
    expect(kube.store.get("q1-loader-producer-r1")?.metadata.annotations?.[ANNOTATIONS.relaunchedFrom]).toBe("q1-loader-producer");
    expect(kube.store.get("q1-loader-producer-r1")?.spec?.template?.spec?.containers?.[0]?.image).toBe(
      old.spec?.template?.spec?.containers?.[0]?.image,
    );
  });

  describe("a failed relaunch", () => {
    /** A Job that reported a fatal error, so the next tick relaunches it. */
    async function faulty(errors: Error[]) {
      const env = setup();
      env.kube.put(launchedJob("q1", "loader-producer"));
      env.kube.createErrors.push(...errors);
      await env.controller.startIntake();
      await env.source.send(documented("q1", "error", T0 + 1000, { reason: "boom", message: "FATAL: bad credentials" }));
      return env;
    }
    const failures = async (metrics: ReturnType<typeof createMetrics>) =>
      Object.fromEntries(
        (await metrics.registry.getSingleMetric("streamforge_operator_action_failures_total")!.get()).values.map((v) => [
          `${v.labels.kind}:${v.labels.status}`,
          v.value,
        ]),
      );

    it("that the API server refuses (403) is said once, as an Event, and not retried before the longest backoff", async () => {
      const { clock, kube, controller, metrics } = await faulty([
        new ApiError(403, 'jobs.batch is forbidden: User "system:serviceaccount:stf:op" cannot create'),
      ]);
      await controller.tick();
      // The claim was made; the replacement could not be created.
      expect(kube.createCalls).toBe(1);
      for (let i = 0; i < 20; i++) {
        clock.advance(10_000);
        await controller.tick();
      }
      expect(kube.createCalls).toBe(1);
      expect(kube.events.filter((e) => e.reason === "RelaunchRefused")).toEqual([
        expect.objectContaining({
          type: "Warning",
          job: "q1-loader-producer",
          message: expect.stringMatching(/refused to relaunch \(403\): jobs.batch is forbidden/),
        }),
      ]);
      expect(await failures(metrics)).toEqual({ "terminal:403": 1 });
      clock.advance(300_000);
      await controller.tick();
      expect(kube.createCalls).toBe(2);
      expect([...kube.store.keys()].sort()).toEqual(["q1-loader-producer-r1"]);
    });

    it("that may pass (503, a reset) is retried after a backoff that doubles, then succeeds", async () => {
      const { clock, kube, controller, metrics } = await faulty([
        new ApiError(503, "etcdserver: leader changed"),
        new ApiError(undefined, "socket hang up"),
        new ApiError(503, "etcdserver: leader changed"),
      ]);
      const calls: number[] = [];
      for (let ms = 0; ms <= 40; ms += 1) {
        await controller.tick();
        calls.push(kube.createCalls);
        clock.advance(1);
      }
      // Tried at 0 ms, then 5 ms, 10 ms and 20 ms after each failure: 0, 5, 15, 35.
      expect([0, 4, 5, 14, 15, 34, 35].map((ms) => calls[ms])).toEqual([1, 1, 2, 2, 3, 3, 4]);
      expect([...kube.store.keys()]).toEqual(["q1-loader-producer-r1"]);
      expect(kube.events.some((e) => e.reason === "RelaunchRefused")).toBe(false);
      expect(await failures(metrics)).toEqual({ "transient:503": 2, "transient:none": 1 });
    });
  });

  it("exports every relaunch reason and result at 0 before any relaunch, so queries for them find a series", async () => {
    const { metrics } = setup();
    const values = (await metrics.registry.getSingleMetric("streamforge_operator_relaunches_total")!.get()).values;
    expect(values).toHaveLength(9);
    expect(values).toContainEqual(expect.objectContaining({ value: 0, labels: { reason: "stuck", result: "error" } }));
    expect(values.every((v) => v.value === 0)).toBe(true);
  });

  it("only logs and counts in dry-run mode", async () => {
    const { kube, source, controller, metrics } = setup({ dryRun: true });
    kube.put(launchedJob("q1", "loader-producer"));
    await controller.startIntake();
    await source.send(documented("q1", "error", T0 + 1000, { reason: "boom" }));
    await controller.tick();
    await controller.tick();
    expect([...kube.store.keys()]).toEqual(["q1-loader-producer"]);
    expect(kube.store.get("q1-loader-producer")?.metadata.annotations).toBeUndefined();
    const counted = (await metrics.registry.getSingleMetric("streamforge_operator_relaunches_total")!.get()).values.filter(
      (v) => v.value > 0,
    );
    expect(counted).toEqual([expect.objectContaining({ value: 1, labels: { reason: "fatal-error", result: "dry-run" } })]);
  });

  it("gives up when the restart budget is spent, says so once, and leaves the Job", async () => {
    const { kube, source, controller, metrics } = setup();
    const history = [T0 - 3000_000, T0 - 2000_000, T0 - 1000_000].map((t) => Math.round(t / 1000)).join(",");
    kube.put(launchedJob("q1", "loader-producer", { annotations: { [ANNOTATIONS.history]: history, [ANNOTATIONS.attempt]: "3" } }));
    await controller.startIntake();
    await source.send(documented("q1", "error", T0 + 1000, { reason: "boom" }));
    await controller.tick();
    await controller.tick();
    expect([...kube.store.keys()]).toEqual(["q1-loader-producer"]);
    expect(kube.store.get("q1-loader-producer")?.metadata.annotations?.[ANNOTATIONS.gaveUp]).toMatch(/restart budget spent/);
    expect(kube.events.map((e) => e.reason)).toEqual(["SelfHealingGaveUp"]);
    expect(await counter(metrics, "streamforge_operator_give_ups_total")).toBe(1);
  });

  it("pauses stuck detection while the consumer is disconnected", async () => {
    const { clock, kube, source, controller } = setup();
    kube.put(launchedJob("q1", "loader-producer"));
    await controller.startIntake();
    source.healthy = { connected: false, lag: undefined, lastFetchAt: 0, lastErrorAt: 0, lastJoinAt: 0 };
    clock.t = T0 + 600_000;
    const decision = await controller.tick();
    expect(decision.held).toHaveLength(1);
    expect([...kube.store.keys()]).toEqual(["q1-loader-producer"]);
  });
});

describe("Controller whose clock is minutes off the cluster's (the API server's and the workers')", () => {
  it.each([
    ["5 min ahead", 5 * 60_000],
    ["5 min behind", -5 * 60_000],
    // Beyond maxEventAgeMs: read by its stamp as is, every fresh event would look like a backlog.
    ["12 min ahead", 12 * 60_000],
    ["12 min behind", -12 * 60_000],
  ])(
    "with the cluster %s: healthy Jobs stay, a fresh Job gets its start grace, a silent one is relaunched exactly once",
    async (_, skew) => {
      const { clock, kube, source, controller } = setup();
      kube.serverSkewMs = skew;
      // Stamped by the API server and by the workers, on the cluster's clock.
      kube.put(launchedJob("q1", "loader-producer", { createdAt: T0 + skew }));
      kube.put(launchedJob("q2", "loader-producer", { createdAt: T0 + skew }));
      await controller.startIntake();
      for (let t = 5; t <= 200; t += 5) {
        clock.t = T0 + t * 1000;
        await source.send(loading("q1", clock.t + skew));
        if (t === 5) await source.send(loading("q2", clock.t + skew));
        if (t === 100) kube.put(launchedJob("q3", "loader-producer", { createdAt: clock.t + skew }));
        await controller.tick();
      }
      expect([...kube.store.keys()].sort()).toEqual(["q1-loader-producer", "q2-loader-producer-r1", "q3-loader-producer"]);
      // What it wrote is in the server's time, so any replica reads it back right.
      const relaunchedAt = Number(kube.store.get("q2-loader-producer-r1")!.metadata.annotations![ANNOTATIONS.relaunchedAt]);
      expect(relaunchedAt - skew).toBeGreaterThanOrEqual(T0 + 125_000);
      expect(relaunchedAt - skew).toBeLessThanOrEqual(T0 + 135_000);
    },
  );

  it("still takes a backlog for what it is: events stamped long ago in the cluster's time are not signs of life now", async () => {
    const skew = 12 * 60_000;
    const { clock, kube, source, controller } = setup();
    kube.serverSkewMs = skew;
    kube.put(launchedJob("q1", "loader-producer", { createdAt: T0 - 3_600_000 + skew }));
    // Read after a restart: the Job's last events, an hour old by the cluster's clock.
    await controller.startIntake();
    for (let t = 0; t < 60; t += 10) await source.send(loading("q1", T0 - 3_600_000 + t * 1000 + skew));
    // Taken as fresh, they would make the Job stuck 2 min after they arrived; as a backlog, its
    // silence counts from when the operator began listening plus the start grace.
    for (const at of [5_000, 125_000]) {
      clock.t = T0 + at;
      await controller.tick();
    }
    expect([...kube.store.keys()]).toEqual(["q1-loader-producer"]);
    clock.t = T0 + 245_000;
    await controller.tick();
    await controller.tick();
    expect([...kube.store.keys()]).toEqual(["q1-loader-producer-r1"]);
  });
});

describe("Controller during an event-source outage", () => {
  it("detects nothing and counts each hold once, however many ticks the outage lasts", async () => {
    const { clock, kube, source, controller, metrics } = setup();
    for (const q of ["q1", "q2", "q3"]) kube.put(launchedJob(q, "loader-producer"));
    await controller.startIntake();
    for (let t = 5; t <= 95; t += 10) {
      clock.t = T0 + t * 1000;
      for (const q of ["q1", "q2", "q3"]) await source.send(loading(q, clock.t));
    }
    source.healthy = { connected: false, lag: undefined, lastFetchAt: 0, lastErrorAt: 0, lastJoinAt: 0 };
    for (let t = 100; t <= 700; t += 1) {
      clock.t = T0 + t * 1000;
      await controller.tick();
    }
    expect(await counter(metrics, "streamforge_operator_detections_total")).toBe(0);
    expect(await counter(metrics, "streamforge_operator_relaunches_held_total")).toBe(3);
    expect([...kube.store.keys()].sort()).toEqual(["q1-loader-producer", "q2-loader-producer", "q3-loader-producer"]);
  });
});

describe("Controller and broker errors", () => {
  it("pauses stuck detection while the consumer's broker connections fail, though fetches look current", async () => {
    const { clock, kube, controller, source } = setup();
    kube.put(launchedJob("q1", "loader-producer"));
    await controller.startIntake();
    clock.t = T0 + 600_000;
    source.healthy = { connected: true, lag: 0, lastFetchAt: 0, lastErrorAt: clock.t - 1000, lastJoinAt: 0 };
    expect((await controller.tick()).held).toEqual([
      { key: "stf/q1-loader-producer", kind: "source-unhealthy", why: "the event source is unhealthy (disconnected or lagging)" },
    ]);
    expect([...kube.store.keys()]).toEqual(["q1-loader-producer"]);
  });
});

describe("Controller after one transient broker error", () => {
  it("is healthy again once the consumer has joined its group since, not only after the stale window", async () => {
    const { clock, kube, controller, source } = setup();
    kube.put(launchedJob("q1", "loader-producer"));
    await controller.startIntake();
    // "The group coordinator is not available" while the group forms, then the join.
    source.healthy = { connected: true, lag: 0, lastFetchAt: 0, lastErrorAt: clock.t, lastJoinAt: 0 };
    clock.advance(1000);
    expect(controller.sourceHealthy()).toBe(false);
    source.healthy = { ...source.healthy, lastJoinAt: clock.t };
    clock.advance(1000);
    expect(controller.sourceHealthy()).toBe(true);
    // A later error, with no join after it, counts again.
    source.healthy = { ...source.healthy, lastErrorAt: clock.t };
    clock.advance(1000);
    expect(controller.sourceHealthy()).toBe(false);
  });
});

describe("Controller after an event-source outage", () => {
  it("measures silence from the recovery, not across the outage", async () => {
    const { clock, kube, source, controller } = setup();
    kube.put(launchedJob("q1", "loader-producer"));
    await controller.startIntake();
    for (let t = 5; t <= 95; t += 10) {
      clock.t = T0 + t * 1000;
      await source.send(loading("q1", clock.t));
    }
    source.healthy = { connected: false, lag: undefined, lastFetchAt: 0, lastErrorAt: 0, lastJoinAt: 0 };
    clock.t = T0 + 400_000;
    expect((await controller.tick()).held).toHaveLength(1);
    source.healthy = { connected: true, lag: 0, lastFetchAt: 0, lastErrorAt: 0, lastJoinAt: 0 };
    clock.t = T0 + 401_000;
    expect((await controller.tick()).verdicts.get("stf/q1-loader-producer")).toMatchObject({ kind: "healthy" });
    clock.t = T0 + 401_000 + 120_000 + 120_001;
    expect((await controller.tick()).actions).toHaveLength(1);
  });

  it("keeps the state of a queue whose Job still exists however long it is quiet, and forgets queues without one", async () => {
    const { clock, kube, source, controller, metrics } = setup();
    kube.put(launchedJob("q1", "loader-producer"));
    await controller.startIntake();
    clock.t = T0 + 5000;
    await source.send(documented("q1", "interrupted", clock.t));
    await source.send(documented("q9", "loading", clock.t));
    await controller.tick();
    expect(await counter(metrics, "streamforge_operator_tracked_queues")).toBe(2);
    clock.t += DEFAULT_POLICY.signalRetentionMs + 60_000;
    await controller.tick();
    await controller.tick();
    // q9 had no Job: gone. q1 was interrupted on purpose: its Job is still not relaunched.
    expect(await counter(metrics, "streamforge_operator_tracked_queues")).toBe(1);
    expect([...kube.store.keys()]).toEqual(["q1-loader-producer"]);
  });
});
