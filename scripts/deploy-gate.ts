/**
 * `node --experimental-strip-types scripts/deploy-gate.ts`: the first job of deploy.yml decides
 * which commit the workflow may deploy, if any. Only a commit of main whose CI passed, and only
 * main's tip: CI runs finish out of order, and an older commit deployed after a newer one would
 * roll the stacks back. A newer commit's own CI run deploys it. Manual runs deploy main only.
 *
 * No dependencies (it runs before `npm ci`): Node's fetch against the GitHub API with the job's
 * token. Writes `deploy` (true|false) and `sha` to GITHUB_OUTPUT; exits 1 when the run must fail
 * (a manual run from another branch, or of a commit CI has not passed), 0 when it deploys or
 * simply has nothing to do (CI failed, main moved on).
 */
import * as fs from "node:fs";

/** The parts of a `workflow_run` event's run that decide (GitHub's webhook payload names). */
export interface CiRun {
  readonly conclusion: string | null;
  /** The event that started CI: `push` for main, `pull_request` for a pull request's branch. */
  readonly event: string;
  readonly head_branch: string | null;
  readonly head_sha: string;
  readonly head_repository: { readonly full_name: string } | null;
}

export interface GateInput {
  /** GITHUB_EVENT_NAME of the deploy run. */
  readonly event: string;
  readonly repository: string;
  /** GITHUB_REF and GITHUB_SHA of a manual run. */
  readonly ref: string;
  readonly sha: string;
  /** The CI run a `workflow_run` event reports. */
  readonly ciRun?: CiRun;
  /** Whether CI passed on a push of `sha` (asked only for a manual run). */
  readonly ciPassedOnSha?: boolean;
  /** main's commit now. */
  readonly mainTip: string;
}

export type GateDecision =
  | { readonly deploy: true; readonly sha: string; readonly reason: string }
  | { readonly deploy: false; readonly fail: boolean; readonly reason: string };

const MAIN = "refs/heads/main";

/** The commit a run may deploy, or why none. Pure. */
export function deployDecision(input: GateInput): GateDecision {
  let sha: string;
  if (input.event === "workflow_run") {
    const run = input.ciRun;
    if (!run) return { deploy: false, fail: true, reason: "a workflow_run event without its run" };
    // A pull request's CI run has head_branch = its branch, which may be called main in a fork.
    if (run.event !== "push" || run.head_branch !== "main" || run.head_repository?.full_name !== input.repository)
      return {
        deploy: false,
        fail: false,
        reason: `CI ran for a ${run.event} of ${run.head_repository?.full_name ?? "?"}:${run.head_branch ?? "?"}, not a push to ${input.repository}'s main`,
      };
    if (run.conclusion !== "success")
      return { deploy: false, fail: false, reason: `CI concluded ${run.conclusion ?? "nothing"} for ${run.head_sha}: nothing to deploy` };
    sha = run.head_sha;
  } else if (input.event === "workflow_dispatch") {
    if (input.ref !== MAIN)
      return { deploy: false, fail: true, reason: `a manual deploy runs from main only; this run is from ${input.ref}` };
    if (input.ciPassedOnSha !== true)
      return { deploy: false, fail: true, reason: `CI has not passed on a push of ${input.sha}: run it first, or wait for it` };
    sha = input.sha;
  } else {
    return { deploy: false, fail: true, reason: `deploy.yml runs after CI or by hand; not on ${input.event}` };
  }
  if (sha !== input.mainTip)
    return { deploy: false, fail: false, reason: `main has moved on from ${sha} to ${input.mainTip}: its own CI run deploys it` };
  return { deploy: true, sha, reason: `deploying ${sha}, main's tip, which CI passed` };
}

async function github<T>(path: string): Promise<T> {
  const api = process.env.GITHUB_API_URL ?? "https://api.github.com";
  const res = await fetch(`${api}${path}`, {
    headers: { authorization: `Bearer ${process.env.GITHUB_TOKEN ?? ""}`, accept: "application/vnd.github+json" },
  });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

async function main(): Promise<number> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  const repository = env("GITHUB_REPOSITORY");
  const event = env("GITHUB_EVENT_NAME");
  const payload = JSON.parse(fs.readFileSync(env("GITHUB_EVENT_PATH"), "utf8")) as { workflow_run?: CiRun };
  const tip = await github<{ object: { sha: string } }>(`/repos/${repository}/git/ref/heads/main`);
  const sha = env("GITHUB_SHA");
  const ciPassedOnSha =
    event === "workflow_dispatch"
      ? (
          await github<{ total_count: number }>(
            `/repos/${repository}/actions/workflows/ci.yml/runs?head_sha=${sha}&event=push&status=success`,
          )
        ).total_count > 0
      : undefined;
  const decision = deployDecision({
    event,
    repository,
    ref: env("GITHUB_REF"),
    sha,
    ciRun: payload.workflow_run,
    ciPassedOnSha,
    mainTip: tip.object.sha,
  });
  const outputs = `deploy=${String(decision.deploy)}\nsha=${decision.deploy ? decision.sha : ""}\n`;
  fs.appendFileSync(env("GITHUB_OUTPUT"), outputs);
  const failed = !decision.deploy && decision.fail;
  console.log(`::${failed ? "error" : "notice"}::${decision.reason}`);
  return failed ? 1 : 0;
}

// Run as a file (by Node, which may load it as an ES module: no `require.main` there), not when a test imports it.
if (process.argv[1]?.endsWith("deploy-gate.ts")) {
  main().then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      console.log(`::error::deploy gate: ${(err as Error).message}`);
      process.exitCode = 1;
    },
  );
}
