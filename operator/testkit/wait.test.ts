/**
 * The test kit's waits: `eventually` retries until a value, `consistently` holds a check for a while
 * and fails unless the system was seen making progress meanwhile, so an absence is never proved by
 * a system that was not running.
 */
import { GiveUp, NotWithin, consistently, eventually, pause, within } from "./wait.js";

describe("eventually", () => {
  it("returns the first value the check gives, retrying what threw", async () => {
    let polls = 0;
    const value = await eventually(
      "three polls",
      async () => {
        polls++;
        if (polls === 1) throw new Error("not up yet");
        return polls === 3 ? "ready" : undefined;
      },
      5000,
      10,
    );
    expect([value, polls]).toEqual(["ready", 3]);
  });

  it("fails after its timeout, naming what it waited for and the check's last error", async () => {
    await expect(
      eventually(
        "the pod Running",
        () => {
          throw new Error("Pending");
        },
        50,
        10,
      ),
    ).rejects.toThrow("the pod Running: not within 0.05 s (last error: Pending)");
  });

  it("tells running out of time (NotWithin, which the drill records as an outcome) from giving up", async () => {
    await expect(eventually("never", () => undefined, 20, 5)).rejects.toBeInstanceOf(NotWithin);
    const givenUp = eventually("stopped", () => {
      throw new GiveUp("the process exited");
    });
    await expect(givenUp).rejects.toThrow("stopped: the process exited");
    await expect(givenUp).rejects.not.toBeInstanceOf(NotWithin);
  });

  it("within: the value, or undefined when time ran out; giving up still throws", async () => {
    let polls = 0;
    await expect(within("two polls", () => (++polls === 2 ? "ready" : undefined), 5000, 5)).resolves.toBe("ready");
    await expect(within("never", () => undefined, 20, 5)).resolves.toBeUndefined();
    await expect(
      within(
        "stopped",
        () => {
          throw new GiveUp("the process exited");
        },
        5000,
      ),
    ).rejects.toThrow("stopped: the process exited");
  });

  it("stops at once on GiveUp", async () => {
    let polls = 0;
    await expect(
      eventually(
        "the file",
        () => {
          polls++;
          throw new GiveUp("its writer exited");
        },
        60_000,
      ),
    ).rejects.toThrow("the file: its writer exited");
    expect(polls).toBe(1);
  });
});

describe("consistently", () => {
  it("passes when the check holds and the progress probe moved", async () => {
    let ticks = 0;
    await expect(consistently("quiet", 600, () => true, { what: "the clock", read: () => ticks++ })).resolves.toBeUndefined();
  });

  it("takes an async check and an async probe", async () => {
    let ticks = 0;
    await expect(
      consistently("quiet", 300, async () => true as const, { what: "decision rounds", read: async () => ticks++ }, 50),
    ).resolves.toBeUndefined();
  });

  it("fails when the check breaks, saying what it found", async () => {
    let polls = 0;
    await expect(
      consistently("no topic", 5000, () => (++polls < 2 ? true : "created already: t1"), { what: "n", read: () => polls }),
    ).rejects.toThrow(/^no topic: broken after \d+\.\d s: created already: t1$/);
  });

  it("fails when nothing moved: a stopped system proves no absence", async () => {
    await expect(consistently("quiet", 600, () => true, { what: "pulumi up's output", read: () => "same" })).rejects.toThrow(
      "quiet: held for 0.6 s, but pulumi up's output never changed: the system was not seen running",
    );
  });
});

describe("pause", () => {
  it("says what the scenario waits for", async () => {
    await expect(pause("", 1)).rejects.toThrow("a scenario's pause says what it waits for");
    await expect(pause("the worker to go silent", 1)).resolves.toBeUndefined();
  });
});
