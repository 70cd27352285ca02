/**
 * Third-party images by digest: each area lists the images it deploys with the key that pins them
 * (infra/kit/images.ts), prod warns at every preview about those pinned by tag only, and a pinned
 * digest reaches every place the upstream charts and Strimzi read an image from.
 */
import { unpinnedImagesWarning, withDigest } from "../infra/kit/images";
import { LITMUS_OPERATOR } from "../chaos/litmus-operator";
import { thirdPartyImages } from "../infra/platform";
import { type HelmRelease, type KubernetesObject, knownStacks, renderStack } from "../infra/render/render";
import { committedConfig, rawStack, variantProblems } from "./helpers";
import { parsePlatformConfig } from "../infra/config";

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const [OPERATOR, KAFKA, ARGO] = [digest("a"), digest("b"), digest("c")];

/** prod with every digest its warning asks for. */
function pinProd(raw: Record<string, any>): void {
  raw.strimzi = { ...raw.strimzi, digests: { operator: OPERATOR, kafka: { [raw.kafka.version]: KAFKA } } };
  raw.rollouts = { ...raw.rollouts, controller: { ...raw.rollouts?.controller, digest: ARGO } };
}

const release = (releases: HelmRelease[], name: string) => releases.find((r) => r.name === name)!.values as Record<string, any>;
const kafkaCr = (manifests: KubernetesObject[]) => manifests.find((m) => m.kind === "Kafka")!.spec as Record<string, any>;

describe("prod names every third-party image pinned by tag only", () => {
  it("the committed prod stack: Strimzi's operator, its Kafka image and Argo's controller, each with its key", () => {
    const warning = unpinnedImagesWarning(thirdPartyImages(committedConfig("prod")));
    expect(warning?.split("\n")).toEqual([
      "prod: 3 third-party image(s) pinned by tag only, which whoever controls the registry can move:",
      "  - quay.io/strimzi/operator:1.2.0 (Strimzi's cluster, topic and user operators, the brokers' init container): set streamforge:strimzi.digests.operator",
      '  - quay.io/strimzi/kafka:1.2.0-kafka-4.2.0 (the Kafka 4.2.0 brokers, controllers and kafka_exporter): set streamforge:strimzi.digests.kafka["4.2.0"]',
      "  - quay.io/argoproj/argo-rollouts:v1.10.2 (the Argo Rollouts controller): set streamforge:rollouts.controller.digest",
      "Read each digest with `crane digest <ref>` where the registry is reachable, and set it (docs/security.md, Images).",
    ]);
  });

  it("the program logs that warning at every prod preview, and no other stack's", async () => {
    for (const stack of knownStacks()) {
      const { warnings } = await renderStack(stack);
      const expected = stack === "prod" ? [unpinnedImagesWarning(thirdPartyImages(committedConfig("prod")))] : [];
      expect([stack, warnings]).toEqual([stack, expected]);
    }
    const pinned = await renderStack("prod", { edit: pinProd });
    expect(pinned.warnings).toEqual([]);
  });

  it("with the digests it asks for, nothing is left to warn about", () => {
    const raw = structuredClone(rawStack("prod"));
    pinProd(raw);
    const config = parsePlatformConfig(raw, new Set());
    expect(thirdPartyImages(config).map((i) => i.ref)).toEqual([
      `quay.io/strimzi/operator:1.2.0@${OPERATOR}`,
      `quay.io/strimzi/kafka:1.2.0-kafka-4.2.0@${KAFKA}`,
      `quay.io/argoproj/argo-rollouts:v1.10.2@${ARGO}`,
    ]);
    expect(unpinnedImagesWarning(thirdPartyImages(config))).toBeUndefined();
  });

  it.each(knownStacks())("%s: every Helm release the stack installs has its images listed", async (stack) => {
    const { helmReleases } = await renderStack(stack);
    const refs = thirdPartyImages(committedConfig(stack)).map((i) => i.ref);
    const expected: Record<string, RegExp> = {
      "strimzi-cluster-operator": /^quay\.io\/strimzi\/operator:/,
      "argo-rollouts": /^quay\.io\/argoproj\/argo-rollouts:/,
    };
    for (const r of helmReleases) {
      expect([r.name, r.name in expected]).toEqual([r.name, true]);
      expect([r.name, refs.some((ref) => expected[r.name]!.test(ref))]).toEqual([r.name, true]);
    }
  });
});

describe("a pinned digest reaches every image the charts and Strimzi run", () => {
  it("prod: Strimzi's chart pins the operator and the three images it hands its operands; the Kafka CR runs the version's image", async () => {
    const { helmReleases, manifests } = await renderStack("prod", { edit: pinProd });
    const strimzi = release(helmReleases, "strimzi-cluster-operator");
    for (const key of ["image", "topicOperator", "userOperator", "kafkaInit"])
      expect([key, key === "image" ? strimzi.image : strimzi[key].image]).toEqual([key, { digest: OPERATOR }]);
    const spec = kafkaCr(manifests);
    expect(spec.kafka.image).toBe(`quay.io/strimzi/kafka:1.2.0-kafka-4.2.0@${KAFKA}`);
    // kafka_exporter would otherwise run the default version's image (KafkaExporter.java L140-144).
    expect(spec.kafkaExporter.image).toBe(spec.kafka.image);
    expect(release(helmReleases, "argo-rollouts").controller.image).toEqual({ tag: `v1.10.2@${ARGO}` });
  });

  it("unpinned, the charts and the Kafka CR are left to their own image maps", async () => {
    const { helmReleases, manifests } = await renderStack("prod");
    expect(release(helmReleases, "strimzi-cluster-operator").image).toBeUndefined();
    expect(kafkaCr(manifests).kafka.image).toBeUndefined();
    expect(release(helmReleases, "argo-rollouts").controller.image).toEqual({ tag: "v1.10.2" });
  });

  it("dev: Litmus' operator runs its pinned image and starts the pinned runner", async () => {
    const operator = withDigest("litmuschaos.docker.scarf.sh/litmuschaos/chaos-operator:3.28.0", OPERATOR);
    const runner = withDigest("registry:5000/litmuschaos/chaos-runner:3.28.0", ARGO);
    const { manifests } = await renderStack("dev", {
      edit: (raw: Record<string, any>) => {
        raw.chaos.operator = { ...raw.chaos.operator, image: operator };
        raw.chaos.chaosRunnerImage = runner;
      },
    });
    const container = (manifests.find((m) => m.kind === "Deployment" && m.metadata.name === LITMUS_OPERATOR) as any).spec.template.spec
      .containers[0];
    expect([container.image, container.env.find((e: any) => e.name === "CHAOS_RUNNER_IMAGE").value]).toEqual([operator, runner]);
  });
});

describe("bad pins are refused naming the key", () => {
  it("a malformed digest", () => {
    expect(variantProblems("prod", (raw) => (raw.strimzi.digests = { operator: "sha256:abc" }))).toEqual([
      'streamforge:strimzi.digests.operator: expected a digest such as sha256:<64 hex digits>; found "sha256:abc" (string)',
    ]);
  });

  it("a Kafka version Strimzi's release has no image of", () => {
    expect(variantProblems("prod", (raw) => (raw.strimzi.digests = { kafka: { "3.9.0": KAFKA } }))).toEqual([
      'streamforge:strimzi.digests.kafka.3.9.0: expected a Kafka version Strimzi 1.2.0 has an image of (4.2.0, 4.2.1, 4.3.0, 4.3.1); found "3.9.0"',
    ]);
  });

  it("prod with chaos: every chaos image by digest, the operator's and the schedule's included", () => {
    const problems = variantProblems("prod", (raw) => {
      raw.chaos = {
        ...(rawStack("dev").chaos as object),
        allowInProduction: true,
        runnerImage: `litmuschaos/go-runner:3.28.0@${ARGO}`,
        chaosRunnerImage: `litmuschaos/chaos-runner:3.28.0@${ARGO}`,
        schedule: { cron: "0 3 * * 1" },
      };
    });
    expect(problems.filter((p) => p.includes("pinned by digest"))).toEqual([
      'streamforge:chaos.operator.image: prod: expected an image pinned by digest (name:tag@sha256:<64 hex>); found "litmuschaos.docker.scarf.sh/litmuschaos/chaos-operator:3.28.0"',
      'streamforge:chaos.schedule.image: prod: expected an image pinned by digest (name:tag@sha256:<64 hex>); found "registry.k8s.io/kubectl:v1.34.2"',
    ]);
  });
});
