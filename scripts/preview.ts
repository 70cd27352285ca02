/**
 * `npm run preview -- --stack <stack> --base <ref> [--head <ref>] [--render-only] [--policy-from base|head]
 *   [--operator-image <ref>] [--out <file.md>] [--repo <dir>]`
 *
 * The preview a pull request gets, runnable here. Checks out the base and the head merged into it
 * (the tree of the pull request's merge commit; `git archive` into temporary folders, removed
 * afterwards), renders the stack offline in each (`npm run render`, each with its own program),
 * diffs what they declare, and unless --render-only runs `pulumi preview --diff --policy-pack
 * policy` on the merge result against the stack's backend (the local
 * platform's env must be loaded). Writes one Markdown comment (scripts/preview-comment.ts) to
 * --out, or to stdout.
 *
 * --render-only is what a pull request gets at once, with no credential: the summary and the render
 * diff only. --policy-from base judges the preview with the base's pack, as the pull request's
 * preview job does: a pull request cannot weaken the rules that judge it. --operator-image <ref>
 * (the stack's `operatorImage` output) points both checkouts at the image the stack runs, as the
 * deploy points it at the one it builds: the preview builds nothing and shows no false image change.
 *
 * The checkouts use the node_modules (and `.local`, where the local stack's kubeconfig lives) of
 * the repository this script is in; --repo (default: where npm was started) is the git repository
 * whose refs are compared.
 *
 * Exit codes: 0 comment written; 1 comment written but the preview failed (a mandatory policy
 * violation or an engine error); 2 bad usage, unknown ref or unknown stack (nothing written).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { type PulumiPreview, diffRenders, parseEventLog, parseRender, renderComment, stripAnsi } from "./preview-comment";

const USAGE =
  "usage: npm run preview -- --stack <stack> --base <git ref> [--head <git ref, default HEAD>] [--render-only] [--policy-from base|head] [--operator-image <ref>] [--out <file.md>] [--repo <dir>]";

/** The repository this script belongs to: its dependencies serve every checkout. */
const TOOL_ROOT = path.resolve(__dirname, "..");

export class UsageError extends Error {
  override readonly name = "UsageError";
}

interface Options {
  stack: string;
  base: string;
  head: string;
  renderOnly: boolean;
  /** Whose policy pack judges the preview: the base's (what a pull request gets: it cannot weaken it) or the head's. */
  policyFrom: "base" | "head";
  /** The operator image the stack runs (its `operatorImage` output): both checkouts use it, so the preview builds nothing. */
  operatorImage?: string;
  out?: string;
  repo: string;
}

export function parseOptions(argv: string[], cwd: string): Options {
  let values: {
    stack?: string;
    base?: string;
    head?: string;
    "render-only"?: boolean;
    "policy-from"?: string;
    "operator-image"?: string;
    out?: string;
    repo?: string;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        base: { type: "string" },
        head: { type: "string" },
        "render-only": { type: "boolean" },
        "policy-from": { type: "string" },
        "operator-image": { type: "string" },
        out: { type: "string" },
        repo: { type: "string" },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!values.stack) throw new UsageError("--stack is required");
  if (!values.base) throw new UsageError("--base is required");
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(values.stack)) throw new UsageError(`--stack "${values.stack}" is not a stack name`);
  const policyFrom = values["policy-from"] ?? "head";
  if (policyFrom !== "base" && policyFrom !== "head") throw new UsageError(`--policy-from: expected base or head; found "${policyFrom}"`);
  return {
    stack: values.stack,
    base: values.base,
    head: values.head ?? "HEAD",
    renderOnly: values["render-only"] ?? false,
    policyFrom,
    ...(values["operator-image"] ? { operatorImage: values["operator-image"] } : {}),
    out: values.out === undefined ? undefined : path.resolve(cwd, values.out),
    repo: path.resolve(cwd, values.repo ?? "."),
  };
}

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }) {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    timeout: opts.timeout,
  });
  if (r.error) throw new Error(`${cmd} ${args.join(" ")}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function git(repo: string, ...args: string[]): string {
  const r = run("git", ["-C", repo, ...args], { cwd: repo });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} failed in ${repo}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

function resolveRef(repo: string, ref: string, which: string): string {
  const r = run("git", ["-C", repo, "rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], { cwd: repo });
  if (r.status !== 0) throw new UsageError(`unknown git ref "${ref}" (--${which}) in ${repo}`);
  return r.stdout.trim();
}

/**
 * The tree a pull request's merge commit holds: head merged into base (`git merge-tree
 * --write-tree`, git >= 2.38, the merge GitHub builds `refs/pull/<n>/merge` with). The render diff
 * and the preview both describe base -> this tree, the change merging makes, so a base that moved
 * on after the pull request was opened shows neither reversed nor twice. Conflicts: a UsageError
 * naming the files (GitHub builds no merge commit either).
 */
function mergeResult(repo: string, baseSha: string, headSha: string): string {
  const r = run("git", ["-C", repo, "merge-tree", "--write-tree", "--name-only", "--no-messages", baseSha, headSha], { cwd: repo });
  const [tree, ...conflicted] = r.stdout.trim().split("\n");
  if (r.status === 1)
    throw new UsageError(
      `the head does not merge cleanly into the base (conflicts in ${conflicted.filter((f) => f !== "").join(", ")}): merge the base into the pull request first`,
    );
  if (r.status !== 0 || !tree) throw new Error(`git merge-tree ${baseSha} ${headSha} failed: ${r.stderr.trim()}`);
  return tree;
}

function hasFile(repo: string, sha: string, file: string): boolean {
  return run("git", ["-C", repo, "cat-file", "-e", `${sha}:${file}`], { cwd: repo }).status === 0;
}

function stacksAt(repo: string, sha: string): string[] {
  return git(repo, "ls-tree", "--name-only", sha)
    .split("\n")
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** The tree of `sha` in `dir`, with this repository's dependencies linked in. */
function checkout(repo: string, sha: string, dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const r = run("bash", ["-c", 'set -o pipefail; git -C "$1" archive --format=tar "$2" | tar -x -C "$3"', "_", repo, sha, dir], {
    cwd: repo,
  });
  if (r.status !== 0) throw new Error(`git archive ${sha} failed: ${r.stderr.trim()}`);
  for (const link of ["node_modules", "operator/node_modules", ".local"]) {
    const target = path.join(TOOL_ROOT, link);
    const at = path.join(dir, link);
    if (fs.existsSync(target) && fs.existsSync(path.dirname(at)) && !fs.existsSync(at)) fs.symlinkSync(target, at);
  }
}

/**
 * Installs the pack's own dependencies from its lock file, where it has one, into its directory,
 * where Node finds them before the repository's: the base's pack then runs the base's locked
 * @pulumi/policy, not whatever the pull request's lock file installed. No install scripts run.
 * Returns the @pulumi/policy version installed; undefined where the pack has no lock file.
 */
function installPackDependencies(policyDir: string): string | undefined {
  if (!fs.existsSync(path.join(policyDir, "package-lock.json"))) return undefined;
  const r = run("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: policyDir, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`npm ci of the policy pack in ${policyDir} failed: ${(r.stderr || r.stdout).trim()}`);
  const installed = JSON.parse(fs.readFileSync(path.join(policyDir, "node_modules", "@pulumi", "policy", "package.json"), "utf8")) as {
    version: string;
  };
  // Its published package.json spells the version "v1.21.0".
  return installed.version.replace(/^v/, "");
}

/** Points the checkout's stack at `ref`, as the deploy does (scripts/operator-image-ref.sh, this repository's). */
function useOperatorImage(dir: string, stack: string, ref: string): void {
  const r = run("bash", [path.join(TOOL_ROOT, "scripts", "operator-image-ref.sh"), stack, ref], { cwd: dir });
  if (r.status === 2) throw new UsageError(r.stderr.trim());
  if (r.status !== 0) throw new Error(`setting the operator image of ${stack} failed: ${(r.stderr || r.stdout).trim()}`);
}

function render(dir: string, stack: string, out: string, which: string) {
  const r = run("npm", ["run", "--silent", "render", "--", "--stack", stack, "--out", out], { cwd: dir, timeout: 600_000 });
  if (r.status !== 0)
    throw new Error(`render of stack ${stack} at ${which} failed (exit ${String(r.status)}):\n${(r.stderr || r.stdout).trim()}`);
  const read = (f: string) => (fs.existsSync(path.join(out, f)) ? fs.readFileSync(path.join(out, f), "utf8") : undefined);
  return parseRender({ manifests: read("manifests.yaml"), helmReleases: read("helm-releases.yaml"), kafkaApi: read("kafka-api.yaml") });
}

/** `pulumi preview` in `dir` (the merge result), judged by the pack in `policyDir` when it holds one. */
function pulumiPreview(dir: string, stack: string, tmp: string, policyDir: string): PulumiPreview {
  if (run("bash", ["-c", "command -v pulumi"], { cwd: dir }).status !== 0)
    throw new UsageError(
      'pulumi is not on PATH: load the local platform\'s env (eval "$(npm run --silent local -- env)") or use --render-only',
    );
  const policyPack = fs.existsSync(path.join(policyDir, "PulumiPolicy.yaml"));
  const log = path.join(tmp, "events.jsonl");
  const args = ["preview", "--stack", stack, "--diff", "--non-interactive", "--color", "never", "--event-log", log];
  // Relative to the checkout, as the pack's name in the engine's output shows it ("policy", "../base/policy").
  if (policyPack) args.push("--policy-pack", path.relative(dir, policyDir));
  // --event-log (policy events as JSON) is only offered with PULUMI_DEBUG_COMMANDS.
  const r = run("pulumi", args, { cwd: dir, env: { ...process.env, PULUMI_DEBUG_COMMANDS: "true" }, timeout: 1_800_000 });
  const output = stripAnsi(`${r.stdout}${r.stderr ? `\n${r.stderr}` : ""}`);
  if (r.status !== 0 && /no stack named '[^']*' found/.test(output))
    throw new UsageError(
      `stack "${stack}" does not exist in the Pulumi backend (${process.env.PULUMI_BACKEND_URL ?? "default"}); use --render-only`,
    );
  const events = parseEventLog(fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "");
  return { status: r.status, output, policyPack, ...events };
}

export function main(argv: string[], cwd: string): number {
  let opts: Options;
  try {
    opts = parseOptions(argv, cwd);
    if (!fs.existsSync(opts.repo)) throw new UsageError(`--repo ${opts.repo} does not exist`);
    const top = run("git", ["-C", opts.repo, "rev-parse", "--show-toplevel"], { cwd: opts.repo });
    if (top.status !== 0) throw new UsageError(`${opts.repo} is not in a git repository`);
    opts.repo = top.stdout.trim();
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`preview: ${err.message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "streamforge-preview-"));
  try {
    const baseSha = resolveRef(opts.repo, opts.base, "base");
    const headSha = resolveRef(opts.repo, opts.head, "head");
    const merged = mergeResult(opts.repo, baseSha, headSha);
    const stackFile = `Pulumi.${opts.stack}.yaml`;
    if (!hasFile(opts.repo, merged, stackFile))
      throw new UsageError(
        `unknown stack "${opts.stack}": no ${stackFile} at ${opts.head}; stacks there: ${stacksAt(opts.repo, merged).join(", ")}`,
      );
    const newStack = !hasFile(opts.repo, baseSha, stackFile);

    const headDir = path.join(tmp, "head");
    checkout(opts.repo, merged, headDir);
    if (opts.operatorImage) useOperatorImage(headDir, opts.stack, opts.operatorImage);
    const head = render(headDir, opts.stack, path.join(tmp, "render-head"), `${opts.head} merged into ${opts.base}`);
    let base: ReturnType<typeof render> = [];
    const baseDir = path.join(tmp, "base");
    if (!newStack || opts.policyFrom === "base") {
      checkout(opts.repo, baseSha, baseDir);
      if (opts.operatorImage && !newStack) useOperatorImage(baseDir, opts.stack, opts.operatorImage);
    }
    if (!newStack) base = render(baseDir, opts.stack, path.join(tmp, "render-base"), `${opts.base} (base)`);
    const policyDir = path.join(opts.policyFrom === "base" ? baseDir : headDir, "policy");
    const lockedPolicy = opts.policyFrom === "base" && !opts.renderOnly ? installPackDependencies(policyDir) : undefined;
    const preview = opts.renderOnly ? undefined : pulumiPreview(headDir, opts.stack, tmp, policyDir);
    const body = renderComment({
      stack: opts.stack,
      base: { ref: opts.base, sha: baseSha },
      head: { ref: opts.head, sha: headSha },
      mergedTree: merged,
      policyFrom: opts.policyFrom === "base" ? { ref: opts.base, sha: baseSha, ...(lockedPolicy ? { lockedPolicy } : {}) } : undefined,
      ...(opts.operatorImage
        ? {
            operatorImage: {
              ref: opts.operatorImage,
              // What merging changes of the operator's sources: the deploy then builds a new image.
              rebuilt:
                run("git", ["-C", opts.repo, "diff", "--quiet", baseSha, merged, "--", "operator/"], { cwd: opts.repo }).status !== 0,
            },
          }
        : {}),
      diff: diffRenders(base, head),
      newStack,
      preview,
    });
    if (opts.out) {
      fs.mkdirSync(path.dirname(opts.out), { recursive: true });
      fs.writeFileSync(opts.out, body);
      console.error(`preview: wrote ${opts.out}`);
    } else process.stdout.write(body);
    return preview && preview.status !== 0 ? 1 : 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`preview: ${err.message}`);
      return 2;
    }
    throw err;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  try {
    // npm runs scripts in the package folder; INIT_CWD is where it was started.
    process.exitCode = main(process.argv.slice(2), process.env.INIT_CWD ?? process.cwd());
  } catch (err) {
    console.error(`preview: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
