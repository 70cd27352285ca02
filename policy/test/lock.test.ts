/**
 * The pack's own lock file (policy/package-lock.json): a pull request's preview judged by the base's
 * pack installs the pack's dependencies from it (scripts/preview.ts), so they are the base's, not
 * the pull request's. The tests, and the head's pack, resolve them from the repository's lock file:
 * both must hold the same versions, or the tests would not exercise what the previews run.
 */
import * as fs from "node:fs";
import * as path from "node:path";

const lockOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, "package-lock.json"), "utf8"));
const ROOT = path.resolve(__dirname, "..", "..");

describe("the policy pack's own lock file", () => {
  const pack = lockOf(path.join(ROOT, "policy"));
  const repo = lockOf(ROOT);

  // typescript and ts-node: @pulumi/pulumi compiles the pack with them (optional peers it requires by name).
  it.each(["@pulumi/policy", "@pulumi/pulumi", "typescript", "ts-node"])("pins %s exactly, as the repository's lock file does", (name) => {
    const declared = pack.packages[""].dependencies[name];
    expect(declared).toMatch(/^\d+\.\d+\.\d+$/);
    const locked = pack.packages[`node_modules/${name}`];
    expect([name, locked.version, locked.integrity]).toEqual([name, declared, repo.packages[`node_modules/${name}`].integrity]);
  });

  it("locks every package the pack installs with an integrity hash", () => {
    const unhashed = Object.entries(pack.packages as Record<string, { integrity?: string; link?: boolean }>)
      .filter(([key, entry]) => key !== "" && !entry.link && !entry.integrity)
      .map(([key]) => key);
    expect(unhashed).toEqual([]);
  });
});
