/**
 * Leader election with clocks minutes apart: replicas judge the Lease by when they saw it change on
 * their own clock, so skew neither makes two leaders nor leaves none. An in-memory Lease with
 * resourceVersion semantics stands in for the API server.
 */
import { type LeaseStore, LeaseElector } from "../src/adapters/leader.js";
import { type LeaseRecord, mayAcquire, observe } from "../src/core/lease.js";
import { FakeClock } from "./fakes.js";

function memoryLease(): LeaseStore & { current(): LeaseRecord | undefined } {
  let lease: { record: LeaseRecord; version: string } | undefined;
  let version = 0;
  const write = (record: LeaseRecord) => (lease = { record, version: String(++version) });
  return {
    current: () => lease?.record,
    read: () => Promise.resolve(lease),
    create: (r) => Promise.resolve(lease ? false : (write(r), true)),
    update: (v, r) => Promise.resolve(lease?.version === v ? (write(r), true) : false),
    release: (identity) => Promise.resolve(void (lease?.record.holder === identity && write({ ...lease.record, holder: undefined }))),
  };
}

const MIN = 60_000;

/** Replicas sharing one Lease, each clock `skew` ms off the true time `t`. */
function replicas(skews: Record<string, number>) {
  const store = memoryLease();
  const time = new FakeClock(1_800_000_000_000);
  const leading = new Set<string>();
  const electors = Object.entries(skews).map(
    ([name, skew]) =>
      new LeaseElector(
        store,
        name,
        { now: () => time.now() + skew, after: (ms, fn) => time.after(ms, fn) },
        {
          onStartedLeading: () => leading.add(name),
          onStoppedLeading: () => leading.delete(name),
          onError: (err) => {
            throw err;
          },
          onTerminal: (err) => {
            throw err;
          },
        },
      ),
  );
  return {
    store,
    leading,
    electors,
    /** Every replica in `live` takes one step, then time moves on by the retry period. */
    async round(live = electors) {
      for (const e of live) await e.step();
      time.advance(2000);
    },
  };
}

describe("the Lease, judged by each replica's own clock", () => {
  it.each([
    ["the leader's clock is 5 min behind", { a: -5 * MIN, b: 3 * MIN }],
    ["the leader's clock is 5 min ahead", { a: 5 * MIN, b: -3 * MIN }],
  ])("keeps exactly one leader when %s", async (_, skews) => {
    const r = replicas(skews);
    for (let i = 0; i < 60; i++) {
      await r.round();
      expect([...r.leading]).toEqual(["a"]);
    }
  });

  it("hands over a Lease its holder stopped renewing after a whole lease on the taker's clock, not before", async () => {
    const r = replicas({ a: 7 * MIN, b: -2 * MIN });
    for (let i = 0; i < 5; i++) await r.round();
    const b = r.electors[1]!;
    // a crashes: it neither renews nor releases.
    let rounds = 0;
    while (!r.leading.has("b")) {
      await r.round([b]);
      rounds += 1;
      expect(rounds).toBeLessThan(20);
    }
    // b saw the last change in its first round after the crash; 15 s later it may take over.
    expect(rounds * 2000).toBeGreaterThanOrEqual(15_000);
    expect(rounds * 2000).toBeLessThanOrEqual(18_000);
    expect(r.store.current()).toMatchObject({ holder: "b", transitions: 1 });
  });

  it("takes a released Lease at once", async () => {
    const r = replicas({ a: 0, b: 90_000 });
    await r.round();
    await r.electors[0]!.stop();
    r.leading.delete("a");
    await r.round([r.electors[1]!]);
    expect([...r.leading]).toEqual(["b"]);
  });
});

describe("stopping", () => {
  /** One replica "a" whose writes of one kind are held back until `land()`, as an API server slow to answer. */
  function slowWrites(kind: "create" | "update") {
    const time = new FakeClock(1_800_000_000_000);
    const store = memoryLease();
    let held: (() => void) | undefined;
    const hold = (write: () => Promise<boolean>) =>
      new Promise<boolean>((resolve) => {
        held = () => void write().then(resolve);
      });
    const slow: LeaseStore =
      kind === "update"
        ? { ...store, update: (v, r) => hold(() => store.update(v, r)) }
        : { ...store, create: (r) => hold(() => store.create(r)) };
    const seen = { started: 0, errors: [] as unknown[] };
    const a = new LeaseElector(slow, "a", time, {
      onStartedLeading: () => (seen.started += 1),
      onStoppedLeading: () => {},
      onError: (err) => seen.errors.push(err),
      onTerminal: (err) => seen.errors.push(err),
    });
    return { time, store, a, seen, underWay: () => held !== undefined, land: () => held!() };
  }

  it("lets a renewal under way land before releasing, so the release is not overwritten and the Lease is free at once", async () => {
    const { time, store, a, seen, underWay, land } = slowWrites("update");
    a.start();
    await time.elapse(0);
    expect(a.isLeader()).toBe(true);
    await time.elapse(2000);
    expect(underWay()).toBe(true);

    const stopped = a.stop();
    await time.elapse(0);
    expect(store.current()?.holder).toBe("a"); // stop waits for the renewal
    land();
    await stopped;

    expect(store.current()?.holder).toBeUndefined();
    expect(seen.errors).toEqual([]);
    expect(a.isLeader()).toBe(false);
  });

  it("releases a Lease it acquired in the round under way when stop was called", async () => {
    const { time, store, a, seen, underWay, land } = slowWrites("create");
    a.start();
    await time.elapse(0);
    expect(underWay()).toBe(true);
    const stopped = a.stop();
    land();
    await stopped;

    expect(seen.started).toBe(0); // a stopping replica never starts leading
    expect(store.current()).toMatchObject({ holder: undefined });
    expect(seen.errors).toEqual([]);
  });
});

describe("observe and mayAcquire", () => {
  const lease = (holder: string | undefined, renewTime: string): LeaseRecord => ({
    holder,
    renewTime,
    durationSeconds: 15,
    transitions: 0,
  });

  it("keeps the time a record was first seen until it changes", () => {
    const first = observe(undefined, lease("a", "2026-01-01T00:00:00Z"), 1000);
    expect(observe(first, lease("a", "2026-01-01T00:00:00Z"), 9000)).toBe(first);
    expect(observe(first, lease("a", "2026-01-01T00:00:02Z"), 9000).at).toBe(9000);
  });

  it("never compares the holder's renewTime with this clock", () => {
    // A renewTime years in the past, seen just now: not expired.
    const seen = observe(undefined, lease("a", "2001-01-01T00:00:00Z"), 50_000);
    expect(mayAcquire("b", lease("a", "2001-01-01T00:00:00Z"), seen, 50_000 + 14_999)).toBe(false);
    expect(mayAcquire("b", lease("a", "2001-01-01T00:00:00Z"), seen, 50_000 + 15_000)).toBe(true);
    expect(mayAcquire("b", lease(undefined, "2001-01-01T00:00:00Z"), seen, 50_000)).toBe(true);
    expect(mayAcquire("a", lease("a", "2001-01-01T00:00:00Z"), seen, 50_000)).toBe(true);
  });
});

describe("the renew deadline", () => {
  it("gives up leadership by the deadline while a renewal hangs, before another replica may take the Lease", async () => {
    const time = new FakeClock(1_800_000_000_000);
    const t0 = time.now();
    const store = memoryLease();
    /** What `a` reaches: the same Lease, until its requests start hanging (an API server that stopped answering it). */
    let hang = false;
    let aborted = 0;
    const hanging = <T>(signal: AbortSignal | undefined, answer: () => Promise<T>): Promise<T> =>
      hang ? new Promise<T>(() => signal?.addEventListener("abort", () => (aborted += 1))) : answer();
    const seenByA: LeaseStore = {
      read: (signal) => hanging(signal, () => store.read()),
      create: (r, signal) => hanging(signal, () => store.create(r)),
      update: (v, r, signal) => hanging(signal, () => store.update(v, r)),
      release: (identity, signal) => hanging(signal, () => store.release(identity)),
    };
    const log: string[] = [];
    const elector = (name: string, lease: LeaseStore) =>
      new LeaseElector(lease, name, time, {
        onStartedLeading: () => log.push(`${name} started at ${time.now() - t0}`),
        onStoppedLeading: () => log.push(`${name} stopped at ${time.now() - t0}`),
        onError: () => {},
        onTerminal: (err) => {
          throw err;
        },
      });
    const a = elector("a", seenByA);
    const b = elector("b", store);
    a.start();
    await time.elapse(0);
    b.start();
    await time.elapse(4000);
    expect(store.current()?.holder).toBe("a");
    // a renewed at 4 s; its renewal at 6 s never answers.
    hang = true;
    await time.elapse(30_000);

    expect(log).toEqual(["a started at 0", "a stopped at 14000", expect.stringMatching(/^b started at /)]);
    const bStarted = Number(log[2]!.split(" ").pop());
    // b saw the last renewal no earlier than 4 s, and waits a whole lease (15 s) on its clock.
    expect(bStarted).toBeGreaterThanOrEqual(19_000);
    expect(a.isLeader()).toBe(false);
    expect(b.isLeader()).toBe(true);
    expect(aborted).toBeGreaterThanOrEqual(1);
    // a's acquisition under way still hangs: stopping waits for it, then tries to release what it
    // last held (as client-go's release does after a failed renewal), each within the renew deadline.
    let aStopped = false;
    const stopping = a.stop().then(() => (aStopped = true));
    await time.elapse(10_000);
    expect(aStopped).toBe(false);
    await time.elapse(10_000);
    expect(aStopped).toBe(true);
    await stopping;
    await b.stop();
  });

  it("refuses timings where the renew deadline reaches the lease duration, as client-go does", () => {
    const make = (leaseDurationMs: number, renewDeadlineMs: number) => () =>
      new LeaseElector(
        memoryLease(),
        "a",
        new FakeClock(0),
        { onStartedLeading: () => {}, onStoppedLeading: () => {}, onError: () => {}, onTerminal: () => {} },
        { leaseDurationMs, renewDeadlineMs, retryPeriodMs: 2000 },
      );
    expect(make(10_000, 10_000)).toThrow(/leaseDurationMs must be greater than renewDeadlineMs/);
    expect(make(15_000, 10_000)).not.toThrow();
  });
});
