/**
 * `npm run preview` between two real commits: a temporary git repository holding this working
 * tree (base) and a fixture change (head) committed on top, rendered at both, and previewed with
 * the real Pulumi engine and policy pack against the local platform's `local` stack.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { PROJECT_ROOT } from "../../infra/render/render";
import { marker } from "../../scripts/preview-comment";
import { copyWorkingTree, pulumi, requireEnv } from "./local-platform";

/** The @pulumi/policy the pack's own lock file pins: the one a preview judged by the base's pack installs. */
const LOCKED_POLICY: string = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "policy", "package-lock.json"), "utf8")).packages[
  "node_modules/@pulumi/policy"
].version;

let repo: string;
let baseSha: string;

function git(...args: string[]): string {
  return execFileSync("git", ["-C", repo, ...args], {
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.invalid",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.invalid",
    },
  }).trim();
}

/** Edits Pulumi.local.yaml of the temporary repository (comments kept) and commits it. */
function commitStackEdit(message: string, edit: (doc: ReturnType<typeof parseDocument>) => void): string {
  const file = path.join(repo, "Pulumi.local.yaml");
  const doc = parseDocument(fs.readFileSync(file, "utf8"));
  edit(doc);
  fs.writeFileSync(file, doc.toString());
  git("commit", "-q", "-am", message);
  return git("rev-parse", "HEAD");
}

function preview(...args: string[]): { status: number | null; stderr: string; comment: string } {
  const out = path.join(repo, "..", `comment-${Date.now()}.md`);
  const r = spawnSync("npm", ["run", "--silent", "preview", "--", "--repo", repo, "--stack", "local", "--out", out, ...args], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    env: process.env,
    timeout: 900_000,
  });
  const comment = fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "";
  fs.rmSync(out, { force: true });
  return { status: r.status, stderr: r.stderr, comment };
}

beforeAll(() => {
  requireEnv("PULUMI_BACKEND_URL");
  // The head is previewed against the base as deployed: deploy this program's local stack first
  // (Jest may run this file first, and a stack an older program deployed lacks its newer outputs).
  const deploy = spawnSync("bash", [path.join(PROJECT_ROOT, "local", "platform.sh"), "deploy"], {
    encoding: "utf8",
    env: process.env,
    timeout: 600_000,
  });
  if (deploy.status !== 0) throw new Error(`deploying the local stack failed:\n${`${deploy.stdout}\n${deploy.stderr}`.slice(-3000)}`);
  // The working tree as it is (tracked and new files, not ignored ones), as the base commit.
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), "streamforge-preview-it-"));
  repo = path.join(parent, "repo");
  copyWorkingTree(repo);
  git("init", "-q");
  git("add", "-A");
  git("commit", "-q", "-m", "base");
  baseSha = git("rev-parse", "HEAD");
  // The fixture: a new topic in the catalogue, more partitions for one (a disruptive change), one
  // more self-healing operator replica.
  commitStackEdit("a topic, partitions and a replica", (doc) => {
    doc.setIn(["config", "streamforge:catalogue", "topics", "market-ticks"], { partitions: 3, config: { "retention.ms": 86400000 } });
    doc.setIn(["config", "streamforge:catalogue", "topics", "market-klines", "partitions"], 6);
    doc.setIn(["config", "streamforge:operator", "replicas"], 3);
  });
});

afterAll(() => {
  if (repo) fs.rmSync(path.dirname(repo), { recursive: true, force: true });
});

test("the comment names the new topic and the changed Deployment, with the policy and preview sections", () => {
  const r = preview("--base", baseSha);
  expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr, comment: r.status === 0 ? "" : r.comment }).toEqual({
    status: 0,
    stderr: "",
    comment: "",
  });
  const c = r.comment;
  expect(c.split("\n")[0]).toBe(marker("local"));
  expect(c).toContain(`(${baseSha.slice(0, 7)}) → head \`HEAD\``);
  expect(c).toMatch(/\*\*Render:\*\* 1 added, 0 removed, [1-9]\d* changed/);
  expect(c).toContain("**Added**\n\n- `kafka.strimzi.io/v1 KafkaTopic kafka/market-ticks`");
  expect(c).toContain("- `apps/v1 Deployment stf/streamforge-self-healing-operator`");
  expect(c).toContain("- spec.replicas: 2\n+ spec.replicas: 3");
  // The real pack ran over the head's resources, and the local stack breaks no mandatory rule.
  expect(c).toMatch(/\*\*Policy:\*\* ✅ 0 mandatory, \d+ advisory \(\d+ resources checked by the head's pack\)\./);
  expect(c).toContain("### Policy violations");
  expect(c).toContain("**Pulumi preview:** succeeded");
  // It leads with what the change does to the running cluster, read live by the program: the
  // disruptive change listed, the new topic folded among those without effect on clients.
  const impact = c.indexOf("### What this does to the running Kafka cluster");
  expect(impact).toBeGreaterThan(0);
  expect(impact).toBeLessThan(c.indexOf("**Render:**"));
  expect(c).toContain("⚠️ **0 destructive, 1 disruptive**");
  expect(c).toContain(
    "- ⚠️ **disruptive**: KafkaTopic kafka/market-klines: partitions 3 -> 6: keyed records map to other partitions from now on",
  );
  expect(c).toMatch(
    /<summary>\d+ without effect on clients<\/summary>\n\n(- .*\n)*- KafkaTopic kafka\/market-ticks: created: topic market-ticks is created\n/,
  );
  const details = c.slice(c.indexOf("<details><summary><code>pulumi preview"), c.indexOf("</details>", c.indexOf("### Pulumi preview")));
  expect(details).toMatch(
    // 🔒: the new topic is protected from its first `up` (infra/kafka/data-safety.ts).
    /\+ kubernetes:kafka\.strimzi\.io\/v1:KafkaTopic: \(create\) 🔒\n\s+\[urn=urn:pulumi:local::\S+::catalogue-topic-market-ticks\]/,
  );
  expect(details).toMatch(/Policy Packs run:\n\s+Name\s+Version\n\s+streamforge\|local\|policy\s+\d/);
});

test("--render-only: the same render diff, no preview or policy section, nothing run against the platform", () => {
  const r = preview("--base", baseSha, "--render-only");
  expect(r.status).toBe(0);
  expect(r.comment.split("\n")[0]).toBe(marker("local"));
  expect(r.comment).toContain("- `kafka.strimzi.io/v1 KafkaTopic kafka/market-ticks`");
  expect(r.comment).toContain("not run here (render only)");
  expect(r.comment).not.toContain("### Policy violations");
  expect(r.comment).not.toContain("<details>");
});

test("a head that breaks a mandatory rule: exit 1, the violation in the table and the preview failed", () => {
  const head = commitStackEdit("latest image", (doc) => {
    doc.setIn(["config", "streamforge:rollouts", "queueManager", "image"], "registry.local:5000/streamforge/queue-manager:latest");
  });
  try {
    const r = preview("--base", baseSha, "--head", head);
    expect(r.status).toBe(1);
    expect(r.comment).toMatch(/\*\*Policy:\*\* ❌ 1 mandatory/);
    expect(r.comment).toContain("| mandatory | `image-pinned` | `kubernetes:argoproj.io/v1alpha1:Rollout queue-manager-rollout` |");
    expect(r.comment).toContain('found "registry.local:5000/streamforge/queue-manager:latest" with the tag "latest"');
    expect(r.comment).toContain("**Pulumi preview:** failed (exit 1)");
    expect(r.comment).toContain(
      '+ spec.template.spec.containers[queue-manager].image: "registry.local:5000/streamforge/queue-manager:latest"',
    );
  } finally {
    git("reset", "-q", "--hard", "HEAD~1");
  }
});

test("--policy-from base: a head that weakens a rule and breaks it is still judged by the base's rule", () => {
  // The head turns image-pinned advisory in its own pack, and deploys a `latest` image.
  const rules = path.join(repo, "policy", "rules", "images.ts");
  const text = fs.readFileSync(rules, "utf8");
  const weakened = text.replace('enforcementLevel: "mandatory"', 'enforcementLevel: "advisory"');
  expect(weakened).not.toBe(text);
  fs.writeFileSync(rules, weakened);
  git("add", "-A");
  const head = commitStackEdit("latest image, and a weaker rule", (doc) => {
    doc.setIn(["config", "streamforge:rollouts", "queueManager", "image"], "registry.local:5000/streamforge/queue-manager:latest");
  });
  try {
    // Judged by its own pack, the pull request passes: the weakening works on the head...
    const own = preview("--base", baseSha, "--head", head, "--policy-from", "head");
    expect(own.status).toBe(0);
    expect(own.comment).toMatch(/\*\*Policy:\*\* ✅ 0 mandatory, [1-9]\d* advisory \(\d+ resources checked by the head's pack\)/);
    expect(own.comment).toContain("| advisory | `image-pinned` |");
    // ...and not where the pull request's preview runs: the base's pack refuses it.
    const judged = preview("--base", baseSha, "--head", head, "--policy-from", "base");
    expect(judged.status).toBe(1);
    expect(judged.comment).toMatch(
      new RegExp(
        `\\*\\*Policy:\\*\\* ❌ 1 mandatory, \\d+ advisory \\(\\d+ resources checked by the base's pack, \`${baseSha}\` \\(${baseSha.slice(0, 7)}\\), with its own locked @pulumi/policy ${LOCKED_POLICY}\\)`,
      ),
    );
    expect(judged.comment).toContain("| mandatory | `image-pinned` | `kubernetes:argoproj.io/v1alpha1:Rollout queue-manager-rollout` |");
    expect(judged.comment).toContain("**Pulumi preview:** failed (exit 1)");
  } finally {
    git("reset", "-q", "--hard", "HEAD~1");
  }
});

test("--operator-image: a stack file in the build form previews the image the stack runs, building nothing; an unchanged pull request is no change", () => {
  // From the base as deployed: the stack file as dev and prod commit it (the build form), and an
  // unrelated change on top.
  const back = git("rev-parse", "--abbrev-ref", "HEAD");
  git("checkout", "-q", "-b", "build-form", baseSha);
  const buildForm = commitStackEdit("the operator image in the build form", (doc) => {
    doc.setIn(["config", "streamforge:operator", "image"], {
      registry: "registry.local:5000",
      repository: "streamforge/self-healing-operator",
      tag: "dev",
      username: "streamforge-ci",
    });
  });
  fs.appendFileSync(path.join(repo, "README.md"), "\nA line.\n");
  git("commit", "-q", "-am", "an unrelated change");
  const unchanged = git("rev-parse", "HEAD");
  try {
    const running = pulumi(["stack", "output", "operatorImage", "--stack", "local"]).stdout.trim();
    expect(running).toBe("registry.local:5000/streamforge/self-healing-operator:dev");
    const r = preview("--base", buildForm, "--head", unchanged, "--operator-image", running);
    expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(r.comment).toContain(`- **Operator image:** the one the stack runs, \`${running}\`.`);
    expect(r.comment).toMatch(/\*\*Render:\*\* 0 added, 0 removed, 0 changed/);
    // No image build (no docker-build resource at all), no change to the running operator.
    expect(r.comment).toMatch(/\*\*Pulumi preview:\*\* succeeded: \d+ unchanged\./);
    expect(r.comment).not.toContain("docker-build");
  } finally {
    git("checkout", "-q", back);
  }
});

describe("a base that moved on after the pull request was opened", () => {
  /**
   * Commits a text edit of Pulumi.local.yaml on a branch from the base, leaving the working tree
   * on the pull request's commit. Text, not the YAML library: it reflows every flow list, which
   * would touch the lines the pull request touched too.
   */
  function moveBase(branch: string, edit: (text: string) => string): string {
    const back = git("rev-parse", "--abbrev-ref", "HEAD");
    git("checkout", "-q", "-b", branch, baseSha);
    try {
      const file = path.join(repo, "Pulumi.local.yaml");
      const before = fs.readFileSync(file, "utf8");
      const after = edit(before);
      expect(after).not.toBe(before);
      fs.writeFileSync(file, after);
      git("commit", "-q", "-am", `${branch}: the base moves on`);
      return git("rev-parse", "HEAD");
    } finally {
      git("checkout", "-q", back);
    }
  }

  test("the diff is what merging changes: the pull request's edits only, the base's newer ones neither reversed nor shown", () => {
    const pullRequest = git("rev-parse", "HEAD");
    // main gains a topic of its own after the pull request branched off (lines apart from its edits).
    const movedBase = moveBase("moved", (text) =>
      text.replace("      queue-events:\n", "      market-depth:\n        partitions: 3\n      queue-events:\n"),
    );
    const r = preview("--base", movedBase, "--head", pullRequest, "--render-only");
    expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(r.comment).toContain(`merged into the base (tree `);
    expect(r.comment).toContain("- `kafka.strimzi.io/v1 KafkaTopic kafka/market-ticks`");
    expect(r.comment).toContain("- spec.replicas: 2\n+ spec.replicas: 3");
    // Compared with the head alone, the base's new topic would read as removed.
    expect(r.comment).toMatch(/\*\*Render:\*\* 1 added, 0 removed, [1-9]\d* changed/);
    expect(r.comment).not.toContain("market-depth");
  });

  test("a head that conflicts with the moved base: exit 2 naming the file, and no comment", () => {
    const pullRequest = git("rev-parse", "HEAD");
    // The pull request sets the operator's replicas to 3; the base, meanwhile, to 4.
    const conflicting = moveBase("conflicting", (text) => text.replace(/^ {4}replicas: 2$/m, "    replicas: 4"));
    const r = preview("--base", conflicting, "--head", pullRequest, "--render-only");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("the head does not merge cleanly into the base (conflicts in Pulumi.local.yaml)");
    expect(r.comment).toBe("");
  });
});

test("bad input: an unknown ref or stack is named, with exit 2 and no comment", () => {
  const badRef = preview("--base", "no-such-branch");
  expect(badRef.status).toBe(2);
  expect(badRef.stderr).toContain('unknown git ref "no-such-branch" (--base)');
  expect(badRef.comment).toBe("");
  const r = spawnSync("npm", ["run", "--silent", "preview", "--", "--repo", repo, "--stack", "nope", "--base", baseSha, "--render-only"], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
  });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('unknown stack "nope": no Pulumi.nope.yaml at HEAD; stacks there: dev, local, local-kafka-api, prod');
});
