/**
 * The floors of the program: the kit below the areas, the program above them, and no import
 * running back up. The kit (`infra/kit/`, and the operator's settings contract it shares with the
 * operator package) imports no area and not the program; an area imports the kit and, sideways,
 * other areas' modules, never the program. The program composes the areas. Tests, scripts, the
 * examples, the policy pack and the commands that read a committed stack sit above all and may
 * import any floor. Every .ts file's imports are read with TypeScript's own pre-processor.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { PROJECT_ROOT } from "../infra/render/render";

/** Lowest first. A file is on the floor of the longest prefix that holds it. */
export const FLOORS = [
  { floor: "kit", holds: ["infra/kit/", "operator/src/contract.ts"] },
  { floor: "area", holds: ["infra/cluster/", "infra/kafka/", "infra/self-healing/", "rollouts/", "chaos/", "observability/"] },
  { floor: "program", holds: ["infra/"] },
] as const;
type Floor = (typeof FLOORS)[number]["floor"];

/** Files in an area's folder that are commands reading a committed stack (they run the program's config): above all floors. */
const COMMANDS = ["chaos/launch.ts", "chaos/drill/"];
const isTest = (file: string): boolean => /(^|\/)test\//.test(file) || /\.i?test\.ts$/.test(file);

/** The floor of a repository file; undefined for files above all floors (tests, scripts, commands, examples, policy). */
export function floorOf(file: string): Floor | undefined {
  if (isTest(file) || COMMANDS.some((c) => file === c || (c.endsWith("/") && file.startsWith(c)))) return undefined;
  let found: { floor: Floor; length: number } | undefined;
  for (const { floor, holds } of FLOORS)
    for (const prefix of holds)
      if ((file === prefix || (prefix.endsWith("/") && file.startsWith(prefix))) && prefix.length > (found?.length ?? -1))
        found = { floor, length: prefix.length };
  return found?.floor;
}

const rank = (floor: Floor): number => FLOORS.findIndex((f) => f.floor === floor);

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
  const found: string[] = [];
  for (const [file, text] of files) {
    const from = floorOf(file);
    if (from === undefined) continue;
    for (const imported of importsOf(file, text, exists)) {
      const to = floorOf(imported);
      if (to === undefined || rank(to) > rank(from)) found.push(`${file} -> ${imported} (${from} -> ${to ?? "above all floors"})`);
    }
  }
  return found.sort();
}

function repositoryFiles(): Map<string, string> {
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

describe("floors", () => {
  const files = repositoryFiles();

  it("no import runs back up: the kit imports no area nor the program, no area imports the program", () => {
    expect(importsRunningUp(files)).toEqual([]);
  });

  it("every floor holds files, and every area's folder is on the area floor", () => {
    const floors = new Set([...files.keys()].map(floorOf));
    expect([...floors].filter((f) => f !== undefined).sort()).toEqual(["area", "kit", "program"]);
    expect(floorOf("infra/index.ts")).toBe("program");
    expect(floorOf("infra/render/render.ts")).toBe("program");
    expect(floorOf("rollouts/component.ts")).toBe("area");
    expect(floorOf("infra/kit/config-kit.ts")).toBe("kit");
    expect(floorOf("rollouts/test/spec.test.ts")).toBeUndefined();
  });

  it("finds an import that runs back up, however it is written", () => {
    const fixture = new Map([
      ["infra/kit/a.ts", 'import { b } from "../../rollouts/b";\nexport const a = b;'],
      ["rollouts/b.ts", 'export { c } from "../infra/config";\nexport const b = 1;'],
      ["rollouts/ok.ts", 'import type { X } from "../infra/kit/a";\nimport { y } from "../chaos/y";'],
      ["chaos/y.ts", 'const z = require("../infra/platform.js");\nexport const y = import("../infra/kit/a");'],
      ["infra/config.ts", "export const c = 1;"],
      ["infra/platform.ts", 'import { b } from "../rollouts/b";'],
      ["infra/kit/a2.ts", 'import { a } from "./a";'],
    ]);
    expect(importsRunningUp(fixture)).toEqual([
      "chaos/y.ts -> infra/platform.ts (area -> program)",
      "infra/kit/a.ts -> rollouts/b.ts (kit -> area)",
      "rollouts/b.ts -> infra/config.ts (area -> program)",
    ]);
  });
});
