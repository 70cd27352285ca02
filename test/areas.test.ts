/**
 * The program lists every area in one place: each folder's `area.ts` descriptor is in
 * infra/areas.ts, once, under a name of its own.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { AREAS } from "../infra/areas";
import { defineAreaDescriptor, partsOf } from "../infra/kit/area";
import { PROJECT_ROOT } from "../infra/render/render";
import { areaFolders, repositoryFiles } from "./floors";

const folders = areaFolders(repositoryFiles().keys());

describe("infra/areas.ts", () => {
  it("lists every area's descriptor once, each under its own name", () => {
    const names = AREAS.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    expect(AREAS).toHaveLength(folders.length);
  });

  it.each(folders)("imports %sarea.ts", (folder) => {
    const listing = fs.readFileSync(path.join(PROJECT_ROOT, "infra", "areas.ts"), "utf8");
    const spec = path.posix.relative("infra", `${folder}area`);
    expect(listing).toContain(`from "${spec.startsWith(".") ? spec : `./${spec}`}"`);
  });
});

describe("the area descriptor", () => {
  const small = defineAreaDescriptor({ name: "small", config: { keys: {}, secrets: [] } });

  it("needs only a name and a config: no namespaces, no parts, no outputs", () => {
    expect(small.namespaces({})).toEqual([]);
    expect(small.declare({ parts: {} } as never)).toEqual({ parts: undefined, outputs: {} });
  });

  it("reads another area's parts, and names the area listed too late", () => {
    const read = partsOf<{ n: number }>("kafka");
    expect(read({ parts: { kafka: { n: 1 } } })).toEqual({ n: 1 });
    expect(() => read({ parts: {} })).toThrow(
      "The kafka area has not been created yet: list it before the areas that read its parts (infra/areas.ts)",
    );
  });
});
