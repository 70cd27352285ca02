/**
 * The floors of the program, for test/floors.test.ts and test/areas.test.ts: the kit below the
 * areas, the program above them. The kit is `infra/kit/` and what it shares with the operator
 * package: the operator's settings contract and the Kafka CA copy's data (with its bundle); an
 * area is a folder holding an `area.ts` (its descriptor), so a new area needs no line here; the
 * program is the rest of `infra/`. Tests, scripts, the examples, the policy pack and the commands
 * that read a committed stack sit above all floors.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { PROJECT_ROOT } from "../infra/render/render";

const KIT = ["infra/kit/", "operator/src/contract.ts", "operator/src/core/ca-copy.ts"];

/** The area folders: each folder (but the kit) with an `area.ts` exporting the area's descriptor. */
export const areaFolders = (files: Iterable<string>): string[] =>
  [...files]
    .filter((f) => f.endsWith("/area.ts") && !f.startsWith("infra/kit/"))
    .map((f) => f.slice(0, -"area.ts".length))
    .sort();

/** Lowest first. A file is on the floor of the longest prefix that holds it. */
export const floors = (files: Iterable<string>) =>
  [
    { floor: "kit", holds: KIT },
    { floor: "area", holds: areaFolders(files) },
    { floor: "program", holds: ["infra/"] },
  ] as const;
type Floor = ReturnType<typeof floors>[number]["floor"];
const FLOOR_ORDER: readonly Floor[] = ["kit", "area", "program"];

/** Files in an area's folder that are commands reading a committed stack (they run the program's config): above all floors. */
const COMMANDS = ["chaos/launch.ts", "chaos/drill/"];
const isTest = (file: string): boolean => /(^|\/)test\//.test(file) || /\.i?test\.ts$/.test(file);

/** The floor of a repository file; undefined for files above all floors (tests, scripts, commands, examples, policy). */
export function floorOf(file: string, layout: ReturnType<typeof floors>): Floor | undefined {
  if (isTest(file) || COMMANDS.some((c) => file === c || (c.endsWith("/") && file.startsWith(c)))) return undefined;
  let found: { floor: Floor; length: number } | undefined;
  for (const { floor, holds } of layout)
    for (const prefix of holds)
      if ((file === prefix || (prefix.endsWith("/") && file.startsWith(prefix))) && prefix.length > (found?.length ?? -1))
        found = { floor, length: prefix.length };
  return found?.floor;
}

const rank = (floor: Floor): number => FLOOR_ORDER.indexOf(floor);

/** The repository files a file imports (relative imports, resolved as TypeScript does). */
export function importsOf(file: string, text: string, exists: (file: string) => boolean): string[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles
    .map((i) => i.fileName)
    .filter((spec) => spec.startsWith("."))
    .map((spec) => {
      const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec.replace(/\.js$/, "")));
      return [`${base}.ts`, `${base}/index.ts`, base].find(exists) ?? `${base}.ts`;
    });
}

/** Every import that runs from a floor to a floor above it, as `file -> imported (floor -> floor)`. */
export function importsRunningUp(files: ReadonlyMap<string, string>): string[] {
  const exists = (f: string): boolean => files.has(f);
  const layout = floors(files.keys());
  const found: string[] = [];
  for (const [file, text] of files) {
    const from = floorOf(file, layout);
    if (from === undefined) continue;
    for (const imported of importsOf(file, text, exists)) {
      const to = floorOf(imported, layout);
      if (to === undefined || rank(to) > rank(from)) found.push(`${file} -> ${imported} (${from} -> ${to ?? "above all floors"})`);
    }
  }
  return found.sort();
}

/** Every .ts file of the repository (but build and state folders) with its text, by repository path. */
export function repositoryFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const skip = new Set(["node_modules", ".git", ".local", ".toolchain", "build", "out", "scratch", "dist", "dist-bench"]);
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!skip.has(entry.name)) walk(rel);
      } else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))
        files.set(rel, fs.readFileSync(path.join(PROJECT_ROOT, rel), "utf8"));
    }
  };
  walk("");
  return files;
}
