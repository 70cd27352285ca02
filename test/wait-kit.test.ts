/**
 * The integration tier's waits (test/integration/local-platform.ts): `consistently` holds a check
 * for a while and fails unless the system was seen making progress meanwhile, so an absence is
 * never proved by a system that was not running.
 */
import { consistently } from "./integration/local-platform";

describe("consistently", () => {
  it("passes when the check holds and the progress probe moved", async () => {
    let ticks = 0;
    await expect(consistently("quiet", 600, () => true, { what: "the clock", read: () => ticks++ })).resolves.toBeUndefined();
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
