/** docs/outputs.md's stack outputs table is generated from infra/kit/outputs-contract.ts; this fails when it is stale. */
import * as fs from "node:fs";
import { BEGIN, END, OUTPUTS_DOC, expectedDoc, outputsTableMarkdown, replaceBetweenMarkers } from "../scripts/outputs-table";
import { documentedOutputs } from "../infra/kit/outputs-contract";

it("docs/outputs.md's outputs table is the one the contract generates (run `npm run outputs:table`)", () => {
  const doc = fs.readFileSync(OUTPUTS_DOC, "utf8");
  const section = (text: string) => text.slice(text.indexOf(BEGIN), text.indexOf(END));
  expect(section(doc)).toBe(section(expectedDoc(doc)));
});

it("has a row for every output of the contract, with its type and stability", () => {
  const rows = new Map(
    outputsTableMarkdown()
      .split("\n")
      .filter((line) => line.startsWith("| `"))
      .map((line) => line.split("|").map((c) => c.trim()))
      .map(([, name, type, stability]) => [name, [type, stability]]),
  );
  for (const { name, spec } of documentedOutputs()) expect([name, rows.get(`\`${name}\``)]).toEqual([name, [spec.type, spec.stability]]);
});

it("replaces only what lies between the markers, and refuses a document without them", () => {
  const readme = `intro\n${BEGIN}\nold table\n${END}\nafter\n`;
  expect(replaceBetweenMarkers(readme, "new table\n")).toBe(`intro\n${BEGIN}\n\nnew table\n\n${END}\nafter\n`);
  expect(() => replaceBetweenMarkers("no markers here", "x")).toThrow(/needs the markers/);
});
