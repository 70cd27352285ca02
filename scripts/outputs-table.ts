/**
 * `npm run outputs:table`: writes docs/outputs.md's stack outputs table from infra/kit/outputs-contract.ts,
 * between the marker comments, so the doc cannot drift from the contract.
 * `npm run outputs:table -- --check` only says whether docs/outputs.md is up to date (exit 1 if not).
 * It aligns the table as prettier does (`prettier --check` in lint keeps the two in step); prettier's
 * own API is not used because it loads as an ES module, which jest here cannot import.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { STABILITY, type Stability, documentedOutputs, typeLabel } from "../infra/kit/outputs-contract";

export const OUTPUTS_DOC = path.resolve(__dirname, "..", "docs", "outputs.md");
export const BEGIN = "<!-- outputs-table:begin (generated from infra/kit/outputs-contract.ts by `npm run outputs:table`: edit there) -->";
export const END = "<!-- outputs-table:end -->";

const cell = (text: string): string => text.replace(/\|/g, "\\|");

/** A Markdown table with its columns padded to equal width, the way prettier prints one. Pure. */
export function alignedTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** The table and the stability legend as Markdown. Pure. */
export function outputsTableMarkdown(): string {
  const rows = documentedOutputs().map(({ name, spec }) => [
    `\`${name}\``,
    cell(typeLabel(spec)),
    spec.stability,
    cell(spec.emptyWhen ? `${spec.meaning} Empty when ${spec.emptyWhen}.` : spec.meaning),
  ]);
  const legend = (Object.keys(STABILITY) as Stability[]).map((s) => `- **${s}**: ${STABILITY[s]}`);
  return [alignedTable(["Output", "Type", "Stability", "What"], rows), "", ...legend].join("\n");
}

/** `doc` with what lies between the markers replaced by `body`. Pure; throws when a marker is missing. */
export function replaceBetweenMarkers(doc: string, body: string): string {
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin)
    throw new Error(`docs/outputs.md needs the markers ${BEGIN} and ${END}, in that order, around the stack outputs table`);
  return `${doc.slice(0, begin + BEGIN.length)}\n\n${body.trim()}\n\n${doc.slice(end)}`;
}

/** The document as it should be: `doc` with the table the contract generates. Pure. */
export const expectedDoc = (doc: string): string => replaceBetweenMarkers(doc, outputsTableMarkdown());

function main(): void {
  const current = fs.readFileSync(OUTPUTS_DOC, "utf8");
  const expected = expectedDoc(current);
  if (process.argv.includes("--check")) {
    if (current !== expected) {
      console.error("docs/outputs.md's stack outputs table is out of date: run `npm run outputs:table`");
      process.exitCode = 1;
    }
    return;
  }
  if (current !== expected) fs.writeFileSync(OUTPUTS_DOC, expected);
  console.log(current === expected ? "docs/outputs.md's outputs table is up to date" : "docs/outputs.md's outputs table rewritten");
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
