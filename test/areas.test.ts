/**
 * The program lists every area in one place: each folder's `area.ts` descriptor is in
 * infra/areas.ts, once, under a name of its own.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { AREAS } from "../infra/areas";
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
