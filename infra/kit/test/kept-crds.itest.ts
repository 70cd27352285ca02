/**
 * CRDs kept on delete (infra/kit/keep-crds.ts), with the real Pulumi CLI and engine against the
 * real API server. test/fixtures/kept-crds declares one ConfigGroup of a CRD file, as
 * rollouts/component.ts declares each of the Argo Rollouts controller's CRDs. The file is
 * upstream's Rollout CRD (../shared/crds, v1.10.2) under a group of its own, so the local
 * platform's Argo CRDs, which the canary tests use, are never touched.
 *
 * A stack deployed before the transform existed takes it at one `up` that changes nothing else;
 * removing the group from the program then removes it from the stack and leaves the CRD and a
 * Rollout of its kind in the cluster (same UIDs). Without the transform, the same removal deletes
 * the CRD, and the API server the Rollout with it: what turning `rollouts.controller.install` off
 * did before.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { CRD_TYPE } from "../keep-crds";
import { PROJECT_ROOT } from "../../render/render";
import { crdsDir } from "../../../test/validate/crd-schema";
import {
  configFile,
  eventually,
  freshFixtureStack,
  kubectl,
  kubectlApply,
  pulumi,
  requireEnv,
} from "../../../test/integration/local-platform";

const FIXTURE = path.join(PROJECT_ROOT, "test", "fixtures", "kept-crds");
const STACK = "kept-crds";
const GROUP = "kept.streamforge.test";
const CRD = `rollouts.${GROUP}`;
const ROLLOUT = { namespace: "default", name: "queue-manager-kept" };

interface Layout {
  /** The group is in the program. */
  readonly declared: boolean;
  /** With keepCrdsOnDelete. */
  readonly keep: boolean;
}

let crdFile: string;

/** `pulumi <args>` on the fixture's stack, with the layout as a temporary `--config-file`. */
function fixture(args: string[], layout: Layout) {
  const config = {
    "streamforge-kept-crds:file": crdFile,
    "streamforge-kept-crds:declared": String(layout.declared),
    "streamforge-kept-crds:keep": String(layout.keep),
  };
  return pulumi(["--cwd", FIXTURE, ...args, "--stack", STACK, "--config-file", configFile(STACK, { config })], 600_000);
}

function up(layout: Layout): string {
  const result = fixture(["up", "--yes", "--skip-preview"], layout);
  if (result.status !== 0) throw new Error(`pulumi up (${JSON.stringify(layout)}) failed:\n${result.output.slice(-3000)}`);
  return result.output;
}

/** The UID of the object, or undefined when the API server has none. */
function uid(...what: string[]): string | undefined {
  try {
    return kubectl("get", ...what, "-o", "jsonpath={.metadata.uid}") || undefined;
  } catch (err) {
    if (/NotFound|the server doesn't have a resource type/.test(String(err))) return undefined;
    throw err;
  }
}
const crdUid = () => uid("customresourcedefinition", CRD);
const rolloutUid = () => uid(`rollouts.${GROUP}`, ROLLOUT.name, "-n", ROLLOUT.namespace);

/** The CRD's entry in the stack's state, if any. */
function crdInState(): { retainOnDelete?: boolean } | undefined {
  const exported = JSON.parse(pulumi(["--cwd", FIXTURE, "stack", "export", "--stack", STACK]).stdout);
  return (exported.deployment.resources as { type: string; retainOnDelete?: boolean }[]).find((r) => r.type === CRD_TYPE);
}

/** A Rollout of the fixture's kind: what the API server deletes with its CRD. */
async function declareRollout(): Promise<string> {
  // The API server serves a new CRD's kind shortly after creating it.
  await eventually(`${CRD} established`, () =>
    kubectl("get", "customresourcedefinition", CRD, "-o", "jsonpath={.status.conditions[?(@.type=='Established')].status}") === "True"
      ? true
      : undefined,
  );
  kubectlApply({
    apiVersion: `${GROUP}/v1alpha1`,
    kind: "Rollout",
    metadata: ROLLOUT,
    spec: { replicas: 0 },
  });
  return rolloutUid()!;
}

beforeAll(() => {
  requireEnv("KUBECONFIG");
  requireEnv("PULUMI_BACKEND_URL");
  const upstream = parseYaml(fs.readFileSync(path.join(crdsDir(), "argo-rollouts-1.10.2", "rollout-crd.yaml"), "utf8"));
  crdFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "streamforge-kept-crds-")), "rollout-crd.yaml");
  fs.writeFileSync(
    crdFile,
    stringify({ ...upstream, metadata: { ...upstream.metadata, name: CRD }, spec: { ...upstream.spec, group: GROUP } }),
  );
  // What an interrupted run left: its stack, and the CRD its objects are retained as.
  freshFixtureStack(FIXTURE, STACK);
  kubectl("delete", "customresourcedefinition", CRD, "--ignore-not-found", "--wait=true");
}, 600_000);

afterAll(() => {
  pulumi(["--cwd", FIXTURE, "stack", "rm", STACK, "--yes", "--force"]);
  kubectl("delete", "customresourcedefinition", CRD, "--ignore-not-found", "--wait=true");
}, 600_000);

describe("CRDs under keepCrdsOnDelete", () => {
  let crd: string;
  let rollout: string;

  it("a stack deployed without the transform takes it at one up that changes nothing in the cluster", async () => {
    up({ declared: true, keep: false });
    crd = crdUid()!;
    rollout = await declareRollout();
    expect(crdInState()?.retainOnDelete).toBeUndefined();

    const preview = fixture(["preview", "--expect-no-changes"], { declared: true, keep: true });
    expect([preview.status, preview.output.slice(-1500)]).toEqual([0, expect.stringMatching(/unchanged/)]);
    up({ declared: true, keep: true });
    expect(crdInState()?.retainOnDelete).toBe(true);
    expect([crdUid(), rolloutUid()]).toEqual([crd, rollout]);
  });

  it("removing the group leaves the CRD and its Rollout in the cluster, the same objects, and the stack without them", () => {
    const output = up({ declared: false, keep: true });
    expect(output).toMatch(/2 deleted/);
    expect(crdInState()).toBeUndefined();
    expect([crdUid(), rolloutUid()]).toEqual([crd, rollout]);
  });

  it("without the transform, the same removal deletes the CRD, and the API server the Rollout with it", async () => {
    // Declared again, the group takes the CRD over as it is (the provider applies server-side).
    up({ declared: true, keep: false });
    expect([crdUid(), rolloutUid()]).toEqual([crd, rollout]);
    up({ declared: false, keep: false });
    await eventually("the CRD and its Rollout deleted", () => (crdUid() === undefined && rolloutUid() === undefined ? true : undefined));
  });
});
