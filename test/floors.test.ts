/**
 * No import runs back up: the kit imports no area and not the program; an area imports the kit
 * and, sideways, other areas' modules, never the program (floors.ts says which file is where).
 * Every .ts file's imports are read with TypeScript's own pre-processor.
 */
import { floorOf, floors, importsRunningUp, repositoryFiles } from "./floors";

describe("floors", () => {
  const files = repositoryFiles();

  it("no import runs back up: the kit imports no area nor the program, no area imports the program", () => {
    expect(importsRunningUp(files)).toEqual([]);
  });

  it("every floor holds files, and every area's folder is on the area floor", () => {
    const layout = floors(files.keys());
    const on = new Set([...files.keys()].map((f) => floorOf(f, layout)));
    expect([...on].filter((f) => f !== undefined).sort()).toEqual(["area", "kit", "program"]);
    expect(floorOf("infra/index.ts", layout)).toBe("program");
    expect(floorOf("infra/render/render.ts", layout)).toBe("program");
    expect(floorOf("infra/kafka/cluster.ts", layout)).toBe("area");
    expect(floorOf("rollouts/component.ts", layout)).toBe("area");
    expect(floorOf("infra/kit/config-kit.ts", layout)).toBe("kit");
    expect(floorOf("rollouts/test/spec.test.ts", layout)).toBeUndefined();
  });

  it("finds an import that runs back up, however it is written", () => {
    const fixture = new Map([
      ["rollouts/area.ts", ""],
      ["chaos/area.ts", ""],
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
