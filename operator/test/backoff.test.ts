/** Backoffs on a fake clock: decision rounds (controller-runtime's rate limiter) and Job watch restarts (client-go's reflector). */
import { WatchRestarts } from "../src/adapters/watch-restarts.js";
import { ExponentialBackoff, WATCH_BACKOFF, roundBackoffMs } from "../src/core/backoff.js";
import { FakeClock } from "./fakes.js";

describe("roundBackoffMs", () => {
  it("starts at 5 ms, doubles, and stops at one minute", () => {
    expect([1, 2, 3, 4, 5].map((n) => roundBackoffMs(n))).toEqual([5, 10, 20, 40, 80]);
    expect(roundBackoffMs(14)).toBe(40_960);
    expect(roundBackoffMs(15)).toBe(60_000);
    expect(roundBackoffMs(1000)).toBe(60_000);
  });
});

describe("ExponentialBackoff with the reflector's constants", () => {
  it("doubles from 800 ms to 30 s, and jitter stretches a delay by less than itself", () => {
    const b = new ExponentialBackoff(WATCH_BACKOFF);
    const delays = Array.from({ length: 8 }, (_, i) => b.next(i * 1000, 0));
    expect(delays).toEqual([800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000]);
    const jittered = new ExponentialBackoff(WATCH_BACKOFF);
    expect(jittered.next(0, 0.5)).toBe(1200);
    expect(jittered.next(1, 0.999)).toBeLessThan(3200);
  });

  it("starts again from 800 ms after two minutes without a backoff, not before", () => {
    const b = new ExponentialBackoff(WATCH_BACKOFF);
    b.next(0, 0);
    b.next(1000, 0);
    expect(b.next(1000 + 120_000, 0)).toBe(3200);
    expect(b.next(1000 + 240_001, 0)).toBe(800);
  });
});

describe("WatchRestarts", () => {
  /** A watch whose restarts fail `failing` times, then hold; restart times in ms since the start. */
  function watch(failing: number) {
    const clock = new FakeClock(0);
    const restarts: number[] = [];
    const waits: number[] = [];
    let failures = failing;
    const r = new WatchRestarts(
      () => {
        restarts.push(clock.now());
        return failures-- > 0 ? Promise.reject(new Error("connection refused")) : Promise.resolve();
      },
      clock,
      (_err, retryInMs) => waits.push(retryInMs),
      WATCH_BACKOFF,
      () => 0,
    );
    return { clock, restarts, waits, r };
  }

  it("restarts a failed watch after a growing backoff until it holds", async () => {
    const { clock, restarts, waits, r } = watch(2);
    r.failed(new Error("watch closed"));
    await clock.elapse(60_000);
    expect(waits).toEqual([800, 1600, 3200]);
    expect(restarts).toEqual([800, 2400, 5600]);
    expect(clock.pending()).toBe(0);
  });

  it("starts from 800 ms again once the watch held for two minutes", async () => {
    const { clock, restarts, r } = watch(1);
    r.failed(new Error("watch closed"));
    await clock.elapse(200_000);
    r.failed(new Error("watch closed"));
    await clock.elapse(60_000);
    expect(restarts).toEqual([800, 2400, 200_800]);
  });

  it("restarts once however many errors one stop reports, and never after stop()", async () => {
    const { clock, restarts, r } = watch(0);
    r.failed(new Error("watch closed"));
    r.failed(new Error("list failed"));
    await clock.elapse(60_000);
    expect(restarts).toEqual([800]);
    r.failed(new Error("watch closed"));
    r.stop();
    r.failed(new Error("watch closed"));
    await clock.elapse(60_000);
    expect(restarts).toEqual([800]);
    expect(clock.pending()).toBe(0);
  });
});
