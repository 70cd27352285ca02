import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { type DeclaredResource, PROJECT_ROOT, knownStacks, renderStack } from "../../infra/render/render";
import { ENVIRONMENT_TAG } from "../rules/common";
import { RULES, STACK_RULES } from "../rules";
import { type Phase, type PolicyRun, type RunOptions, runAll, runAllStack } from "./harness";

const STACKS = ["dev", "prod", "local", "local-kafka-api"] as const;
type Stack = (typeof STACKS)[number];

const QM = 'Rollout stf/queue-manager (resource "queue-manager-rollout"), container "queue-manager" (spec.template.spec.containers[0])';
const QM_CPU = `container-cpu-limit: ${QM}: resources.limits.cpu: expected a CPU limit such as "100m"; found none`;
const OPERATOR = "kubernetes:apps/v1:Deployment::self-healing-deployment";
const RELAUNCH_GUARD = "kubernetes:apps/v1:Deployment::self-healing-relaunch-guard";

/**
 * The advisory findings each committed stack has today. A change here is a decision: fix the
 * stack, or update the list and say why in the change.
 */
const KNOWN_ADVISORY: Record<Stack, string[]> = {
  // queue-manager has no CPU limit by default (rollouts/config.ts): throttling is worse than sharing.
  dev: [QM_CPU],
  prod: [
    QM_CPU,
    // prod ships queue-manager by tag: the digest is preferred.
    `image-digest-in-production: ${QM}: image: expected a digest reference (name@sha256:...) in production; found "ghcr.io/olehkondratow/streamforge-queue-manager:1.0.0"`,
  ],
  local: [QM_CPU],
  "local-kafka-api": [],
};

/** At preview prod's operator image is the digest of an image built by the same update: unknown, so the engine reports it advisory. */
const CA_SYNC_CRONJOB = "kubernetes:batch/v1:CronJob::kafka-ca-sync-cronjob";
const KNOWN_UNKNOWN_AT_PREVIEW: Record<Stack, string[]> = {
  dev: [],
  // The CA syncer and the relaunch guard run from the operator's image: the same digest, known only once it is built.
  prod: [
    `image-pinned on ${CA_SYNC_CRONJOB}`,
    `image-digest-in-production on ${CA_SYNC_CRONJOB}`,
    `image-pinned on ${RELAUNCH_GUARD}`,
    `image-digest-in-production on ${RELAUNCH_GUARD}`,
    `image-pinned on ${OPERATOR}`,
    `image-digest-in-production on ${OPERATOR}`,
  ],
  local: [],
  "local-kafka-api": [],
};

const violations = (runs: PolicyRun[], level: string) =>
  runs.filter((r) => r.enforcementLevel === level).flatMap((r) => r.violations.map((m) => `${r.policy}: ${m}`));

/**
 * The stack's tag as the deploy sets it (`pulumi stack tag set streamforge:environment <value>`,
 * local/platform.sh for `local`): the value of the program's own `streamforge:environment`.
 */
function environmentTag(stack: Stack): Record<string, string> {
  const doc = parse(fs.readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
  const environment = doc.config?.["streamforge:environment"];
  if (typeof environment !== "string")
    throw new Error(`Pulumi.${stack}.yaml: streamforge:environment: expected local, dev or prod; found none`);
  return { [ENVIRONMENT_TAG]: environment };
}

/** The whole pack over a stack's resources: every resource rule on each, then every stack rule. */
async function runPack(resources: readonly DeclaredResource[], options: RunOptions & { phase: Phase }): Promise<PolicyRun[]> {
  const perResource = await runAll(
    RULES.map((r) => r.policy),
    resources,
    options,
  );
  const perStack = await runAllStack(
    STACK_RULES.map((r) => r.policy),
    resources,
    options,
  );
  return [...perResource, ...perStack];
}

async function analyze(stack: Stack, phase: Phase): Promise<PolicyRun[]> {
  const { resources } = await renderStack(stack);
  return runPack(resources, { stack, phase, tags: environmentTag(stack) });
}

describe("the committed stacks pass every mandatory rule", () => {
  it("knows what to expect of every committed stack", () => {
    expect([...STACKS].sort()).toEqual(knownStacks());
  });

  it.each(STACKS)("%s at preview: no mandatory violation, the known advisory ones", async (stack) => {
    const runs = await analyze(stack, "preview");
    const advisory = violations(runs, "advisory");
    const unknown = runs.filter((r) => r.unknown);
    console.log(
      `${stack} (preview)\nadvisory:\n  ${advisory.join("\n  ") || "(none)"}\ncan't run during preview:\n  ${
        unknown.map((r) => `${r.policy} on ${r.resource}: ${r.unknown}`).join("\n  ") || "(none)"
      }`,
    );
    expect(violations(runs, "mandatory")).toEqual([]);
    expect(advisory).toEqual(KNOWN_ADVISORY[stack]);
    expect(unknown.map((r) => `${r.policy} on ${r.resource}`)).toEqual(KNOWN_UNKNOWN_AT_PREVIEW[stack]);
  });

  it("prod at update, its operator image known by digest: still no mandatory violation", async () => {
    const runs = await analyze("prod", "update");
    expect(violations(runs, "mandatory")).toEqual([]);
    expect(runs.filter((r) => r.unknown)).toEqual([]);
    expect(violations(runs, "advisory")).toEqual(KNOWN_ADVISORY.prod);
  });

  it("every rule applies to something the committed stacks declare, or says why not", async () => {
    const applied = new Set<string>();
    for (const stack of STACKS) for (const r of await analyze(stack, "preview")) if (!r.notApplicable) applied.add(r.policy);
    // prod declares no ChaosEngine (chaos is off there), so the production chaos rules apply to nothing committed.
    expect([...RULES, ...STACK_RULES].map((r) => r.name).filter((n) => !applied.has(n))).toEqual([
      "chaos-production-opt-in",
      "chaos-production-duration-cap",
    ]);
  });
});

describe("an undeclared environment fails closed", () => {
  it("dev without its tag: the production rules apply and stack-environment-declared says what to set", async () => {
    const { resources } = await renderStack("dev");
    const runs = await runPack(resources, { stack: "dev", phase: "preview" });
    const failed = new Set(runs.filter((r) => r.enforcementLevel === "mandatory" && r.violations.length > 0).map((r) => r.policy));
    // dev runs one broker with replication 1, plain listeners and topic deletion on: every prod Kafka rule objects.
    expect([...failed].sort()).toEqual([
      "kafka-production-brokers",
      "kafka-production-durability",
      "kafka-production-listeners",
      "kafka-production-replication",
      "stack-environment-declared",
    ]);
    expect(runs.find((r) => r.policy === "stack-environment-declared")?.violations).toEqual([
      `Stack: expected the stack tag "${ENVIRONMENT_TAG}" (pulumi stack tag set ${ENVIRONMENT_TAG} <local|dev|prod>) or "environment" in the policy pack's config; found neither, so the production rules apply`,
    ]);
  });
});
