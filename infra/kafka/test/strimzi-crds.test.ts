/**
 * Strimzi's CRDs go with its chart: the program applies the release's CRD files, fetched and
 * checked against pins that are the upstream files' sums (../shared/crds/strimzi holds tag
 * 1.2.0's packaging/install/cluster-operator files), as forced server-side patches the Helm
 * release waits for, so `helm upgrade` (which never updates a chart's crds/) is not the one to
 * bring them. A file whose sum differs is refused by fetchVerified (rollouts/test/crds.test.ts).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { STRIMZI_KAFKA_VERSIONS } from "../kafka-changes";
import { StrimziOperator } from "../strimzi-operator";
import { STRIMZI_CRDS, STRIMZI_CRD_SHA256, strimziCrdUrl } from "../strimzi-crds";
import { CRD_SOURCE_ANNOTATION, crdOfFile } from "../../kit/upstream-crd";
import { renderStack, runUnderMocks } from "../../render/render";
import { crdsDir } from "../../../test/validate/crd-schema";
import { committedConfig, variantProblems } from "../../../test/helpers";

const upstream = (file: string): Buffer => fs.readFileSync(path.join(crdsDir(), "strimzi", file));
const PATCH = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinitionPatch";
const RELEASE = "kubernetes:helm.sh/v3:Release";

describe("the pinned Strimzi CRDs", () => {
  it("are every CRD file of the release, each pinned to the upstream file's sha256 and holding the CRD named", () => {
    const files = fs.readdirSync(path.join(crdsDir(), "strimzi")).filter((f) => /^04\d-Crd-.*\.yaml$/.test(f));
    expect(STRIMZI_CRDS.map((c) => c.file)).toEqual(files.sort());
    for (const { file, name } of STRIMZI_CRDS) {
      expect([file, STRIMZI_CRD_SHA256["1.2.0"]![file]]).toEqual([file, createHash("sha256").update(upstream(file)).digest("hex")]);
      expect([file, (parse(upstream(file).toString("utf8")) as { metadata: { name: string } }).metadata.name]).toEqual([file, name]);
    }
  });

  it("are pinned for every release whose Kafka versions are listed, and only those", () => {
    expect(Object.keys(STRIMZI_CRD_SHA256).sort()).toEqual(Object.keys(STRIMZI_KAFKA_VERSIONS).sort());
  });

  it("crdOfFile refuses a file that is not the one CRD expected", () => {
    const kafka = upstream("040-Crd-kafka.yaml").toString("utf8");
    expect(crdOfFile(kafka, "kafkas.kafka.strimzi.io", "u").spec).toMatchObject({ group: "kafka.strimzi.io", names: { kind: "Kafka" } });
    expect(() => crdOfFile(kafka, "kafkatopics.kafka.strimzi.io", "u")).toThrow(
      "u: expected one CustomResourceDefinition named kafkatopics.kafka.strimzi.io; found 1 document(s)",
    );
    expect(() => crdOfFile(`${kafka}\n---\n${kafka}`, "kafkas.kafka.strimzi.io", "u")).toThrow("found 2 document(s)");
  });

  it("a chartVersion without pinned CRDs is refused, naming the key", () => {
    const problems = variantProblems("dev", (raw) => {
      raw.strimzi.chartVersion = "1.3.0";
    });
    expect(problems).toContain(
      'streamforge:strimzi.chartVersion: expected a Strimzi release whose CRD checksums infra/kafka/strimzi-crds.ts pins (1.2.0); found "1.3.0". Add the sha256 of each of its packaging/install/cluster-operator/04x-Crd-*.yaml there first',
    );
  });
});

describe("StrimziOperator applies the release's CRDs before its chart", () => {
  const { strimzi } = committedConfig("dev");
  const served: string[] = [];
  beforeEach(() => {
    served.length = 0;
    // The release's files as its tag serves them (the bytes of ../shared/crds/strimzi).
    jest.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      const url = input instanceof Request ? input.url : input.toString();
      served.push(url);
      const file = STRIMZI_CRDS.find((c) => url === strimziCrdUrl("1.2.0", c.file))?.file;
      if (!file) return new Response("not found", { status: 404, statusText: "Not Found" });
      return new Response(upstream(file));
    });
  });
  afterEach(() => jest.restoreAllMocks());

  const declare = () =>
    runUnderMocks({ project: "streamforge", stack: "dev", config: {} }, () => {
      new StrimziOperator("strimzi", { strimzi, watchNamespaces: ["kafka", "stf"] });
    });

  it("each CRD as a forced server-side patch of the fetched file; the chart skips its own and waits for them", async () => {
    const { resources } = await declare();
    expect(served.sort()).toEqual(STRIMZI_CRDS.map((c) => strimziCrdUrl("1.2.0", c.file)).sort());
    const patches = resources.filter((r) => r.type === PATCH);
    // Registered as each file arrives: compare as sets.
    expect(patches.map((p) => (p.inputs.metadata as { name: string }).name).sort()).toEqual(STRIMZI_CRDS.map((c) => c.name).sort());
    for (const { file, name } of STRIMZI_CRDS) {
      const patch = patches.find((p) => (p.inputs.metadata as { name: string }).name === name)!;
      const crd = parse(upstream(file).toString("utf8")) as { metadata: { labels: object }; spec: object };
      expect(patch.inputs).toEqual({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: {
          name,
          labels: crd.metadata.labels,
          annotations: {
            "pulumi.com/patchForce": "true",
            [CRD_SOURCE_ANNOTATION]: `${strimziCrdUrl("1.2.0", file)} sha256:${STRIMZI_CRD_SHA256["1.2.0"]![file]}`,
          },
        },
        spec: crd.spec,
      });
      // A patch is never a CRD the program could delete (the provider relinquishes it instead).
      expect(patch).not.toHaveProperty("retainOnDelete");
    }
    const release = resources.find((r) => r.type === RELEASE)!;
    expect(release.inputs).toMatchObject({ skipCrds: true, version: "1.2.0" });
    const urnOf = (crd: string) => `urn:pulumi:dev::streamforge::streamforge:kafka:StrimziOperator$${PATCH}::strimzi-crd-${crd}`;
    expect(release.dependsOn).toEqual(expect.arrayContaining(STRIMZI_CRDS.map((c) => urnOf(c.name))));
  });

  it("offline (render), dev and prod declare the patches with their source and no fetch", async () => {
    for (const stack of ["dev", "prod"]) {
      const { resources } = await renderStack(stack);
      const patches = resources.filter((r) => r.type === PATCH && r.name.startsWith("strimzi-crd-"));
      expect(patches.map((p) => (p.inputs.metadata as { annotations: Record<string, string> }).annotations[CRD_SOURCE_ANNOTATION])).toEqual(
        STRIMZI_CRDS.map((c) => `${strimziCrdUrl("1.2.0", c.file)} sha256:${STRIMZI_CRD_SHA256["1.2.0"]![c.file]}`),
      );
    }
    expect(served).toEqual([]);
    // The local platform runs no Strimzi operator: its stack applies no CRDs.
    expect((await renderStack("local")).resources.filter((r) => r.type === PATCH)).toEqual([]);
  });
});
