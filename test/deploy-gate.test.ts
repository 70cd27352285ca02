/**
 * deploy.yml's gate (scripts/deploy-gate.ts): only a commit of main whose CI passed, and only
 * main's tip; manual runs from main only. The decision is pure; the script itself is run once
 * with Node's type stripping, as the workflow runs it, against a local stand-in for the two
 * GitHub API endpoints it reads (GitHub cannot run here).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { type CiRun, type GateInput, deployDecision } from "../scripts/deploy-gate";

const [A, B] = ["a".repeat(40), "b".repeat(40)];
const push = (over: Partial<CiRun> = {}): CiRun => ({
  conclusion: "success",
  event: "push",
  head_branch: "main",
  head_sha: A,
  head_repository: { full_name: "org/streamforge" },
  ...over,
});
const afterCi = (run: CiRun, mainTip = A): GateInput => ({
  event: "workflow_run",
  repository: "org/streamforge",
  ref: "refs/heads/main",
  sha: B,
  ciRun: run,
  mainTip,
});

describe("after CI", () => {
  it("deploys main's tip once CI passed on its push", () => {
    expect(deployDecision(afterCi(push()))).toEqual({ deploy: true, sha: A, reason: `deploying ${A}, main's tip, which CI passed` });
  });

  it("deploys nothing, without failing, when CI failed or was cancelled", () => {
    for (const conclusion of ["failure", "cancelled", null])
      expect(deployDecision(afterCi(push({ conclusion })))).toMatchObject({ deploy: false, fail: false });
  });

  it("never deploys a pull request's CI run, even from a fork's branch called main", () => {
    expect(deployDecision(afterCi(push({ event: "pull_request" })))).toEqual({
      deploy: false,
      fail: false,
      reason: "CI ran for a pull_request of org/streamforge:main, not a push to org/streamforge's main",
    });
    expect(deployDecision(afterCi(push({ head_repository: { full_name: "fork/streamforge" } })))).toMatchObject({ deploy: false });
    expect(deployDecision(afterCi(push({ head_branch: "feature" })))).toMatchObject({ deploy: false });
  });

  it("leaves an older commit whose CI finished late to the newer commit's run: never a rollback", () => {
    expect(deployDecision(afterCi(push(), B))).toEqual({
      deploy: false,
      fail: false,
      reason: `main has moved on from ${A} to ${B}: its own CI run deploys it`,
    });
  });
});

describe("by hand", () => {
  const manual = (over: Partial<GateInput>): GateInput => ({
    event: "workflow_dispatch",
    repository: "org/streamforge",
    ref: "refs/heads/main",
    sha: A,
    ciPassedOnSha: true,
    mainTip: A,
    ...over,
  });

  it("deploys main's tip when CI passed on it", () => {
    expect(deployDecision(manual({}))).toMatchObject({ deploy: true, sha: A });
  });

  it("fails from any other branch, and before CI passed", () => {
    expect(deployDecision(manual({ ref: "refs/heads/try-this" }))).toEqual({
      deploy: false,
      fail: true,
      reason: "a manual deploy runs from main only; this run is from refs/heads/try-this",
    });
    expect(deployDecision(manual({ ciPassedOnSha: false }))).toMatchObject({ deploy: false, fail: true });
  });

  it("fails on any other event", () => {
    expect(deployDecision(manual({ event: "push" }))).toMatchObject({ deploy: false, fail: true });
  });
});

describe("the script as the workflow runs it", () => {
  let server: http.Server;
  let api: string;
  const asked: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      asked.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      const body = req.url === "/repos/org/streamforge/git/ref/heads/main" ? { object: { sha: A } } : undefined;
      res.writeHead(body ? 200 : 404, { "content-type": "application/json" }).end(JSON.stringify(body ?? {}));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("reads main's tip with the job's token and writes deploy and sha to GITHUB_OUTPUT", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-gate-"));
    fs.writeFileSync(path.join(dir, "event.json"), JSON.stringify({ workflow_run: push() }));
    const env = {
      ...process.env,
      GITHUB_API_URL: api,
      GITHUB_TOKEN: "t0ken",
      GITHUB_REPOSITORY: "org/streamforge",
      GITHUB_EVENT_NAME: "workflow_run",
      GITHUB_EVENT_PATH: path.join(dir, "event.json"),
      GITHUB_REF: "refs/heads/main",
      GITHUB_SHA: B,
      GITHUB_OUTPUT: path.join(dir, "output"),
    };
    const node = path.join(__dirname, "..", ".toolchain", "node_modules", ".bin", "node");
    const child = spawn(fs.existsSync(node) ? node : "node", ["--experimental-strip-types", "--no-warnings", "scripts/deploy-gate.ts"], {
      cwd: path.join(__dirname, ".."),
      env,
    });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect({ code, stdout }).toEqual({ code: 0, stdout: `::notice::deploying ${A}, main's tip, which CI passed\n` });
    expect(fs.readFileSync(path.join(dir, "output"), "utf8")).toBe(`deploy=true\nsha=${A}\n`);
    expect(asked).toEqual(["GET /repos/org/streamforge/git/ref/heads/main Bearer t0ken"]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
