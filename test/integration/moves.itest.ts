/**
 * Renames and moves keep the object, with the real Pulumi CLI and engine against the real API
 * server. test/fixtures/moves is a small program made of the program's own components and its
 * moves transform (infra/kit/moves.ts); its stack is deployed as laid out before a refactor, then
 * previewed and applied as laid out after it: protected KafkaTopics (their component moved under
 * another parent), a stateless ConfigMap moved under another parent, and a protected Namespace
 * whose component was renamed. With the moves recorded, the engine reports every resource `same`,
 * each moved one found under its old URN (exactly the pairs the identity check predicts under
 * mocks), and `pulumi up` keeps every object (same UID). Without the record the engine refuses
 * to delete the protected topics, and previews the ConfigMap as a delete and a create.
 *
 * The engine's own events are read: `pulumi preview --json` with PULUMI_ENABLE_STREAMING_JSON_PREVIEW
 * prints one engine event per line (resourcePreEvent.metadata: op, urn, old.urn).
 */
import * as path from "node:path";
import { identityChanges, recordIdentity } from "../../infra/render/identity";
import { PROJECT_ROOT, runUnderMocks } from "../../infra/render/render";
import { type FixtureLayout, MOVED, MOVES, declareFixture } from "../fixtures/moves/program";
import { configFile, kubectl, namespaceExists, pulumi, requireEnv } from "./local-platform";

const FIXTURE = path.join(PROJECT_ROOT, "test", "fixtures", "moves");
const STACK = "moves";
const NS = "kafka-moves";

type Layout = Omit<FixtureLayout, "namespace">;
const BEFORE: Layout = { moved: [], record: false };
const AFTER: Layout = { moved: MOVED, record: true };

/** `pulumi <args>` on the fixture's stack, with the layout's settings as a temporary `--config-file`. */
function fixture(args: string[], layout: Layout, env: NodeJS.ProcessEnv = {}) {
  const config = {
    "streamforge-moves:namespace": NS,
    "streamforge-moves:moved": JSON.stringify(layout.moved),
    "streamforge-moves:record": String(layout.record),
    ...(layout.retire ? { "streamforge-moves:retire": layout.retire } : {}),
  };
  return pulumi(["--cwd", FIXTURE, ...args, "--stack", STACK, "--config-file", configFile(STACK, { config })], 600_000, env);
}

const up = (layout: Layout) => fixture(["up", "--yes", "--skip-preview"], layout);

interface Step {
  readonly op: string;
  readonly urn: string;
  /** The URN the engine found the resource under in the last deployment, if any. */
  readonly old?: string;
}

/** A preview's steps and errors, from the engine's events. */
function preview(layout: Layout): { status: number | null; steps: Step[]; errors: string[]; output: string } {
  const result = fixture(["preview", "--json"], layout, { PULUMI_ENABLE_STREAMING_JSON_PREVIEW: "true" });
  const events = result.stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, any>);
  return {
    status: result.status,
    steps: events
      .filter((e) => e.resourcePreEvent)
      .map((e) => e.resourcePreEvent.metadata)
      .map((m) => ({ op: m.op, urn: m.urn, ...(m.old?.urn ? { old: m.old.urn } : {}) })),
    errors: events.filter((e) => e.diagnosticEvent?.severity === "error").map((e) => String(e.diagnosticEvent.message)),
    output: result.output,
  };
}

const ops = (steps: Step[]) => [...new Set(steps.map((s) => s.op))].sort();
const tail = (urn: string) => urn.split("::").slice(2).join("::");

/** The objects the fixture keeps, by kind/name -> UID. */
function uids(): Record<string, string> {
  const get = (what: string, ...ns: string[]) => kubectl("get", what, ...ns, "-o", "jsonpath={.metadata.uid}");
  return {
    "namespace/kafka-moves": get("namespace", NS),
    "kafkatopic/orders": get("kafkatopics.kafka.strimzi.io", "orders", "-n", NS),
    "kafkatopic/events": get("kafkatopics.kafka.strimzi.io", "events", "-n", NS),
    "configmap/moves-settings": get("configmap", "moves-settings", "-n", NS),
  };
}

/** A stack an earlier, interrupted run left: dropped, with its namespace (its objects are retained on delete). */
function dropLeftovers(): void {
  if (pulumi(["--cwd", FIXTURE, "stack", "select", STACK]).status === 0)
    pulumi(["--cwd", FIXTURE, "stack", "rm", STACK, "--yes", "--force"]);
  if (namespaceExists(NS)) kubectl("delete", "namespace", NS, "--wait=true");
}

let deployed: Record<string, string>;

beforeAll(() => {
  requireEnv("KUBECONFIG");
  requireEnv("PULUMI_BACKEND_URL");
  dropLeftovers();
  const init = pulumi(["--cwd", FIXTURE, "stack", "init", STACK]);
  if (init.status !== 0) throw new Error(`pulumi stack init ${STACK} (test/fixtures/moves) failed:\n${init.output}`);
  const first = up(BEFORE);
  if (first.status !== 0) throw new Error(`the first pulumi up failed:\n${first.output.slice(-3000)}`);
  deployed = uids();
}, 600_000);

afterAll(() => {
  // The stack's confirmation applied by an up (protection off, nothing retained), then destroy, as
  // docs/runbook.md has it. The layout is the one the tests left: after the refactor.
  const released = up({ ...AFTER, retire: "delete" });
  const destroyed = released.status === 0 ? fixture(["destroy", "--yes", "--skip-preview"], { ...AFTER, retire: "delete" }) : released;
  if (destroyed.status === 0) pulumi(["--cwd", FIXTURE, "stack", "rm", STACK, "--yes"]);
  else {
    console.log(`releasing or destroying stack ${STACK} failed; dropping it and its namespace:\n${destroyed.output.slice(-2000)}`);
    dropLeftovers();
  }
}, 600_000);

describe("the refactor without its record", () => {
  it("is refused at preview: the engine will not delete the protected KafkaTopics it would leave behind", () => {
    const result = preview({ moved: MOVED, record: false });
    expect(result.status).not.toBe(0);
    for (const topic of ["catalogue-topic-orders", "catalogue-topic-events"]) {
      const old = `urn:pulumi:${STACK}::streamforge-moves::streamforge:kafka:StrimziEntities$kubernetes:kafka.strimzi.io/v1:KafkaTopic::${topic}`;
      expect(result.errors).toContainEqual(expect.stringContaining(`resource "${old}" cannot be deleted\nbecause it is protected`));
      // The new URN would have been a create: a second owner of the same KafkaTopic.
      expect(result.steps).toContainEqual({
        op: "create",
        urn: old.replace("::streamforge:kafka:", "::streamforge:moves:Group$streamforge:kafka:"),
      });
    }
    expect(uids()).toEqual(deployed);
  });

  it("previews the stateless ConfigMap as a delete and a create, everything else the same", () => {
    const result = preview({ moved: ["settings"], record: false });
    expect([result.status, result.errors]).toEqual([0, []]);
    const changed = result.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${tail(s.urn)}`);
    expect(changed.sort()).toEqual([
      "create streamforge:moves:Group$kubernetes:core/v1:ConfigMap::settings",
      "delete kubernetes:core/v1:ConfigMap::settings",
    ]);
  });
});

describe("the refactor with its moves recorded", () => {
  it("previews every resource as the same, each moved one found under its old URN, as the identity check predicts", async () => {
    const result = preview(AFTER);
    expect([result.status, result.errors]).toEqual([0, []]);
    expect(ops(result.steps)).toEqual(["same"]);
    const carried = result.steps.filter((s) => s.old !== undefined && s.old !== s.urn).map((s) => ({ from: s.old!, to: s.urn }));
    // The identity check's view of the same refactor, under mocks (which run no transform: it applies the table).
    const identity = (layout: Layout) =>
      recordIdentity(() =>
        runUnderMocks({ project: "streamforge-moves", stack: STACK, config: {} }, () =>
          declareFixture({ ...layout, record: false, namespace: NS }),
        ),
      );
    const predicted = identityChanges((await identity(BEFORE)).identity, await identity(AFTER), MOVES);
    expect(predicted.gone).toEqual([]);
    expect(carried.sort((a, b) => a.from.localeCompare(b.from))).toEqual(predicted.moved);
    expect(carried.map((c) => tail(c.from))).toEqual(
      expect.arrayContaining([
        "streamforge:kafka:StrimziEntities$kubernetes:kafka.strimzi.io/v1:KafkaTopic::catalogue-topic-orders",
        "kubernetes:core/v1:ConfigMap::settings",
        "streamforge:platform:Namespaces$kubernetes:core/v1:Namespace::moves-kafka-moves",
      ]),
    );
  });

  it("pulumi up keeps every object: the same UIDs, the state under the new URNs only", () => {
    const applied = up(AFTER);
    expect([applied.status, applied.output.slice(-1500)]).toEqual([0, expect.stringMatching(/9 unchanged/)]);
    expect(uids()).toEqual(deployed);
    const exported = JSON.parse(pulumi(["--cwd", FIXTURE, "stack", "export", "--stack", STACK]).stdout);
    const held = (exported.deployment.resources as { urn: string }[]).map((r) => tail(r.urn));
    for (const { from, to } of MOVES) {
      expect(held).toContain(to);
      expect(held).not.toContain(from);
    }
    // Carried over, the stack needs the record no more: the same layout without it is the same.
    expect(ops(preview({ moved: MOVED, record: false }).steps)).toEqual(["same"]);
  });
});
