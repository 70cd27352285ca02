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
import { pulumi, requireEnv } from "./local-platform";

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
  // The head is previewed against the base as deployed: where no test deployed the local stack
  // yet (Jest may run this file first), deploy it, or the preview would create everything.
  const exported = pulumi(["stack", "export", "--stack", "local"]);
  const deployed =
    exported.status === 0 &&
    ((JSON.parse(exported.stdout) as { deployment?: { resources?: unknown[] } }).deployment?.resources ?? []).length > 1;
  if (!deployed) {
    const deploy = spawnSync("bash", [path.join(PROJECT_ROOT, "local", "platform.sh"), "deploy"], {
      encoding: "utf8",
      env: process.env,
      timeout: 600_000,
    });
    if (deploy.status !== 0) throw new Error(`deploying the local stack failed:\n${`${deploy.stdout}\n${deploy.stderr}`.slice(-3000)}`);
  }
  // The working tree as it is (tracked and new files, not ignored ones), as the base commit.
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), "streamforge-preview-it-"));
  repo = path.join(parent, "repo");
  const files = execFileSync("git", ["-C", PROJECT_ROOT, "ls-files", "-co", "--exclude-standard", "-z"], { encoding: "utf8" })
    .split("\0")
    .filter((f) => f !== "" && fs.existsSync(path.join(PROJECT_ROOT, f)) && fs.statSync(path.join(PROJECT_ROOT, f)).isFile());
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(repo, f)), { recursive: true });
    fs.copyFileSync(path.join(PROJECT_ROOT, f), path.join(repo, f));
  }
  git("init", "-q");
  git("add", "-A");
  git("commit", "-q", "-m", "base");
  baseSha = git("rev-parse", "HEAD");
  // The fixture: a new topic in the catalogue, one more self-healing operator replica.
  commitStackEdit("a topic and a replica", (doc) => {
    doc.setIn(["config", "streamforge:catalogue", "topics", "market-ticks"], { partitions: 3, config: { "retention.ms": 86400000 } });
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
  expect(c).toMatch(/\*\*Policy:\*\* ✅ 0 mandatory, \d+ advisory \(\d+ resources checked\)\./);
  expect(c).toContain("### Policy violations");
  expect(c).toContain("**Pulumi preview:** succeeded");
  const details = c.slice(c.indexOf("<details>"), c.indexOf("</details>"));
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
