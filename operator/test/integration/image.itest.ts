/**
 * The image's layout without a Docker engine (none runs on these machines): the Dockerfile's
 * `deps` stage (`npm ci --omit=dev` for the workspace) and its runtime stage (that
 * node_modules, the compiled dist/, the package.json) rebuilt in a temporary directory, then
 * run with node. It proves the production dependencies are enough to start the operator and
 * its intake thread; what Docker itself adds (the base image, the user) is not covered.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OPERATOR_DIR, REPO_ROOT } from "./platform.js";

/** The COPY lines of a Dockerfile stage, as [source, destination] pairs; a check that this test follows the file. */
function copies(stage: string): string[][] {
  const text = readFileSync(join(OPERATOR_DIR, "Dockerfile"), "utf8");
  const body = text.split(/^FROM /m).find((s) => s.split("\n")[0]!.includes(stage)) ?? "";
  return [...body.matchAll(/^COPY (.+)$/gm)].map((m) => m[1]!.split(/\s+/));
}

describe("the operator image's layout", () => {
  const root = mkdtempSync(join(tmpdir(), "operator-image-"));
  const app = join(root, "app");
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  beforeAll(() => {
    // The Dockerfile still has the stages this test rebuilds.
    expect(copies("AS deps")).toEqual([
      ["package.json", "package-lock.json", "./"],
      ["operator/package.json", "operator/"],
    ]);
    expect(copies("distroless")).toEqual([
      ["--from=deps", "/src/node_modules", "./node_modules"],
      ["--from=build", "/src/operator/dist", "./dist"],
      ["operator/package.json", "./package.json"],
    ]);
    const deps = join(root, "deps");
    mkdirSync(join(deps, "operator"), { recursive: true });
    for (const file of ["package.json", "package-lock.json"]) cpSync(join(REPO_ROOT, file), join(deps, file));
    cpSync(join(OPERATOR_DIR, "package.json"), join(deps, "operator", "package.json"));
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    execFileSync(
      npm,
      ["ci", "--omit=dev", "--workspace", "operator", "--include-workspace-root=false", "--no-audit", "--no-fund", "--prefer-offline"],
      { cwd: deps, stdio: "pipe" },
    );
    mkdirSync(app);
    cpSync(join(deps, "node_modules"), join(app, "node_modules"), { recursive: true, verbatimSymlinks: true });
    cpSync(join(OPERATOR_DIR, "dist"), join(app, "dist"), { recursive: true });
    cpSync(join(OPERATOR_DIR, "package.json"), join(app, "package.json"));
  });

  it("has no dev dependency in it", () => {
    const { devDependencies = {} } = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
      devDependencies?: Record<string, string>;
    };
    for (const name of ["typescript", "jest", ...Object.keys(devDependencies)])
      expect(spawnSync(process.execPath, ["-e", `require.resolve(${JSON.stringify(name)})`], { cwd: app }).status).not.toBe(0);
  });

  it("starts, and refuses bad settings naming them (exit 2)", () => {
    const run = spawnSync(process.execPath, ["dist/main.js"], {
      cwd: app,
      env: { PATH: process.env.PATH ?? "", HEALTH_PORT: "x" },
      encoding: "utf8",
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("KAFKA_BROKERS");
    expect(run.stderr).toContain("HEALTH_PORT");
  });

  it("runs its intake thread with the production dependencies only", () => {
    const script = join(app, "intake-check.mjs");
    writeFileSync(
      script,
      `import { ThreadIntake } from "./dist/intake.js";
const intake = new ThreadIntake({ parseLimits: { maxBytes: 65536, maxFutureSkewMs: 60000 }, maxEventAgeMs: 300000, retentionMs: 3600000 }, (err) => { console.error(err); process.exit(1); });
const value = Buffer.from(JSON.stringify({ queue_id: "q1", event: "loading", timestamp: new Date().toISOString() }));
await intake.apply({ partition: 0, messages: [{ value, offset: "0" }, { value: Buffer.from("{"), offset: "1" }] }, Date.now());
const report = await intake.report(Date.now(), []);
await intake.close();
console.log(JSON.stringify({ queues: report.changed.map(([k]) => k), rejected: report.rejected.map((r) => r.reason) }));
`,
    );
    const run = spawnSync(process.execPath, [script], { cwd: app, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({ queues: ["q1"], rejected: ["malformed-json"] });
  });
});
