/**
 * The GitHub Actions workflows (.github/workflows) and their local actions (.github/actions), read
 * as YAML: every action pinned by full commit SHA with its tag beside it, least privilege on every
 * job, and the deploy order (dev, then prod behind the protected `production` environment).
 * actionlint runs over the same files in the integration tier (test/integration/workflows.itest.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

const ROOT = path.join(__dirname, "..");
const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const ACTIONS = path.join(ROOT, ".github", "actions");

type Step = { name?: string; uses?: string; run?: string; with?: Record<string, unknown> };
type Job = {
  "runs-on"?: string;
  needs?: string | string[];
  environment?: string | { name: string };
  permissions?: string | Record<string, string>;
  concurrency?: string | { group: string; "cancel-in-progress"?: boolean | string };
  "timeout-minutes"?: number;
  strategy?: { matrix?: { include?: Record<string, string>[] } };
  steps?: Step[];
  uses?: string;
};
type Workflow = { on: Record<string, unknown>; permissions?: unknown; concurrency?: unknown; jobs: Record<string, Job> };

const workflowFiles = fs
  .readdirSync(WORKFLOWS)
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => path.join(WORKFLOWS, f));
const actionFiles = fs
  .readdirSync(ACTIONS)
  .map((d) => path.join(ACTIONS, d, "action.yml"))
  .filter((f) => fs.existsSync(f));

function read<T>(file: string): T {
  return parse(fs.readFileSync(file, "utf8")) as T;
}
const workflow = (name: string): Workflow => read<Workflow>(path.join(WORKFLOWS, name));
const rel = (file: string): string => path.relative(ROOT, file);
const needsOf = (job: Job): string[] => (job.needs === undefined ? [] : [job.needs].flat());
const environmentOf = (job: Job): string | undefined => (typeof job.environment === "object" ? job.environment.name : job.environment);

/** Every `uses:` of a file: jobs' reusable workflows, jobs' steps, a composite action's steps. */
function usesOf(file: string): string[] {
  const doc = read<{ jobs?: Record<string, Job>; runs?: { steps?: Step[] } }>(file);
  const steps = [
    ...Object.values(doc.jobs ?? {}).flatMap((j) => [...(j.uses ? [{ uses: j.uses }] : []), ...(j.steps ?? [])]),
    ...(doc.runs?.steps ?? []),
  ];
  return steps.flatMap((s) => (s.uses === undefined ? [] : [s.uses]));
}

/** The steps of the workflow's jobs and of the local actions they use, by the action they use (without @ref). */
function stepsUsing(jobs: Job[], action: string): Step[] {
  const seen = new Set<string>();
  const expand = (steps: Step[]): Step[] =>
    steps.flatMap((s) => {
      if (s.uses?.startsWith("./") && !seen.has(s.uses)) {
        seen.add(s.uses);
        return [s, ...expand(read<{ runs: { steps: Step[] } }>(path.join(ROOT, s.uses, "action.yml")).runs.steps)];
      }
      return [s];
    });
  return expand(jobs.flatMap((j) => j.steps ?? [])).filter((s) => s.uses?.split("@")[0] === action);
}

describe("workflow files", () => {
  it("are the three workflows and parse as YAML", () => {
    expect(workflowFiles.map((f) => path.basename(f)).sort()).toEqual(["ci.yml", "deploy.yml", "preview.yml"]);
    for (const f of [...workflowFiles, ...actionFiles]) expect(() => read(f)).not.toThrow();
  });

  it("pin every action by a full commit SHA, with the tag in a comment", () => {
    const problems: string[] = [];
    const shaOf = new Map<string, string>();
    for (const file of [...workflowFiles, ...actionFiles]) {
      for (const uses of usesOf(file)) {
        if (uses.startsWith("./")) {
          if (!fs.existsSync(path.join(ROOT, uses, "action.yml"))) problems.push(`${rel(file)}: ${uses}: no action.yml there`);
          continue;
        }
        const match = /^([\w.-]+\/[\w.-]+)(?:\/[\w./-]+)?@([0-9a-f]{40})$/.exec(uses);
        if (!match) {
          problems.push(`${rel(file)}: ${uses}: expected owner/repo@<40 hex commit SHA>`);
          continue;
        }
        const [, repo, sha] = match as unknown as [string, string, string];
        if (shaOf.has(repo) && shaOf.get(repo) !== sha)
          problems.push(`${rel(file)}: ${repo} pinned to ${sha} here, ${shaOf.get(repo)} elsewhere`);
        shaOf.set(repo, sha);
      }
      // The tag a SHA stands for, for the reader and for update tools: `uses: a/b@<sha> # v1.2.3`.
      for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        const m = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
        if (m && !m[1]!.startsWith("./") && !/^\s+# v\d+\.\d+\.\d+\s*$/.test(m[2]!))
          problems.push(`${rel(file)}: "${line.trim()}": expected the tag as "# vX.Y.Z" after the SHA`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("give every job explicit permissions, and none the default token's write-all", () => {
    const problems: string[] = [];
    for (const file of workflowFiles) {
      const wf = read<Workflow>(file);
      if (wf.permissions === undefined) problems.push(`${rel(file)}: no top-level permissions`);
      for (const [id, job] of Object.entries(wf.jobs)) {
        if (job.permissions === undefined) problems.push(`${rel(file)}: job ${id}: no permissions`);
        else if (typeof job.permissions === "string")
          problems.push(`${rel(file)}: job ${id}: permissions "${job.permissions}"; expected a map`);
        else if (job.permissions["id-token"] !== undefined) problems.push(`${rel(file)}: job ${id}: id-token, which nothing here uses`);
        if (job["timeout-minutes"] === undefined) problems.push(`${rel(file)}: job ${id}: no timeout-minutes`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe("ci.yml", () => {
  const ci = workflow("ci.yml");
  const jobs = Object.values(ci.jobs);

  it("runs the test command on pull requests and pushes to main, reading only", () => {
    expect(Object.keys(ci.on).sort()).toEqual(["pull_request", "push"]);
    expect(ci.on.push).toEqual({ branches: ["main"] });
    expect(ci.permissions).toEqual({ contents: "read" });
    expect(jobs).toHaveLength(1);
    const [job] = jobs as [Job];
    expect(job.permissions).toEqual({ contents: "read" });
    expect(job["timeout-minutes"]).toBe(90);
    expect((job.steps ?? []).map((s) => s.run?.trim())).toContain("bash .ci/run");
  });

  it("cancels the previous run of the same ref", () => {
    expect(ci.concurrency).toEqual({ group: "ci-${{ github.ref }}", "cancel-in-progress": true });
  });

  it("checks out the shared repository beside the repository (../shared/crds)", () => {
    const paths = stepsUsing(jobs, "actions/checkout").map((s) => s.with?.path);
    expect(paths).toEqual(["platform", "shared"]);
  });
});

describe("preview.yml", () => {
  const preview = workflow("preview.yml");
  const jobs = Object.values(preview.jobs);

  it("previews dev and prod on pull requests, writing only pull-request comments", () => {
    expect(Object.keys(preview.on)).toEqual(["pull_request"]);
    expect(jobs).toHaveLength(1);
    const [job] = jobs as [Job];
    expect(job.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect((job.strategy?.matrix?.include ?? []).map((e) => e.stack)).toEqual(["dev", "prod"]);
    expect(job.concurrency).toMatchObject({ group: expect.stringMatching(/matrix\.stack.*pull_request\.number/) });
  });

  it("runs pulumi preview per stack with the policy pack and a comment on the pull request", () => {
    const [step, ...more] = stepsUsing(jobs, "pulumi/actions").filter((s) => s.with?.command !== undefined);
    expect(more).toEqual([]);
    expect(step?.with).toMatchObject({
      command: "preview",
      "stack-name": "${{ matrix.stack }}",
      policyPacks: "policy",
      "comment-on-pr": true,
      "edit-pr-comment": true,
      diff: true,
    });
  });

  it("renders the diff between base and head and edits one comment per stack, found by its marker", () => {
    const steps = jobs.flatMap((j) => j.steps ?? []);
    const render = steps.find((s) => s.run?.includes("npm run --silent preview --"));
    expect(render?.run).toMatch(
      /--stack "\$STACK" --base "\$BASE_SHA" --head "\$HEAD_SHA"\s+--render-only --out "render-diff-\$\{STACK\}\.md"/,
    );
    const comment = steps.find((s) => s.run?.includes("streamforge-preview:"));
    expect(comment?.run).toContain('marker="<!-- streamforge-preview:${STACK} -->"');
    expect(comment?.run).toMatch(/gh api --method PATCH/);
    expect(stepsUsing(jobs, "actions/checkout")[0]?.with?.["fetch-depth"]).toBe(0);
  });
});

describe("deploy.yml", () => {
  const deploy = workflow("deploy.yml");
  const entries = Object.entries(deploy.jobs);
  const deployJobOf = (stack: string): [string, Job] => {
    const found = entries.filter(([, job]) => stepsUsing([job], "./.github/actions/deploy-stack").some((s) => s.with?.stack === stack));
    expect(found).toHaveLength(1);
    return found[0]!;
  };
  const [devId, dev] = deployJobOf("dev");
  const [, prod] = deployJobOf("prod");
  const [buildId, build] = entries.find(([, job]) => stepsUsing([job], "docker/build-push-action").length > 0)!;

  it("runs on pushes to main and by hand, with no permission by default", () => {
    expect(Object.keys(deploy.on).sort()).toEqual(["push", "workflow_dispatch"]);
    expect(deploy.on.push).toEqual({ branches: ["main"] });
    expect(deploy.permissions).toEqual({});
  });

  it("builds the operator image once, and only that job may write packages", () => {
    expect(stepsUsing([build], "docker/build-push-action")[0]?.with).toMatchObject({ file: "operator/Dockerfile", push: true });
    expect(build.permissions).toEqual({ contents: "read", packages: "write" });
    for (const [id, job] of entries) if (id !== buildId) expect(job.permissions).toEqual({ contents: "read" });
  });

  it("deploys prod behind the production environment, after dev, both with the image built", () => {
    expect(environmentOf(prod)).toBe("production");
    expect(needsOf(prod)).toContain(devId);
    for (const job of [dev, prod]) {
      expect(needsOf(job)).toContain(buildId);
      expect(stepsUsing([job], "./.github/actions/deploy-stack")[0]?.with?.["operator-image-ref"]).toBe(
        `\${{ needs.${buildId}.outputs.ref }}`,
      );
    }
  });

  it("runs one update per stack at a time and never cancels one", () => {
    for (const [stack, job] of [
      ["dev", dev],
      ["prod", prod],
    ] as const) {
      expect(job.concurrency).toEqual({ group: `pulumi-up-${stack}`, "cancel-in-progress": false });
    }
  });

  it("runs pulumi up with the policy pack, after setting the operator image by digest", () => {
    const deployStack = read<{ runs: { steps: Step[] } }>(path.join(ACTIONS, "deploy-stack", "action.yml")).runs.steps;
    const setImage = deployStack.findIndex((s) => s.run?.includes("--path streamforge:operator.image.ref"));
    const up = deployStack.findIndex((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command === "up");
    expect(setImage).toBeGreaterThanOrEqual(0);
    expect(up).toBeGreaterThan(setImage);
    expect(deployStack[up]?.with).toMatchObject({ "stack-name": "${{ inputs.stack }}", policyPacks: "policy" });
  });
});
