/**
 * upstream_replaces (local/lib/go-build.sh), the one helper the wrapper modules of kube.sh,
 * rollouts.sh and pulumi.sh repeat their module's replace directives with, run by bash with the
 * real `go mod edit` and jq over a go.mod shaped like theirs.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const LIB = path.join(__dirname, "go-build.sh");
const GOMOD = `module example.com/upstream

go 1.24

replace (
\tgithub.com/a/b => github.com/a/b v1.2.3
\tk8s.io/api => ./staging/src/k8s.io/api
\tgithub.com/c/d v0.1.0 => github.com/e/d v0.2.0
\tgithub.com/pulumi/pulumi/sdk/v3 => ../sdk
)
`;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "go-build-test-"));
  fs.writeFileSync(path.join(dir, "go.mod"), GOMOD);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const replaces = (local?: string) =>
  spawnSync(
    "bash",
    ["-c", `source ${JSON.stringify(LIB)}; upstream_replaces "$@"`, "-", path.join(dir, "go.mod"), ...(local ? [local] : [])],
    {
      encoding: "utf8",
    },
  );

describe("upstream_replaces", () => {
  it("repeats each directive to a module as a replace line", () => {
    const r = replaces("skip");
    expect([r.status, r.stdout.trim().split("\n")]).toEqual([
      0,
      ["replace github.com/a/b => github.com/a/b v1.2.3", "replace github.com/c/d v0.1.0 => github.com/e/d v0.2.0"],
    ]);
  });

  it("maps a folder of the module's own repository to a published version of the same path (Kubernetes' staging modules)", () => {
    const r = replaces("v0.37.2");
    expect(r.stdout.trim().split("\n")).toEqual([
      "replace github.com/a/b => github.com/a/b v1.2.3",
      "replace k8s.io/api => k8s.io/api v0.37.2",
      "replace github.com/c/d v0.1.0 => github.com/e/d v0.2.0",
      "replace github.com/pulumi/pulumi/sdk/v3 => github.com/pulumi/pulumi/sdk/v3 v0.37.2",
    ]);
  });

  it("by default refuses a folder, naming the directive, and prints nothing a caller could half-use", () => {
    const r = replaces();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("k8s.io/api => ./staging/src/k8s.io/api: a folder of the module's own repository");
    expect(r.stdout).toBe("");
  });
});
