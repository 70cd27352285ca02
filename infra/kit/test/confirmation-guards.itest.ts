/**
 * Confirmation guards (infra/kit/confirmation-guard.ts), with the real Pulumi CLI and engine
 * against the real API server: test/fixtures/confirmation-guards declares objects as the kafka-api
 * owner declares topics and users (protected until confirmed), each with an unprotected companion
 * (as a user's credentials Secret) and the guard standing before both. The kafka-api owner itself
 * cannot be deployed here (no pulumi-resource-kafka): this is the engine's side of it, and
 * infra/kafka/test/data-safety.test.ts holds that each of its topics and users has its guard.
 *
 * Removing an object without its confirmation is refused on its guard, whose name is the key to
 * set, in a preview and in an `up --skip-preview` alike, and neither the object nor its companion
 * is deleted. Without the guard, the same `up` deletes the companion and the engine's refusal
 * names only `pulumi state unprotect`. With the confirmation applied, the removal goes through.
 */
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { retireGuardName } from "../confirmation-guard";
import { PROJECT_ROOT } from "../../render/render";
import { configFile, freshFixtureStack, kubectl, pulumi, requireEnv } from "../../../test/integration/local-platform";

const FIXTURE = path.join(PROJECT_ROOT, "test", "fixtures", "confirmation-guards");
const STACK = "confirmation-guards";
const NAMESPACE = `confirmation-guards-${randomBytes(3).toString("hex")}`;

interface Layout {
  readonly objects: string[];
  readonly confirmed?: string[];
  readonly guards?: boolean;
}

/** `pulumi <args>` on the fixture's stack, with the layout as a temporary `--config-file`. */
function fixture(args: string[], layout: Layout) {
  const config = {
    "streamforge-confirmation-guards:namespace": NAMESPACE,
    "streamforge-confirmation-guards:objects": layout.objects.join(","),
    "streamforge-confirmation-guards:confirmed": (layout.confirmed ?? []).join(","),
    "streamforge-confirmation-guards:guards": String(layout.guards ?? true),
  };
  return pulumi(["--cwd", FIXTURE, ...args, "--stack", STACK, "--config-file", configFile(STACK, { config })], 600_000);
}

function up(layout: Layout): void {
  const result = fixture(["up", "--yes", "--skip-preview"], layout);
  if (result.status !== 0) throw new Error(`pulumi up (${JSON.stringify(layout)}) failed:\n${result.output.slice(-3000)}`);
}

/** The ConfigMaps in the namespace, by name. */
const inCluster = (): string[] =>
  kubectl("get", "configmaps", "-n", NAMESPACE, "-o", "jsonpath={.items[*].metadata.name}")
    .split(" ")
    .filter((n) => n !== "" && n !== "kube-root-ca.crt")
    .sort();
const stateUrns = (): string[] =>
  (JSON.parse(pulumi(["--cwd", FIXTURE, "stack", "export", "--stack", STACK]).stdout).deployment.resources as { urn: string }[])
    .map((r) => r.urn)
    .sort();

beforeAll(() => {
  requireEnv("KUBECONFIG");
  requireEnv("PULUMI_BACKEND_URL");
  freshFixtureStack(FIXTURE, STACK);
  kubectl("create", "namespace", NAMESPACE);
}, 600_000);

afterAll(() => {
  pulumi(["--cwd", FIXTURE, "stack", "rm", STACK, "--yes", "--force"]);
  kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false");
}, 600_000);

describe("removing a guarded object", () => {
  const refusal = (name: string) =>
    new RegExp(
      `ConfirmationGuard::${retireGuardName(`topics.${name}`).replace(/\./g, "\\.")}"? cannot be deleted\\s+because it is protected`,
    );

  it("without its confirmation: refused on its guard, naming the key, at preview and at up --skip-preview; nothing is deleted", () => {
    up({ objects: ["a", "b"] });
    const urns = stateUrns();
    expect(inCluster()).toEqual(["a", "a-companion", "b", "b-companion"]);
    for (const args of [["preview"], ["up", "--yes", "--skip-preview"]]) {
      const result = fixture(args, { objects: ["a"] });
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(refusal("b"));
      expect(inCluster()).toEqual(["a", "a-companion", "b", "b-companion"]);
      expect(stateUrns()).toEqual(urns);
    }
  });

  it("without the guard (what it changes): the same up deletes the companion, and the refusal names only pulumi state unprotect", () => {
    // The guards go once unprotected: confirm both, drop the guards, protect both again.
    up({ objects: ["a", "b"], confirmed: ["a", "b"] });
    up({ objects: ["a", "b"], guards: false });
    const result = fixture(["up", "--yes", "--skip-preview"], { objects: ["a"], guards: false });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("pulumi state unprotect");
    expect(result.output).not.toContain("streamforge:retire");
    expect(inCluster()).toEqual(["a", "a-companion", "b"]);
    up({ objects: ["a", "b"] });
    expect(inCluster()).toEqual(["a", "a-companion", "b", "b-companion"]);
  });

  it("with its confirmation applied by an up: the removal deletes the object and its companion, and only those", () => {
    up({ objects: ["a", "b"], confirmed: ["b"] });
    up({ objects: ["a"], confirmed: ["b"] });
    expect(inCluster()).toEqual(["a", "a-companion"]);
    const ofB = ["::object-b", "::companion-b", `::${retireGuardName("topics.b")}`];
    expect(stateUrns().filter((urn) => ofB.some((tail) => urn.endsWith(tail)))).toEqual([]);
    expect(stateUrns().filter((urn) => urn.endsWith("::object-a"))).toHaveLength(1);
  });
});
