/** The manager's loop on a fake clock: failed rounds counted and backed off, fatal after the bound, no action once leadership is lost. */
import { Controller } from "../src/controller.js";
import { type Decision, initialBucket } from "../src/core/decide.js";
import { DEFAULT_PARSE_LIMITS } from "../src/core/events.js";
import { ANNOTATIONS, type JobManifest } from "../src/core/jobs.js";
import { DEFAULT_POLICY } from "../src/core/policy.js";
import { InlineIntake } from "../src/intake.js";
import { Manager, type Reconciler } from "../src/manager.js";
import { createMetrics } from "../src/metrics.js";
import type { KubePort } from "../src/ports.js";
import { FakeClock, FakeKube, FakeSource, silentLog } from "./fakes.js";
import { T0, documented, launchedJob } from "./sim.js";

const TICK_MS = 1000;

const quietDecision = (): Decision => ({ actions: [], verdicts: new Map(), held: [], bucket: initialBucket(DEFAULT_POLICY, T0) });

const reconcileErrors = async (metrics: ReturnType<typeof createMetrics>) =>
  (await metrics.registry.getSingleMetric("streamforge_operator_reconcile_errors_total")!.get()).values.reduce(
    (sum, v) => sum + v.value,
    0,
  );

/** A manager over a stand-in controller whose rounds fail or succeed as `outcomes` says (then succeed). */
function scripted(outcomes: readonly ("fail" | "ok")[], maxFailedRounds = 15) {
  const clock = new FakeClock(T0);
  const metrics = createMetrics();
  const fatal: string[] = [];
  /** For each round: when it ran (ms since T0), and whether the liveness probe passed as it began. */
  const rounds: { at: number; live: boolean }[] = [];
  const reconciler: Reconciler = {
    startIntake: () => Promise.resolve(),
    sourceHealthy: () => true,
    tick: () => {
      rounds.push({ at: clock.now() - T0, live: manager.live() });
      return outcomes[rounds.length - 1] === "fail" ? Promise.reject(new Error("intake report failed")) : Promise.resolve(quietDecision());
    },
  };
  const manager: Manager = new Manager(
    new FakeKube(clock),
    () => reconciler,
    clock,
    metrics,
    silentLog,
    { tickIntervalMs: TICK_MS, maxFailedRounds },
    (_err, message) => fatal.push(message),
  );
  return { clock, metrics, fatal, rounds, manager };
}

describe("Manager: failed decision rounds", () => {
  it("counts each failure, doubles the wait from 5 ms, starts over after a success, and fails liveness meanwhile", async () => {
    const { clock, metrics, fatal, rounds, manager } = scripted(["fail", "fail", "fail", "fail", "ok", "fail", "ok"]);
    manager.startLeading();
    await clock.elapse(3 * TICK_MS);

    const gaps = rounds.slice(1, 8).map((r, i) => r.at - rounds[i]!.at);
    // 5, 10, 20, 40 ms after failures 1..4; the interval after the success; 5 ms again after the next failure.
    expect(gaps).toEqual([5, 10, 20, 40, TICK_MS, 5, TICK_MS]);
    expect(rounds.slice(0, 8).map((r) => r.live)).toEqual([true, false, false, false, false, true, false, true]);
    expect(await reconcileErrors(metrics)).toBe(5);
    expect(manager.failedRounds()).toBe(0);
    expect(manager.live()).toBe(true);
    expect(fatal).toEqual([]);
  });

  it("exits through the fatal path after MAX_FAILED_ROUNDS failures in a row, and runs no round after", async () => {
    const { clock, metrics, fatal, rounds, manager } = scripted(Array(50).fill("fail"), 4);
    manager.startLeading();
    await clock.elapse(10 * 60_000);

    expect(rounds.map((r) => r.at)).toEqual([0, 5, 15, 35]);
    expect(fatal).toEqual(["Decision rounds failed 4 times in a row (MAX_FAILED_ROUNDS)"]);
    expect(await reconcileErrors(metrics)).toBe(4);
    expect(manager.acting()).toBe(false);
    expect(clock.pending()).toBe(0);
  });

  it("keeps the backoff within its bound however long rounds fail", async () => {
    const { clock, rounds, manager } = scripted(Array(40).fill("fail"), 40);
    manager.startLeading();
    await clock.elapse(60 * 60_000);
    const gaps = rounds.slice(1).map((r, i) => r.at - rounds[i]!.at);
    expect(Math.max(...gaps)).toBe(60_000);
    expect(gaps.slice(0, 3)).toEqual([5, 10, 20]);
  });
});

/** FakeKube whose reads of a Job wait while `hold` is set: a round caught in the middle of a relaunch. */
class HeldKube extends FakeKube {
  hold: Promise<void> | undefined;
  reads = 0;
  override async readJob(name: string): Promise<JobManifest | undefined> {
    this.reads += 1;
    await this.hold;
    return super.readJob(name);
  }
}

/** A leader whose first round relaunches a Job that reported a fatal error; that round waits in its read of the Job. */
async function leaderMidRelaunch() {
  const clock = new FakeClock(T0);
  const kube = new HeldKube(clock);
  kube.put(launchedJob("q1", "loader-producer"));
  const source = new FakeSource(clock);
  const metrics = createMetrics();
  const fatal: string[] = [];
  const ticks = { count: 0 };
  const manager = new Manager(
    kube,
    (gated: KubePort) => {
      const controller = new Controller(
        source,
        new InlineIntake({
          parseLimits: DEFAULT_PARSE_LIMITS,
          maxEventAgeMs: DEFAULT_POLICY.maxEventAgeMs,
          retentionMs: DEFAULT_POLICY.signalRetentionMs,
        }),
        gated,
        clock,
        metrics,
        silentLog,
        { policy: DEFAULT_POLICY, dryRun: false, maxLag: 1000, staleAfterMs: 30_000 },
      );
      const tick = controller.tick.bind(controller);
      controller.tick = () => {
        ticks.count += 1;
        return tick();
      };
      return controller;
    },
    clock,
    metrics,
    silentLog,
    { tickIntervalMs: TICK_MS, maxFailedRounds: 15 },
    (_err, message) => fatal.push(message),
  );
  let release = () => {};
  kube.hold = new Promise((resolve) => (release = resolve));
  manager.startLeading();
  await source.send(documented("q1", "error", T0 + 1000, { reason: "boom" }));
  clock.advance(2000);
  await clock.elapse(0);
  expect(kube.reads).toBe(1);
  return { clock, kube, manager, metrics, fatal, ticks, release };
}

describe("Manager: leadership", () => {
  it("relaunches when it keeps leading (the round below does act)", async () => {
    const { clock, kube, release } = await leaderMidRelaunch();
    release();
    await clock.elapse(0);
    expect([...kube.store.keys()]).toEqual(["q1-loader-producer-r1"]);
    expect(kube.events.map((e) => e.reason)).toEqual(["Relaunched", "RelaunchedFrom"]);
  });

  it("sends no write of a round in progress once leadership is lost, starts no round after, and exits", async () => {
    const { clock, kube, manager, metrics, fatal, ticks, release } = await leaderMidRelaunch();
    manager.stopLeading();
    release();
    await clock.elapse(10 * 60_000);
    // A replica that lost the Lease never leads again in this process.
    manager.startLeading();
    await clock.elapse(60_000);

    expect([...kube.store.keys()]).toEqual(["q1-loader-producer"]);
    expect(kube.store.get("q1-loader-producer")!.metadata.annotations?.[ANNOTATIONS.supersededBy]).toBeUndefined();
    expect(kube.createCalls).toBe(0);
    expect(kube.events).toEqual([]);
    expect(ticks.count).toBe(1);
    expect(fatal).toEqual(["Lost leadership; stopped acting at once"]);
    expect(await reconcileErrors(metrics)).toBe(0);
    expect((await metrics.registry.getSingleMetric("streamforge_operator_leader")!.get()).values[0]?.value).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it("lets the round in progress finish on SIGTERM, then starts none", async () => {
    const { clock, kube, manager, ticks, fatal, release } = await leaderMidRelaunch();
    const stopped = manager.stop();
    release();
    await stopped;
    await clock.elapse(60_000);
    expect([...kube.store.keys()]).toEqual(["q1-loader-producer-r1"]);
    expect(ticks.count).toBe(1);
    expect(fatal).toEqual([]);
  });
});
