/**
 * Litmus' operator as the stack declares it: its CRDs pinned to the litmus-core release's files
 * (../shared/crds/litmus holds the same bytes), applied as patches that name their source, and the
 * operator wired to what the guards admit. Its Role and restricted pod are tried against the real
 * API server in operator-guard.itest.ts.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderStack } from "../../infra/render/render";
import { CRD_SOURCE_ANNOTATION } from "../../infra/kit/upstream-crd";
import { crdsDir } from "../../test/validate/crd-schema";
import { committedConfig, variantProblems } from "../../test/helpers";
import { LITMUS_CRDS, LITMUS_CRD_SHA256, LITMUS_OPERATOR, litmusCrdUrl } from "../litmus-operator";

const upstream = (crd: string) => fs.readFileSync(path.join(crdsDir(), "litmus", `${crd}_crd.yaml`));

describe("Litmus' operator", () => {
  it.each(LITMUS_CRDS)("pins %s at litmus-core 3.28.1 to the upstream file's sha256", (crd) => {
    expect(LITMUS_CRD_SHA256["3.28.1"]![crd]).toBe(createHash("sha256").update(upstream(crd)).digest("hex"));
  });

  it("dev: applies the release's three CRDs as patches naming their file and sum, and no Helm release", async () => {
    const { manifests, helmReleases } = await renderStack("dev");
    const patches = manifests.filter((m) => m.kind === "CustomResourceDefinition" && m.metadata.name.endsWith(".litmuschaos.io"));
    expect(
      patches.map((m) => [m.metadata.name, (m.metadata.annotations as Record<string, string> | undefined)?.[CRD_SOURCE_ANNOTATION]]),
    ).toEqual(
      LITMUS_CRDS.map((crd) => [`${crd}s.litmuschaos.io`, `${litmusCrdUrl("3.28.1", crd)} sha256:${LITMUS_CRD_SHA256["3.28.1"]![crd]}`]),
    );
    expect(helmReleases.map((r) => r.name)).not.toContain("litmus-core");
  });

  it("dev: runs in the chaos namespace, watching it only, and starts the runner image the guards admit", async () => {
    const { manifests } = await renderStack("dev");
    const chaos = committedConfig("dev").chaos!;
    const deployment = manifests.find((m) => m.kind === "Deployment" && m.metadata.name === LITMUS_OPERATOR) as any;
    const container = deployment.spec.template.spec.containers[0];
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]));
    expect([deployment.metadata.namespace, env.WATCH_NAMESPACE, env.ANALYTICS]).toEqual([chaos.namespace, "metadata.namespace", "FALSE"]);
    expect(container.image).toBe(chaos.operator.image);
    // The engine guard refuses an engine naming another runner image than the one the operator starts.
    const engineGuard = manifests.find(
      (m) => m.kind === "ValidatingAdmissionPolicy" && m.metadata.name === `streamforge-${chaos.namespace}-chaosengine-guard`,
    ) as any;
    expect(engineGuard.spec.validations.map((v: any) => v.message)).toContain(
      `spec.components.runner.image: expected ${env.CHAOS_RUNNER_IMAGE} or absent`,
    );
  });

  it("refuses a chart release whose CRD sums are not pinned, naming the key", () => {
    expect(variantProblems("dev", (raw) => (raw.chaos.operator = { chartVersion: "3.27.0" }))).toEqual([
      'streamforge:chaos.operator.chartVersion: expected a litmus-core release whose CRD checksums chaos/litmus-operator.ts pins (3.28.1); found "3.27.0". Add the sha256 of each of its charts/litmus-core/crds/*.yaml there first',
    ]);
  });
});
