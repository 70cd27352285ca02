/**
 * No resource changes identity unnoticed: every committed stack declares exactly the URNs, and
 * each with the inputs, provider and replacement options, recorded in test/identity/<stack>.json.
 * A changed URN is a delete and a create on a real stack. A URN gone and a URN new pass only where
 * a move recorded in infra/moves.ts carries the one to the other; otherwise the failure names both
 * and the entry to add. When a change is meant to change resources, regenerate with
 * `npm run identity -- --write` and review the diff.
 */
import {
  type ProgramIdentity,
  identityChanges,
  identityReport,
  movesTableProblems,
  readIdentity,
  stackIdentity,
} from "../infra/render/identity";
import { knownStacks } from "../infra/render/render";
import { urnTail } from "../infra/kit/moves";
import { MOVES } from "../infra/moves";

// Each stack's program runs once for both tests.
const identities = new Map<string, Promise<ProgramIdentity>>();
const identityOf = (stack: string): Promise<ProgramIdentity> => {
  if (!identities.has(stack)) identities.set(stack, stackIdentity(stack));
  return identities.get(stack)!;
};

describe.each(knownStacks())("stack %s", (stack) => {
  it("declares the recorded resources, each as recorded (a moved one only where infra/moves.ts carries it)", async () => {
    const recorded = readIdentity(stack);
    expect(recorded).toBeDefined();
    expect(identityReport(identityChanges(recorded!, await identityOf(stack), MOVES))).toEqual([]);
  });
});

it("infra/moves.ts is well formed and each entry names a resource a committed stack declares", async () => {
  const declared = new Set<string>();
  for (const stack of knownStacks()) for (const urn of Object.keys((await identityOf(stack)).identity)) declared.add(urnTail(urn));
  expect(movesTableProblems(MOVES, declared)).toEqual([]);
});
