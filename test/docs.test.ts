/**
 * The docs name only what exists: scripts, verbs, links and paths (test/docs-check.ts), checked
 * over this repository's README.md, docs/*.md and area READMEs, and shown to fail on a fixture
 * with each kind of mistake. Also: the README stays a page with the quick start first, and CI
 * runs exactly the README's test command.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkDocs, dispatchedVerbs, docFiles, parseMarkdown, slug } from "./docs-check";

const ROOT = path.resolve(__dirname, "..");

/** Files of other repositories the docs cite, whose first folder has the name of one of ours. */
const EXTERNAL = [
  "policy/check_runAsNonRoot.go", // docs/security.md: pod-security-admission's
];

describe("this repository's docs", () => {
  const report = checkDocs(ROOT, { external: EXTERNAL });

  it("are the README, docs/ and every area's README", () => {
    for (const f of ["README.md", "docs/testing.md", "docs/runbook.md", "operator/README.md", "local/README.md", "chaos/README.md"])
      expect(report.files).toContain(f);
  });

  it("name only npm scripts, script files and verbs, links and paths that exist", () => {
    expect(report.problems.map((p) => `${p.file}:${p.line}: ${p.message}`)).toEqual([]);
    // A scan that checked nothing would pass too.
    expect(report.checked.npmScripts).toBeGreaterThan(20);
    expect(report.checked.scripts).toBeGreaterThan(10);
    expect(report.checked.links).toBeGreaterThan(0);
    expect(report.checked.paths).toBeGreaterThan(100);
  });

  it("keep the README to a page, the quick start its first section", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    expect(readme.split("\n").length).toBeLessThanOrEqual(200);
    expect(readme.match(/^## .*/m)?.[0]).toBe("## Quick start");
  });

  it("give, as the README's test command, exactly what CI runs (.ci/run)", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("\n## Test\n"));
    const command = /```bash\n(.*)\n```/.exec(section)?.[1]?.trim();
    const ci = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
    expect(command).toBe("bash scripts/test.sh");
    expect(ci).toMatch(new RegExp(`^exec ${command!.replace(/[.]/g, "\\.")}$`, "m"));
  });
});

describe("the docs check", () => {
  let root: string;
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  const platform = `#!/usr/bin/env bash
up() { :; }
case "\${1:-}" in
  up) up ;;
  down | status) : ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
`;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "docs-check-"));
    write(".gitignore", "node_modules\nout/\n");
    write("package.json", JSON.stringify({ scripts: { local: "bash local/platform.sh", demo: "ts-node demo.ts" } }));
    write("tool/package.json", JSON.stringify({ scripts: { bench: "node bench.js" } }));
    write("tool/README.md", "# tool\n\n```bash\nnpm run bench\n```\n");
    write("local/platform.sh", platform);
    write("infra/config.ts", "");
    write("docs/guide.md", "# Guide\n\n## Start here\n\nText.\n");
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const problems = () => checkDocs(root).problems.map((p) => `${p.file}:${p.line}: ${p.message}`);

  it("passes docs that name only what exists", () => {
    write(
      "README.md",
      [
        "# Fixture",
        "",
        "See [the guide](docs/guide.md#start-here), `infra/config.ts`, `local/` and `out/never-built.json`.",
        "",
        "```bash",
        'eval "$(npm run --silent local -- up)"; npm run demo   # a comment: npm run nothing',
        "bash local/platform.sh status",
        "(cd tool && npm run bench)",
        "npm run bench --workspace tool",
        "```",
        "",
      ].join("\n"),
    );
    expect(docFiles(root)).toEqual(
      ["README.md", "docs/guide.md", "local/README.md", "tool/README.md"].filter((f) => fs.existsSync(path.join(root, f))),
    );
    expect(problems()).toEqual([]);
  });

  it("reports a broken link, a missing anchor, a missing path and an empty glob", () => {
    write(
      "README.md",
      "# Fixture\n\n[gone](docs/gone.md), [moved](docs/guide.md#finish), [self](#fixture)\n\n`infra/outputs.ts`, `infra/*.yaml`\n",
    );
    expect(problems()).toEqual([
      "README.md:5: path infra/outputs.ts: does not exist",
      "README.md:5: path infra/*.yaml: nothing matches",
      "README.md:3: link docs/gone.md: docs/gone.md does not exist",
      'README.md:3: link docs/guide.md#finish: no heading "#finish" in docs/guide.md',
    ]);
  });

  it("reports an npm script no package has, in the package it runs in", () => {
    write("README.md", "# Fixture\n\n```bash\nnpm run deploy\nnpm run bench\nnpm run demo --workspace tool\n```\n");
    expect(problems()).toEqual([
      "README.md:4: npm run deploy: no such script in package.json",
      "README.md:5: npm run bench: no such script in package.json",
      "README.md:6: npm run demo: no such script in tool/package.json",
    ]);
  });

  it("reports a script file that does not exist and a verb its script does not dispatch", () => {
    write(
      "README.md",
      '# Fixture\n\n```bash\nbash scripts/run.sh\nnpm run local -- sideways\n```\n\nThen `local/platform.sh fly`, and `eval "$(local/platform.sh status)"`.\n',
    );
    expect(problems()).toEqual([
      "README.md:4: bash scripts/run.sh: no file scripts/run.sh",
      'README.md:5: npm run local -- sideways: local/platform.sh has no verb "sideways" (it dispatches up, down, status)',
      'README.md:8: local/platform.sh: local/platform.sh has no verb "fly" (it dispatches up, down, status)',
    ]);
  });
});

describe("its parts", () => {
  it("reads the verbs of a script's top-level case", () => {
    expect(dispatchedVerbs('case "${1:-}" in\n  install) i ;;\n  start-node-empty)\n    x ;;\n  a|b) ;;\n  *) u ;;\nesac\n')).toEqual(
      new Set(["install", "start-node-empty", "a", "b"]),
    );
    expect(dispatchedVerbs("echo no dispatch\n")).toBeUndefined();
    expect(dispatchedVerbs('source lib/piece.sh\ncmd_start() { :; }\ncmd_kill_node() {\n  :\n}\nhelper() { :; }\ndispatch "$@"\n')).toEqual(
      new Set(["start", "kill-node"]),
    );
  });

  it("takes code from shell fences and inline spans only, spans across lines joined", () => {
    const doc = parseMarkdown("x.md", "Run `npm run\n demo` now.\n\n```typescript\nnpm run nothing\n```\n\n```bash\nnpm run a # b\n```\n");
    expect(doc.code).toEqual([
      { text: "npm run demo", line: 1, inline: true },
      { text: "npm run a", line: 9, inline: false },
    ]);
  });

  it("makes GitHub's anchors", () => {
    expect(slug("Procedure: deploy a stack")).toBe("procedure-deploy-a-stack");
    expect(slug("`local/`: the local platform")).toBe("local-the-local-platform");
  });
});
