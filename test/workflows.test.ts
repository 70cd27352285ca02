/**
 * The GitHub Actions workflows (.github/workflows) and their local actions (.github/actions), read
 * as YAML: every action pinned by full commit SHA with its tag beside it, least privilege on every
 * job, and the deploy order (dev, then prod behind the protected `production` environment).
 * actionlint runs over the same files in the integration tier (test/integration/workflows.itest.ts).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { parse } from "yaml";

const ROOT = path.join(__dirname, "..");
const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const ACTIONS = path.join(ROOT, ".github", "actions");

type Step = {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
  "continue-on-error"?: boolean;
};
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
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
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
  it("are the four workflows and parse as YAML", () => {
    expect(workflowFiles.map((f) => path.basename(f)).sort()).toEqual(["ci.yml", "deploy.yml", "preview-stack.yml", "preview.yml"]);
    for (const f of [...workflowFiles, ...actionFiles]) expect(() => read(f)).not.toThrow();
  });

  it("pin every action by a full commit SHA, with the tag in a comment", () => {
    const problems: string[] = [];
    const shaOf = new Map<string, string>();
    for (const file of [...workflowFiles, ...actionFiles]) {
      for (const uses of usesOf(file)) {
        if (uses.startsWith("./")) {
          // A local action's folder, or a reusable workflow of this repository.
          const there = uses.endsWith(".yml") ? path.join(ROOT, uses) : path.join(ROOT, uses, "action.yml");
          if (!fs.existsSync(there)) problems.push(`${rel(file)}: ${uses}: no ${uses.endsWith(".yml") ? "workflow" : "action.yml"} there`);
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
        else if (job.permissions["id-token"] !== undefined && stepsUsing([job], "actions/attest").length === 0)
          problems.push(`${rel(file)}: job ${id}: id-token, which only the image's attestation uses`);
        // A job that calls a reusable workflow takes no timeout (its jobs have their own).
        if (job["timeout-minutes"] === undefined && job.uses === undefined) problems.push(`${rel(file)}: job ${id}: no timeout-minutes`);
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

  it("cancels a pull request's previous run, never a run of main (each push to main gets its verdict)", () => {
    expect(ci.concurrency).toEqual({
      group: "ci-${{ github.event_name == 'pull_request' && github.ref || github.sha }}",
      "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
    });
  });

  it("checks out the shared repository beside the repository (../shared/crds)", () => {
    const paths = stepsUsing(jobs, "actions/checkout").map((s) => s.with?.path);
    expect(paths).toEqual(["platform", "shared"]);
  });
});

describe("preview.yml and preview-stack.yml", () => {
  const preview = workflow("preview.yml");
  const perStack = workflow("preview-stack.yml");
  const job = (id: string): Job => perStack.jobs[id]!;
  const runs = (j: Job) => (j.steps ?? []).flatMap((s) => (s.run === undefined ? [] : [s.run]));

  it("previews dev and prod on pull requests from this repository, each stack in a run of preview-stack.yml of its own", () => {
    expect(Object.keys(preview.on)).toEqual(["pull_request"]);
    expect(preview.permissions).toEqual({});
    const [caller, ...more] = Object.values(preview.jobs) as [Job & { strategy: { matrix: { stack: string[] } } }];
    expect(more).toEqual([]);
    expect(caller.uses).toBe("./.github/workflows/preview-stack.yml");
    expect(caller.with).toEqual({ stack: "${{ matrix.stack }}" });
    expect(caller.strategy.matrix.stack).toEqual(["dev", "prod"]);
    expect(caller.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    expect(Object.keys(perStack.on)).toEqual(["workflow_call"]);
    expect(Object.keys(perStack.jobs)).toEqual(["render", "render-comment", "preview", "preview-comment"]);
  });

  it("renders the merge with no credential and a read-only token; only the comment jobs write, and they run none of the pull request's code", () => {
    expect(job("render").permissions).toEqual({ contents: "read" });
    expect(job("render").environment).toBeUndefined();
    expect(runs(job("render")).join("\n")).toMatch(/--stack "\$STACK" --base "\$BASE_SHA" --head "\$HEAD_SHA"\s+--render-only/);
    for (const id of ["render-comment", "preview-comment"]) {
      expect([id, job(id).permissions]).toEqual([id, { contents: "read", "pull-requests": "write" }]);
      // The base's comment action, never the pull request's tree, and no `run:` of their own.
      expect(stepsUsing([job(id)], "actions/checkout").map((s) => s.with?.ref)).toEqual(["${{ github.event.pull_request.base.sha }}"]);
      expect((job(id).steps ?? []).filter((s) => s.run !== undefined)).toEqual([]);
      expect(stepsUsing([job(id)], "./.github/actions/pr-comment")).toHaveLength(1);
    }
  });

  it("previews in the stack's preview environment, as its preview identity, judged by the base's policy pack", () => {
    const p = job("preview");
    expect(p.environment).toBe("preview-${{ inputs.stack }}");
    expect(p.permissions).toEqual({ contents: "read" });
    expect(needsOf(p)).toEqual(["render", "render-comment"]);
    expect(p.if).toBe("needs.render.result == 'success' && needs.render-comment.result == 'success'");
    expect(stepsUsing([p], "./.github/actions/pulumi-setup")[0]?.with).toEqual({ kubeconfig: "${{ secrets.PREVIEW_KUBECONFIG }}" });
    expect(runs(p).join("\n")).toMatch(/--policy-from base --out "comment-\$\{STACK\}\.md"/);
    // No action that would run the head's pack or post with this job's token.
    expect(stepsUsing([p], "pulumi/actions").filter((s) => s.with?.command !== undefined)).toEqual([]);
  });

  it("comments the preview whether it passed or failed, so a failure never leaves the render's comment standing", () => {
    expect(job("preview-comment").if).toBe("always() && (needs.preview.result == 'success' || needs.preview.result == 'failure')");
    // A failed render is commented too (the action posts the failure: no artifact to fetch).
    expect(job("render-comment").if).toBe("always() && (needs.render.result == 'success' || needs.render.result == 'failure')");
    expect(stepsUsing([job("render-comment")], "actions/download-artifact")[0]?.if).toBe("needs.render.result == 'success'");
    expect(stepsUsing([job("preview-comment")], "actions/download-artifact")[0]?.["continue-on-error"]).toBe(true);
    // Both comment jobs write in turn, never cancelled, each naming the head it commented on.
    for (const id of ["render-comment", "preview-comment"]) {
      expect([id, job(id).concurrency]).toEqual([
        id,
        { group: "preview-comment-${{ inputs.stack }}-pr-${{ github.event.pull_request.number }}", "cancel-in-progress": false },
      ]);
      expect(stepsUsing([job(id)], "./.github/actions/pr-comment")[0]?.with?.["head-sha"]).toBe(
        "${{ github.event.pull_request.head.sha }}",
      );
    }
    const upload = stepsUsing([job("preview")], "actions/upload-artifact")[0];
    expect(upload?.if).toBe("always()");
    const fail = (job("preview").steps ?? []).at(-1);
    expect(fail?.if).toBe("steps.preview.outputs.status != '0'");
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

  const [gateId, gate] = entries.find(([, job]) => (job.steps ?? []).some((s) => s.run?.includes("scripts/deploy-gate.ts")))!;

  it("runs after CI completes on main and by hand, one deploy at a time, with no permission by default", () => {
    expect(Object.keys(deploy.on).sort()).toEqual(["workflow_dispatch", "workflow_run"]);
    expect(deploy.on.workflow_run).toEqual({ workflows: ["ci"], types: ["completed"], branches: ["main"] });
    expect(deploy.concurrency).toEqual({ group: "deploy", "cancel-in-progress": false });
    expect(deploy.permissions).toEqual({});
  });

  it("deploys only the commit the gate chose (CI passed, main's tip), checked out by its SHA everywhere", () => {
    expect(gate.permissions).toEqual({ actions: "read", contents: "read" });
    expect(needsOf(build)).toEqual([gateId]);
    expect((build as Job & { if?: string }).if).toBe(`needs.${gateId}.outputs.deploy == 'true'`);
    for (const [id, job] of entries) {
      if (id === gateId) continue;
      expect([id, needsOf(job)]).toEqual([id, expect.arrayContaining([gateId])]);
      for (const checkout of stepsUsing([job], "actions/checkout")) expect(checkout.with?.ref).toBe(`\${{ needs.${gateId}.outputs.sha }}`);
    }
    const labels = String(stepsUsing([build], "docker/build-push-action")[0]?.with?.labels);
    expect(labels).toContain(`org.opencontainers.image.revision=\${{ needs.${gateId}.outputs.sha }}`);
    expect(fs.readFileSync(path.join(WORKFLOWS, "deploy.yml"), "utf8")).not.toContain("github.sha");
  });

  it("builds the operator image once, with provenance and an SBOM, and only that job may write packages or sign", () => {
    expect(stepsUsing([build], "docker/build-push-action")[0]?.with).toMatchObject({
      file: "operator/Dockerfile",
      push: true,
      provenance: "mode=max",
      sbom: true,
    });
    expect(build.permissions).toEqual({
      contents: "read",
      packages: "write",
      "id-token": "write",
      attestations: "write",
      "artifact-metadata": "write",
    });
    const steps = build.steps ?? [];
    const attest = steps.findIndex((s) => s.uses?.startsWith("actions/attest@"));
    expect(attest).toBeGreaterThan(steps.findIndex((s) => s.uses?.startsWith("docker/build-push-action@")));
    expect(steps[attest]?.with).toEqual({
      "subject-name": "${{ steps.name.outputs.repository }}",
      "subject-digest": "${{ steps.build.outputs.digest }}",
      "push-to-registry": true,
    });
    for (const job of [dev, prod]) expect(job.permissions).toEqual({ contents: "read", attestations: "read", packages: "read" });
  });

  it("verifies the image's signed provenance, as this repository's deploy workflow built it, before pointing the stack at it", () => {
    const deployStack = read<{ runs: { steps: Step[] } }>(path.join(ACTIONS, "deploy-stack", "action.yml")).runs.steps;
    const verify = deployStack.findIndex((s) => s.run?.includes("gh attestation verify"));
    const up = deployStack.findIndex((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command === "up");
    expect(verify).toBeGreaterThanOrEqual(0);
    expect(up).toBeGreaterThan(verify);
    expect(deployStack[verify]?.run).toContain('--repo "$GITHUB_REPOSITORY"');
    // The exact workflow on main (a branch's edited deploy.yml signs as another ref), hosted runners only.
    expect(deployStack[verify]?.run).toContain(
      '--cert-identity "${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/.github/workflows/deploy.yml@refs/heads/main"',
    );
    expect(deployStack[verify]?.run).toContain("--deny-self-hosted-runners");
    const tip = deployStack.findIndex((s) => s.run?.includes("commits/main"));
    expect(tip).toBeGreaterThan(verify);
    expect(up).toBeGreaterThan(tip);
    for (const job of [dev, prod])
      expect(stepsUsing([job], "./.github/actions/deploy-stack")[0]?.with?.sha).toBe(`\${{ needs.${gateId}.outputs.sha }}`);
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
    const setImage = deployStack.findIndex((s) => s.run?.includes('scripts/operator-image-ref.sh "$STACK" "$IMAGE_REF"'));
    const up = deployStack.findIndex((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command === "up");
    const tag = deployStack.findIndex((s) => s.run?.includes("scripts/tag-stack-environment.sh"));
    expect(setImage).toBeGreaterThanOrEqual(0);
    expect(up).toBeGreaterThan(setImage);
    // The pack reads the environment from the stack's tag, which only a deploy may write.
    expect(tag).toBeGreaterThanOrEqual(0);
    expect(up).toBeGreaterThan(tag);
    expect(deployStack[up]?.with).toMatchObject({ "stack-name": "${{ inputs.stack }}", policyPacks: "policy" });
  });
});

describe("credentials", () => {
  /** The docs' table (docs/delivery.md, "Credentials"), without its last column. */
  function documented(): string[][] {
    const doc = fs.readFileSync(path.join(ROOT, "docs", "delivery.md"), "utf8");
    const table = doc.slice(doc.indexOf("<!-- credentials-table:start -->"), doc.indexOf("<!-- credentials-table:end -->"));
    return table
      .split("\n")
      .filter((l) => l.startsWith("| `"))
      .map((l) => {
        const [workflow, job, environment, token, secrets] = l
          .split("|")
          .slice(1, 6)
          .map((c) => c.trim().replace(/`/g, ""));
        return [workflow!, job!, environment!, token!, (secrets ?? "").split(", ").filter(Boolean).sort().join(", ")];
      });
  }

  /** The same, from the workflows: each job's environment, token permissions and every secret it names. */
  function derived(): string[][] {
    return workflowFiles.flatMap((file) =>
      Object.entries(read<Workflow>(file).jobs).map(([id, job]) => {
        const permissions = typeof job.permissions === "object" ? job.permissions : {};
        const token = Object.keys(permissions)
          .sort()
          .map((k) => `${k}: ${permissions[k]}`)
          .join(", ");
        const secrets = [...new Set([...JSON.stringify(job).matchAll(/secrets\.([A-Z0-9_]+)/g)].map((m) => m[1]!))].sort().join(", ");
        return [path.basename(file), id, environmentOf(job) ?? "", token, secrets];
      }),
    );
  }

  it("the docs list exactly the environment, token and secrets of every job", () => {
    const sort = (rows: string[][]) => rows.map((r) => r.join(" | ")).sort();
    expect(sort(documented())).toEqual(sort(derived()));
  });

  it("no job that runs the pull request's code without approval holds a secret or a write token", () => {
    const perStack = workflow("preview-stack.yml").jobs;
    const render = derived().find(([file, id]) => file === "preview-stack.yml" && id === "render")!;
    expect(render).toEqual(["preview-stack.yml", "render", "", "contents: read", ""]);
    // The preview's secrets are its environment's: prod's is protected by required reviewers.
    expect(perStack.preview?.environment).toBe("preview-${{ inputs.stack }}");
  });

  it("CODEOWNERS owns the policy pack, the workflows, the stack files and the moves table", () => {
    const rules = fs
      .readFileSync(path.join(ROOT, ".github", "CODEOWNERS"), "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("#"))
      .map((l) => l.trim().split(/\s+/) as [string, ...string[]]);
    // CODEOWNERS patterns as used here: anchored at the root, a trailing / for a folder, * within a name.
    const owners = (file: string) => {
      const hit = rules.filter(([pattern]) => {
        const re = new RegExp(
          `^${pattern
            .replace(/^\//, "")
            .replace(/[.+?^${}()|[\]\\]/g, "\\$&")
            .replace(/\*/g, "[^/]*")}${pattern.endsWith("/") ? "" : "$"}`,
        );
        return re.test(file);
      });
      return hit.at(-1)?.slice(1) ?? [];
    };
    for (const file of [
      "policy/index.ts",
      "policy/rules/images.ts",
      ".github/workflows/preview-stack.yml",
      "Pulumi.prod.yaml",
      "Pulumi.yaml",
      "infra/moves.ts",
    ])
      expect([file, owners(file).length > 0]).toEqual([file, true]);
    expect(owners("infra/platform.ts")).toEqual([]);
  });
});

describe("dependabot.yml", () => {
  type Update = { "package-ecosystem": string; directory?: string; directories?: string[] };
  const updates = read<{ version: number; updates: Update[] }>(path.join(ROOT, ".github", "dependabot.yml")).updates;
  const dirsOf = (ecosystem: string) =>
    updates.filter((u) => u["package-ecosystem"] === ecosystem).flatMap((u) => u.directories ?? [u.directory!]);
  const tracked = spawnSync("git", ["-C", ROOT, "ls-files"], { encoding: "utf8" }).stdout.split("\n");
  const foldersHolding = (name: string) =>
    tracked.filter((f) => path.basename(f) === name).map((f) => `/${path.dirname(f)}`.replace(/\/\.$/, "/"));

  it("keeps every manifest of the repository current: npm, Go modules, the Dockerfile, the actions", () => {
    expect(dirsOf("npm").sort()).toEqual(foldersHolding("package.json").sort());
    expect(dirsOf("gomod").sort()).toEqual(foldersHolding("go.mod").sort());
    expect(dirsOf("docker")).toEqual(foldersHolding("Dockerfile"));
    expect(dirsOf("github-actions")).toEqual(["/", "/.github/actions/*"]);
  });

  it("moves a package the root and the policy pack must share in one pull request across directories", () => {
    // policy/test/lock.test.ts holds both lock files to the same versions of these; a group is one pull request across directories.
    const npm = updates.find((u) => u["package-ecosystem"] === "npm") as Update & { groups?: Record<string, Record<string, unknown>> };
    expect(npm.directories).toEqual(expect.arrayContaining(["/", "/policy"]));
    const shared = ["@pulumi/policy", "@pulumi/pulumi", "typescript", "ts-node"];
    const patterns = (npm.groups?.["pulumi-toolchain"]?.patterns ?? []) as string[];
    const matches = (name: string) => patterns.some((p) => (p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : name === p));
    expect(shared.filter((name) => !matches(name))).toEqual([]);
    // group-by: dependency-name would split the group into a pull request per package.
    expect(npm.groups?.["pulumi-toolchain"]?.["group-by"]).toBeUndefined();
  });

  it("sees every base image of the Dockerfile: each on a FROM line pinned by digest, none only in an ARG's default", () => {
    // Dependabot reads images from FROM lines only, never from ARG defaults (dependabot-core#2057).
    const lines = fs.readFileSync(path.join(ROOT, "operator", "Dockerfile"), "utf8").split("\n");
    const args = new Map(
      lines.flatMap((l) => {
        const m = /^ARG (\w+)=(\S+)$/.exec(l);
        return m ? [[m[1]!, m[2]!] as const] : [];
      }),
    );
    const froms = lines.flatMap((l) => {
      const m = /^FROM (\S+)(?: AS (\S+))?$/.exec(l);
      return m ? [{ image: m[1]!, stage: m[2] }] : [];
    });
    const stages = froms.flatMap((f) => (f.stage ? [f.stage] : []));
    const resolved = froms.map((f) => f.image.replace(/^\$\{(\w+)\}$/, (_, name: string) => args.get(name) ?? `unset ${name}`));
    const images = resolved.filter((r) => !stages.includes(r));
    expect(images).toEqual([
      expect.stringMatching(/^node:[\w.-]+@sha256:[0-9a-f]{64}$/),
      expect.stringMatching(/^gcr\.io\/distroless\/nodejs22-debian12:nonroot@sha256:[0-9a-f]{64}$/),
    ]);
    // Every ARG default a FROM uses is a stage's name, so no image hides in one.
    expect([...args.values()].filter((v) => !stages.includes(v))).toEqual([]);
  });
});

/**
 * The comment and deploy actions' own scripts, run by bash as the runner would, with jq and a
 * stand-in `gh` (GitHub's API is out of reach here): it answers from the test's values and records
 * every call, so the tests see what each script sends and when it refuses.
 */
describe("the actions' scripts, against a stand-in gh", () => {
  const stepRun = (action: string, name: string): string => {
    const steps = read<{ runs: { steps: Step[] } }>(path.join(ACTIONS, action, "action.yml")).runs.steps;
    const step = steps.find((s) => s.name === name);
    if (!step?.run) throw new Error(`${action}: no step named "${name}" with a run`);
    return step.run;
  };
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "actions-"));
    const fake = `#!/usr/bin/env bash
echo "gh $*" >>"${dir}/calls"
case "$*" in
  "api repos/o/r/pulls/7 --jq .head.sha") echo "$FAKE_HEAD" ;;
  "api --paginate repos/o/r/issues/7/comments") echo "$FAKE_COMMENTS" ;;
  "api repos/o/r/commits/main --jq .sha") echo "$FAKE_TIP" ;;
  "attestation verify "*) echo "$FAKE_VERIFIED" ;;
  "api --method "*) cat >>"${dir}/sent" ;;
  *) echo "unexpected gh $*" >&2; exit 9 ;;
esac
`;
    fs.writeFileSync(path.join(dir, "gh"), fake, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "docker"), "#!/usr/bin/env bash\ncat >/dev/null\n", { mode: 0o755 });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (script: string, env: Record<string, string>) => {
    const r = spawnSync("bash", ["-e", "-c", script], {
      encoding: "utf8",
      cwd: dir,
      // Not a socket on stdin: Debian's bash would take it for a remote shell and read ~/.bashrc.
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: `${dir}:${process.env.PATH}`,
        GITHUB_REPOSITORY: "o/r",
        GITHUB_SERVER_URL: "https://github.com",
        GITHUB_RUN_ID: "42",
        GITHUB_ACTOR: "bot",
        GITHUB_STEP_SUMMARY: path.join(dir, "summary"),
        PR_NUMBER: "7",
        STACK: "prod",
        ...env,
      },
    });
    const file = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8") : "");
    return { status: r.status, out: r.stdout + r.stderr, calls: file("calls").trim().split("\n"), sent: file("sent") };
  };

  describe("pr-comment", () => {
    const script = () => stepRun("pr-comment", "Post or edit the comment");
    const marker = "<!-- streamforge-preview:prod -->";

    it("edits the stack's comment with the body, for the pull request's current head", () => {
      fs.writeFileSync(path.join(dir, "body.md"), `${marker}\n## green\n`);
      const comments = JSON.stringify([{ id: 5, user: { login: "github-actions[bot]" }, body: `${marker}\nold` }]);
      const r = run(script(), { BODY: "body.md", HEAD_SHA: "abc", FAKE_HEAD: "abc", FAKE_COMMENTS: comments });
      expect([r.status, r.out]).toEqual([0, expect.stringContaining("edited comment 5")]);
      expect(r.calls.at(-1)).toBe("gh api --method PATCH repos/o/r/issues/comments/5 --input -");
      expect(JSON.parse(r.sent)).toEqual({ body: `${marker}\n## green\n` });
    });

    it("leaves the comment to a newer head's run: nothing is sent", () => {
      fs.writeFileSync(path.join(dir, "body.md"), `${marker}\n## green\n`);
      const r = run(script(), { BODY: "body.md", HEAD_SHA: "old", FAKE_HEAD: "new", FAKE_COMMENTS: "[]" });
      expect([r.status, r.out.trim()]).toEqual([0, "the pull request's head is new now, not old: its own run comments"]);
      expect(r.calls).toEqual(["gh api repos/o/r/pulls/7 --jq .head.sha"]);
      expect(r.sent).toBe("");
    });

    it("posts the failure when its job made no comment, in place of an earlier green one", () => {
      const comments = JSON.stringify([{ id: 5, user: { login: "github-actions[bot]" }, body: `${marker}\n✅ green` }]);
      const r = run(script(), { BODY: "missing.md", HEAD_SHA: "abc", FAKE_HEAD: "abc", FAKE_COMMENTS: comments });
      expect(r.status).toBe(0);
      expect(r.calls.at(-1)).toBe("gh api --method PATCH repos/o/r/issues/comments/5 --input -");
      expect((JSON.parse(r.sent) as { body: string }).body).toBe(
        `${marker}\n## Preview of stack \`prod\`\n\n❌ The run for abc failed before it wrote its comment: see https://github.com/o/r/actions/runs/42\n`,
      );
    });

    it("refuses a body that is not the stack's comment", () => {
      fs.writeFileSync(path.join(dir, "body.md"), "<!-- streamforge-preview:dev -->\n");
      const r = run(script(), { BODY: "body.md", HEAD_SHA: "abc", FAKE_HEAD: "abc", FAKE_COMMENTS: "[]" });
      expect([r.status, r.out]).toEqual([1, expect.stringContaining(`::error::body.md does not start with the line ${marker}`)]);
      expect(r.sent).toBe("");
    });
  });

  describe("deploy-stack", () => {
    const SHA = "a".repeat(40);
    const verified = (digest: string) =>
      JSON.stringify([{ verificationResult: { signature: { certificate: { sourceRepositoryDigest: digest } } } }]);

    it("deploys only main's tip: a commit main has moved past stops before pulumi up", () => {
      const script = stepRun("deploy-stack", "Check the commit is still main's tip");
      expect(run(script, { SHA, FAKE_TIP: SHA }).status).toBe(0);
      const stale = run(script, { SHA, FAKE_TIP: "b".repeat(40) });
      expect([stale.status, stale.out]).toEqual([
        1,
        expect.stringContaining(`::error::${SHA} is no longer main's tip (${"b".repeat(40)})`),
      ]);
    });

    it("accepts only provenance of this commit from main's deploy workflow", () => {
      const script = stepRun("deploy-stack", "Verify the image's build provenance");
      const image = `ghcr.io/o/op@sha256:${"c".repeat(64)}`;
      const ok = run(script, { SHA, IMAGE_REF: image, GH_TOKEN: "t", FAKE_VERIFIED: verified(SHA) });
      expect(ok.status).toBe(0);
      expect(ok.calls).toEqual([
        `gh attestation verify oci://${image} --repo o/r --cert-identity https://github.com/o/r/.github/workflows/deploy.yml@refs/heads/main --deny-self-hosted-runners --format json`,
      ]);
      const other = run(script, { SHA, IMAGE_REF: image, GH_TOKEN: "t", FAKE_VERIFIED: verified("d".repeat(40)) });
      expect([other.status, other.out]).toEqual([
        1,
        expect.stringContaining(`::error::${image} has no provenance from main's deploy workflow at ${SHA}`),
      ]);
    });
  });
});
