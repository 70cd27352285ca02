/**
 * Recorded moves (infra/kit/moves.ts): the table's checks, the engine's alias rule as the identity
 * check applies it, and the identity check over the refactor of test/fixtures/moves run under
 * mocks: carried where the moves are recorded, and otherwise naming each pair and the entry to
 * add. test/integration/moves.itest.ts runs the same refactor with the real CLI and engine.
 */
import { type Move, moveProblems, movedFrom, oldUrnsMatched } from "../infra/kit/moves";
import { identityChanges, identityReport, recordIdentity } from "../infra/render/identity";
import { runUnderMocks } from "../infra/render/render";
import { type FixtureLayout, MOVED, MOVES, declareFixture } from "./fixtures/moves/program";

const urn = (tail: string) => `urn:pulumi:dev::streamforge::${tail}`;
const TOPIC = "kubernetes:kafka.strimzi.io/v1:KafkaTopic";

describe("the moves table", () => {
  it("names each malformed entry and what was expected", () => {
    const moves = [
      { from: "kubernetes:core/v1:ConfigMap::a", to: "ConfigMap::a" },
      { from: `streamforge:x:C$${TOPIC}::t`, to: `streamforge:x:C$${TOPIC}::t` },
      { from: "kubernetes:core/v1:ConfigMap::a", to: "streamforge:x:C$kubernetes:core/v1:ConfigMap::a" },
    ];
    expect(moveProblems(moves)).toEqual([
      'infra/moves.ts entry 0 .to: expected <type chain>::<name>, as npm run identity prints it without urn:pulumi:<stack>::<project>::; found "ConfigMap::a"',
      `infra/moves.ts entry 1: expected .from and .to to differ; both are "streamforge:x:C$${TOPIC}::t"`,
      'infra/moves.ts entry 2 .from: "kubernetes:core/v1:ConfigMap::a" is already moved by entry 0; one object has one new place',
    ]);
  });

  it("refuses a chain: the stacks not yet updated hold the first URN, so the entry goes straight to the last place", () => {
    const a = "kubernetes:core/v1:ConfigMap::a";
    const b = "streamforge:x:C$kubernetes:core/v1:ConfigMap::a";
    const c = "streamforge:x:C$kubernetes:core/v1:ConfigMap::b";
    expect(
      moveProblems([
        { from: a, to: b },
        { from: b, to: c },
      ]),
    ).toEqual([`infra/moves.ts entry 0: "${b}" moved again by entry 1; expected entry 0 to go straight to "${c}"`]);
    expect(
      moveProblems([
        { from: a, to: c },
        { from: b, to: c },
      ]),
    ).toEqual([]);
  });

  it("gives a resource the old URNs of its stack and project, and no other resource any", () => {
    const moves = [{ from: "kubernetes:core/v1:ConfigMap::a", to: "streamforge:x:C$kubernetes:core/v1:ConfigMap::a" }];
    expect(movedFrom("urn:pulumi:prod::streamforge::streamforge:x:C$kubernetes:core/v1:ConfigMap::a", moves)).toEqual([
      "urn:pulumi:prod::streamforge::kubernetes:core/v1:ConfigMap::a",
    ]);
    expect(movedFrom("urn:pulumi:prod::streamforge::streamforge:y:D$kubernetes:core/v1:ConfigMap::a", moves)).toEqual([]);
  });
});

describe("which old URN the engine finds a resource under", () => {
  const group = urn("streamforge:x:Group::kafka");
  const entitiesOld = urn("streamforge:kafka:StrimziEntities::catalogue");
  const entitiesNew = urn("streamforge:x:Group$streamforge:kafka:StrimziEntities::catalogue");
  const topicOld = urn(`streamforge:kafka:StrimziEntities$${TOPIC}::catalogue-topic-orders`);
  const topicNew = urn(`streamforge:x:Group$streamforge:kafka:StrimziEntities$${TOPIC}::catalogue-topic-orders`);
  const toGroup: Move = {
    from: "streamforge:kafka:StrimziEntities::catalogue",
    to: "streamforge:x:Group$streamforge:kafka:StrimziEntities::catalogue",
  };

  it("a component moved under another parent carries its children: their old type chain is the parent's old one", () => {
    const matched = oldUrnsMatched(
      new Set([group, entitiesOld, topicOld]),
      [{ urn: group }, { urn: entitiesNew, parent: group }, { urn: topicNew, parent: entitiesNew }],
      [toGroup],
    );
    expect([...matched]).toEqual([
      [entitiesNew, entitiesOld],
      [topicNew, topicOld],
    ]);
  });

  it("a renamed component carries the children named after it, with its old name in theirs", () => {
    const nsOld = urn("streamforge:platform:Namespaces$kubernetes:core/v1:Namespace::moves-kafka");
    const fixedOld = urn("streamforge:platform:Namespaces$kubernetes:core/v1:Namespace::fixed");
    const parentNew = urn("streamforge:platform:Namespaces::platform");
    const matched = oldUrnsMatched(
      new Set([urn("streamforge:platform:Namespaces::moves"), nsOld, fixedOld]),
      [
        { urn: parentNew },
        { urn: urn("streamforge:platform:Namespaces$kubernetes:core/v1:Namespace::platform-kafka"), parent: parentNew },
        { urn: urn("streamforge:platform:Namespaces$kubernetes:core/v1:Namespace::fixed"), parent: parentNew },
      ],
      [{ from: "streamforge:platform:Namespaces::moves", to: "streamforge:platform:Namespaces::platform" }],
    );
    expect([...matched.values()]).toEqual([urn("streamforge:platform:Namespaces::moves"), nsOld]);
  });

  it("without the entry, or where the resource's own URN is still there, nothing is carried", () => {
    const registered = [{ urn: group }, { urn: entitiesNew, parent: group }, { urn: topicNew, parent: entitiesNew }];
    expect(oldUrnsMatched(new Set([group, entitiesOld, topicOld]), registered, []).size).toBe(0);
    // The engine looks up the resource's own URN first (getOldResource).
    expect(oldUrnsMatched(new Set([group, entitiesOld, entitiesNew]), registered, [toGroup]).size).toBe(0);
  });
});

describe("the identity check over the fixture's refactor, under mocks", () => {
  const identityOf = (layout: Omit<FixtureLayout, "namespace" | "record">) =>
    // The mocks run no stack transform: the check applies the table itself, so the program runs without it.
    recordIdentity(() =>
      runUnderMocks({ project: "streamforge-moves", stack: "moves", config: {} }, () =>
        declareFixture({ ...layout, namespace: "kafka-moves", record: false }),
      ),
    );
  let before: Record<string, string>;
  beforeAll(async () => {
    before = (await identityOf({ moved: [] })).identity;
  });

  it("every URN gone is carried to a new one by the recorded moves, the protected topics and Namespace with their components", async () => {
    const after = await identityOf({ moved: MOVED });
    const changes = identityChanges(before, after, MOVES);
    expect(identityReport(changes)).toEqual([]);
    const tails = changes.moved.map((m) => `${m.from.split("::").slice(2).join("::")} -> ${m.to.split("::").slice(2).join("::")}`);
    expect(tails).toEqual([
      "kubernetes:core/v1:ConfigMap::settings -> streamforge:moves:Group$kubernetes:core/v1:ConfigMap::settings",
      "streamforge:kafka:StrimziEntities::catalogue -> streamforge:moves:Group$streamforge:kafka:StrimziEntities::catalogue",
      `streamforge:kafka:StrimziEntities$${TOPIC}::catalogue-topic-events -> streamforge:moves:Group$streamforge:kafka:StrimziEntities$${TOPIC}::catalogue-topic-events`,
      `streamforge:kafka:StrimziEntities$${TOPIC}::catalogue-topic-orders -> streamforge:moves:Group$streamforge:kafka:StrimziEntities$${TOPIC}::catalogue-topic-orders`,
      "streamforge:platform:Namespaces::moves -> streamforge:platform:Namespaces::platform",
      "streamforge:platform:Namespaces$kubernetes:core/v1:Namespace::moves-kafka-moves -> streamforge:platform:Namespaces$kubernetes:core/v1:Namespace::platform-kafka-moves",
    ]);
  });

  it("without the record: fails naming both URNs of each move and the very entries of the record, the children carried along", async () => {
    const after = await identityOf({ moved: MOVED });
    const changes = identityChanges(before, after, []);
    expect(changes.suggested.map((s) => s.entry)).toEqual(expect.arrayContaining([...MOVES]));
    expect(changes.suggested).toHaveLength(MOVES.length);
    const report = identityReport(changes);
    const urnIn = (tail: string) => `urn:pulumi:moves::streamforge-moves::${tail}`;
    expect(report).toContain(
      `moved? ${urnIn(MOVES[1]!.from)} is gone and ${urnIn(MOVES[1]!.to)} is new: if it is the same object, add to infra/moves.ts ` +
        `${JSON.stringify(MOVES[1])} (else the next up deletes the one and creates the other)`,
    );
    expect(report).toContain(
      `moved? ${urnIn(`streamforge:kafka:StrimziEntities$${TOPIC}::catalogue-topic-orders`)} -> ` +
        `${urnIn(`streamforge:moves:Group$streamforge:kafka:StrimziEntities$${TOPIC}::catalogue-topic-orders`)}: carried along by its parent's entry above`,
    );
    expect(report).toHaveLength(6);
  });

  it("a resource of another type and name removed and one added is no move: listed as gone and new", async () => {
    const now = await identityOf({ moved: [] });
    const configMap = Object.keys(now.identity).find((u) => u.endsWith("::kubernetes:core/v1:ConfigMap::settings"))!;
    const secret = "urn:pulumi:moves::streamforge-moves::kubernetes:core/v1:Secret::old";
    const recorded = { ...Object.fromEntries(Object.entries(before).filter(([u]) => u !== configMap)), [secret]: "0" };
    expect(identityReport(identityChanges(recorded, now, []))).toEqual([`gone ${secret}`, `new ${configMap}`]);
  });
});
