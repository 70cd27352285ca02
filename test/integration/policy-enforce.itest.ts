/**
 * The policy pack enforced by the real CLI: `pulumi preview --policy-pack policy` starts the pack
 * through the local language host's RunPlugin (local/pulumi-language-nodejs/runplugin.go), the
 * engine sends it every resource of the local stack, and a mandatory violation fails the preview.
 * Fixtures change only temporary files (`--config-file`, `--policy-pack-config`), never the
 * committed stack files.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../infra/render/render";
import { RULES } from "../../policy/rules";
import { configFile, localStackFile, pulumi, requireEnv } from "./local-platform";

interface PolicyEvent {
  resourceUrn?: string;
  message: string;
  policyName: string;
  policyPackName: string;
  policyPackVersion: string;
  enforcementLevel: string;
}

interface Preview {
  status: number | null;
  output: string;
  violations: PolicyEvent[];
  /** Rule names the engine reports as evaluated (passed or failed) on at least one resource. */
  evaluated: Set<string>;
}

const PACK_VERSION = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "policy", "package.json"), "utf8")) as { version: string })
  .version;

/** `pulumi preview --stack local --policy-pack policy [extra]`, with the engine's event log read back. */
function preview(extra: string[]): Preview {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "streamforge-policy-"));
  const log = path.join(dir, "events.jsonl");
  // --event-log exists only with PULUMI_DEBUG_COMMANDS: it is the one place policy events come as JSON.
  const result = spawnSync(
    "pulumi",
    ["preview", "--stack", "local", "--policy-pack", "policy", "--non-interactive", "--event-log", log, ...extra],
    { cwd: PROJECT_ROOT, encoding: "utf8", env: { ...process.env, PULUMI_DEBUG_COMMANDS: "true" }, timeout: 600_000 },
  );
  const events = fs.existsSync(log)
    ? fs
        .readFileSync(log, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as Record<string, any>)
    : [];
  fs.rmSync(dir, { recursive: true, force: true });
  const evaluated = new Set<string>();
  for (const e of events) {
    const s = e.policyAnalyzeSummaryEvent as { policyPackName: string; passed?: string[]; failed?: string[] } | undefined;
    if (s?.policyPackName === "streamforge") [...(s.passed ?? []), ...(s.failed ?? [])].forEach((n) => evaluated.add(n));
  }
  return {
    status: result.status,
    output: `${result.stdout}\n${result.stderr}`,
    violations: events.map((e) => e.policyEvent as PolicyEvent | undefined).filter((p): p is PolicyEvent => p !== undefined),
    evaluated,
  };
}

beforeAll(() => {
  requireEnv("PULUMI_BACKEND_URL");
  // The preview compares against the local stack's state: make sure the stack exists (deploying is other tests' job).
  const stacks = pulumi(["stack", "ls", "--json"]);
  if (stacks.status !== 0) throw new Error(`pulumi stack ls failed:\n${stacks.output}`);
  if (!(JSON.parse(stacks.stdout) as { name: string }[]).some((s) => s.name === "local")) {
    const init = pulumi(["stack", "init", "local"]);
    if (init.status !== 0) throw new Error(`pulumi stack init local failed:\n${init.output}`);
  }
  // The environment tag the pack reads, as local/platform.sh deploy sets it (a platform started
  // before the tag existed has none, and the pack would treat the stack as production).
  const tag = spawnSync("bash", [path.join(PROJECT_ROOT, "scripts", "tag-stack-environment.sh"), "local"], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    env: process.env,
  });
  if (tag.status !== 0) throw new Error(`tagging the local stack failed:\n${tag.stdout}\n${tag.stderr}`);
});

test("the committed local stack passes: the pack runs every rule that applies, only advisories are reported", () => {
  const run = preview([]);
  expect({ status: run.status, output: run.status === 0 ? "" : run.output }).toEqual({ status: 0, output: "" });
  // The CLI's own summary names the pack, with the version policy/package.json gives it.
  expect(run.output).toContain(`streamforge@v${PACK_VERSION} (local: policy)`);
  // Every rule that is not prod-only applies to something the local stack declares.
  const known = new Set(RULES.map((r) => r.policy.name));
  expect([...run.evaluated].filter((n) => !known.has(n))).toEqual([]);
  expect([...run.evaluated].sort()).toEqual(
    expect.arrayContaining([
      "analysis-guards-empty-results",
      "container-cpu-limit",
      "container-resources",
      "image-pinned",
      "no-plain-secrets",
      "pod-security-restricted",
      "rbac-no-wildcards-or-escalation",
      "rollout-analysis",
    ]),
  );
  expect(run.violations.filter((v) => v.enforcementLevel !== "advisory")).toEqual([]);
  for (const v of run.violations) expect(run.output).toContain(`[advisory]  ${v.policyName}`);
});

test("a `latest` image fails the preview with image-pinned's name and message", () => {
  const local = localStackFile();
  const config = structuredClone(local.config);
  config["streamforge:rollouts"].queueManager.image = "registry.local:5000/streamforge/queue-manager:latest";
  const file = configFile("local", { config, encryptionsalt: local.encryptionsalt });
  try {
    const run = preview(["--config-file", file]);
    expect(run.status).not.toBe(0);
    const mandatory = run.violations.filter((v) => v.enforcementLevel === "mandatory");
    expect(mandatory.map((v) => [v.policyName, v.resourceUrn?.split("::").pop()])).toEqual([["image-pinned", "queue-manager-rollout"]]);
    expect(mandatory[0]?.message).toContain('found "registry.local:5000/streamforge/queue-manager:latest" with the tag "latest"');
    expect(run.output).toContain("[mandatory]  image-pinned");
    expect(run.output).toContain('with the tag "latest"');
    expect(run.output).toContain("error: preview failed");
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});

test("the pack's config reaches the engine: the local stack declared production fails the prod listener rule", () => {
  // prod itself cannot be previewed here (its Strimzi Helm chart and operator image build need the
  // network); treating `local` as production runs the prod-only rules on a real engine instead.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "streamforge-policy-config-"));
  const file = path.join(dir, "policy-config.json");
  // The tag says local; the config says prod for this one rule, and the stricter of the two wins.
  fs.writeFileSync(file, JSON.stringify({ "kafka-production-listeners": { environment: "prod" } }));
  try {
    const run = preview(["--policy-pack-config", file]);
    expect(run.status).not.toBe(0);
    const mandatory = run.violations.filter((v) => v.enforcementLevel === "mandatory");
    expect(new Set(mandatory.map((v) => v.policyName))).toEqual(new Set(["kafka-production-listeners"]));
    expect(mandatory.map((v) => v.message).join("\n")).toContain(
      'spec.kafka.listeners[0] ("plain", "internal").tls: expected true; found false',
    );
    expect(run.output).toContain("[mandatory]  kafka-production-listeners");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("an environment that is not one fails the preview through the stack rule, and the prod rules apply", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "streamforge-policy-config-"));
  const file = path.join(dir, "policy-config.json");
  fs.writeFileSync(
    file,
    JSON.stringify({ "stack-environment-declared": { environment: "staging" }, "kafka-production-durability": { environment: "staging" } }),
  );
  try {
    const run = preview(["--policy-pack-config", file]);
    expect(run.status).not.toBe(0);
    const mandatory = run.violations.filter((v) => v.enforcementLevel === "mandatory");
    expect(new Set(mandatory.map((v) => v.policyName))).toEqual(new Set(["stack-environment-declared", "kafka-production-durability"]));
    expect(mandatory.find((v) => v.policyName === "stack-environment-declared")?.message).toContain(
      'the policy config\'s "environment": expected one of local, dev, prod; found "staging", so the production rules apply',
    );
    // local keeps topic deletion on (docs/data-safety.md): production would refuse it.
    expect(mandatory.map((v) => v.message).join("\n")).toContain('spec.kafka.config["delete.topic.enable"]: expected false');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
