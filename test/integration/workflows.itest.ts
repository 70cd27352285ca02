/**
 * actionlint v1.7.12 (built by local/actionlint.sh, with Debian's shellcheck for the `run:`
 * scripts) over .github/workflows: no findings. And the check can fail: a copy of the workflows
 * with a `needs` on a job that does not exist, an expression on an unknown context, an unknown
 * input of a local action and an unquoted variable in a `run:` script is refused, each finding named.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..", "..");

/** ACTIONLINT and ACTIONLINT_SHELLCHECK from the environment, or from `local/actionlint.sh env`. */
function tools(): { actionlint: string; shellcheck: string } {
  let env: Record<string, string | undefined> = process.env;
  if (!env.ACTIONLINT || !env.ACTIONLINT_SHELLCHECK) {
    const out = execFileSync("bash", [path.join(ROOT, "local", "actionlint.sh"), "env"], { encoding: "utf8" });
    env = Object.fromEntries([...out.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  }
  const { ACTIONLINT: actionlint, ACTIONLINT_SHELLCHECK: shellcheck } = env;
  if (!actionlint || !shellcheck) throw new Error("local/actionlint.sh env named no ACTIONLINT or ACTIONLINT_SHELLCHECK");
  return { actionlint, shellcheck };
}

type Finding = { message: string; filepath: string; line: number; kind: string };

/** actionlint over the workflow files of `dir` (a project: it holds .git), findings as JSON. */
function actionlint(dir: string): { status: number | null; findings: Finding[]; stderr: string } {
  const { actionlint: bin, shellcheck } = tools();
  const files = fs
    .readdirSync(path.join(dir, ".github", "workflows"))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(".github", "workflows", f));
  const result = spawnSync(bin, ["-format", "{{json .}}", `-shellcheck=${shellcheck}`, "-pyflakes=", ...files], {
    cwd: dir,
    encoding: "utf8",
  });
  try {
    return { status: result.status, findings: JSON.parse(result.stdout || "[]") as Finding[], stderr: result.stderr };
  } catch {
    throw new Error(`actionlint printed no JSON (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
}

const shown = (findings: Finding[]): string[] => findings.map((f) => `${f.filepath}:${f.line}: ${f.message} [${f.kind}]`);

describe("actionlint over .github/workflows", () => {
  it("is v1.7.12", () => {
    const out = execFileSync(tools().actionlint, ["-version"], { encoding: "utf8" });
    expect(out.split("\n")[0]).toBe("v1.7.12");
  });

  it("finds nothing in the committed workflows", () => {
    const { status, findings, stderr } = actionlint(ROOT);
    expect(shown(findings)).toEqual([]);
    expect(stderr).toBe("");
    expect(status).toBe(0);
  });

  it("fails on a broken copy, naming each finding", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "workflows-broken-"));
    try {
      fs.cpSync(path.join(ROOT, ".github"), path.join(dir, ".github"), { recursive: true });
      fs.mkdirSync(path.join(dir, ".git")); // the project root, as in a clone: local actions are resolved from it
      const deploy = path.join(dir, ".github", "workflows", "deploy.yml");
      const text = fs.readFileSync(deploy, "utf8");
      const broken = text
        .replace("needs: [gate, operator-image, deploy-dev]", "needs: [gate, operator-image, deploy-staging]")
        .replace("${{ needs.operator-image.outputs.ref }}", "${{ needz.operator-image.outputs.ref }}")
        .replace("operator-image-ref:", "operator-image-rev:");
      expect(broken).not.toBe(text);
      fs.writeFileSync(deploy, broken);
      // An unquoted variable in a `run:` script: shellcheck's finding, through actionlint.
      const preview = path.join(dir, ".github", "workflows", "preview-stack.yml");
      const script = fs.readFileSync(preview, "utf8");
      const quoted = '--out "comment-${STACK}.md" || status=$?';
      expect(script).toContain(quoted);
      fs.writeFileSync(preview, script.replace(quoted, "--out comment-$STACK.md || status=$?"));

      const { status, findings } = actionlint(dir);
      expect(status).toBe(1);
      const messages = shown(findings).join("\n");
      expect(messages).toMatch(/job "deploy-prod" needs job "deploy-staging" which does not exist in this workflow \[job-needs\]/);
      expect(messages).toMatch(/undefined variable "needz"/);
      expect(messages).toMatch(/input "operator-image-rev" is not defined in action "Deploy a stack"/);
      expect(messages).toMatch(/preview-stack\.yml:\d+: shellcheck reported issue in this script: SC2086:/);
      // Only the broken files.
      expect(new Set(findings.map((f) => f.filepath))).toEqual(
        new Set([".github/workflows/deploy.yml", ".github/workflows/preview-stack.yml"]),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
