/**
 * No resource changes identity unnoticed: every committed stack declares exactly the URNs, and
 * each with the inputs, provider and replacement options, recorded in test/identity/<stack>.json.
 * A changed URN is a delete and a create on a real stack. When a change is meant to change
 * resources, regenerate with `npm run identity -- --write` and review the diff; when a URN must
 * move, give the resource an `aliases` entry so Pulumi carries the old one over.
 */
import { identityChanges, readIdentity, stackIdentity } from "../infra/render/identity";
import { knownStacks } from "../infra/render/render";

describe.each(knownStacks())("stack %s", (stack) => {
  it("declares the recorded resources, each as recorded", async () => {
    const recorded = readIdentity(stack);
    expect(recorded).toBeDefined();
    expect(identityChanges(recorded!, await stackIdentity(stack))).toEqual({ gone: [], added: [], changed: [] });
  });
});
