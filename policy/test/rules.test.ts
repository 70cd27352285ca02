import { chaosDurationCap, chaosProductionOptIn, OPT_IN_ANNOTATION } from "../rules/chaos";
import { ENVIRONMENT_TAG, environmentOf } from "../rules/common";
import { noPlainSecrets, secretKeyName } from "../rules/config-secrets";
import { containerCpuLimit, containerResources } from "../rules/containers";
import { imageDigestInProduction, imagePinned, parseImage } from "../rules/images";
import { kafkaListeners, kafkaReplication } from "../rules/kafka";
import { podSecurity } from "../rules/pod-security";
import { analysisGuardsEmptyResults, rolloutAnalysis } from "../rules/rollouts";
import { loadBalancerSourceRanges } from "../rules/services";
import type { Rule } from "../rules/common";
import { type RunOptions, UNKNOWN_STRING, runResourcePolicy } from "./harness";

/** A restricted, fully specified container; tests change one field at a time. */
const goodContainer = () => ({
  name: "app",
  image: "ghcr.io/example/app:1.2.3",
  resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
  securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
});

const deployment = (change: (c: any, pod: any) => void = () => {}) => {
  const container: any = goodContainer();
  const pod: any = {
    securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
    containers: [container],
  };
  change(container, pod);
  return {
    type: "kubernetes:apps/v1:Deployment",
    name: "app-deployment",
    inputs: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "app", namespace: "stf" }, spec: { template: { spec: pod } } },
  };
};

const WHERE = 'Deployment stf/app (resource "app-deployment"), container "app" (spec.template.spec.containers[0])';

async function run(rule: Rule<any>, resource: { type: string; name: string; inputs: any }, options: RunOptions = {}) {
  return runResourcePolicy(rule.policy, resource, options);
}
const violationsOf = async (rule: Rule<any>, resource: { type: string; name: string; inputs: any }, options: RunOptions = {}) =>
  (await run(rule, resource, options)).violations;

const PROD_TAGS = { [ENVIRONMENT_TAG]: "prod" };
const DEV_TAGS = { [ENVIRONMENT_TAG]: "dev" };

describe("environment", () => {
  const tags = (value?: string) => new Map(value === undefined ? [] : [[ENVIRONMENT_TAG, value]]);
  it("is the stack tag or the policy config, production when either says prod", () => {
    expect(environmentOf(tags("prod"), {})).toEqual({ production: true });
    expect(environmentOf(tags("dev"), {})).toEqual({ production: false });
    expect(environmentOf(tags(), { environment: "local" })).toEqual({ production: false });
    expect(environmentOf(tags(), { environment: "prod" })).toEqual({ production: true });
    // The stricter of the two: a config cannot talk a prod-tagged stack out of the production rules.
    expect(environmentOf(tags("prod"), { environment: "dev" })).toEqual({ production: true });
  });
  it("fails closed: production when neither is declared or a value is not an environment", () => {
    expect(environmentOf(tags(), {})).toMatchObject({ production: true, problem: expect.stringContaining("found neither") });
    expect(environmentOf(tags("production"), {})).toEqual({
      production: true,
      problem: `the stack tag "${ENVIRONMENT_TAG}": expected one of local, dev, prod; found "production", so the production rules apply`,
    });
  });
  it("a prod-only rule applies to an undeclared stack, not to a declared dev one", async () => {
    const kafka = { type: "kubernetes:kafka.strimzi.io/v1:Kafka", name: "k", inputs: { kind: "Kafka", metadata: { name: "k" }, spec: {} } };
    expect((await run(kafkaListeners, kafka, { stack: "prod-eu" })).notApplicable).toBeUndefined();
    expect((await run(kafkaListeners, kafka, { stack: "prod-eu", tags: PROD_TAGS })).violations).toHaveLength(1);
    expect((await run(kafkaListeners, kafka, { stack: "prod", tags: DEV_TAGS })).notApplicable).toBe("applies to production stacks only");
  });
});

describe("container-resources (mandatory)", () => {
  it("passes a container with requests and a memory limit", async () => {
    expect(
      await violationsOf(
        containerResources,
        deployment((c) => delete c.resources.limits.cpu),
      ),
    ).toEqual([]);
  });
  it("names each missing request or limit", async () => {
    expect(
      await violationsOf(
        containerResources,
        deployment((c) => (c.resources = { requests: { cpu: "100m" } })),
      ),
    ).toEqual([
      `${WHERE}: resources.requests.memory: expected a memory request such as "256Mi"; found none`,
      `${WHERE}: resources.limits.memory: expected a memory limit such as "256Mi"; found none`,
    ]);
  });
  it("covers init containers and CronJobs, and does not apply to a Service", async () => {
    const cron = {
      type: "kubernetes:batch/v1:CronJob",
      name: "c",
      inputs: {
        kind: "CronJob",
        metadata: { name: "c" },
        spec: { jobTemplate: { spec: { template: { spec: { initContainers: [{ name: "i" }], containers: [goodContainer()] } } } } },
      },
    };
    expect(await violationsOf(containerResources, cron)).toHaveLength(3);
    expect((await run(containerResources, { type: "kubernetes:core/v1:Service", name: "s", inputs: {} })).notApplicable).toMatch(
      /applies to Kubernetes workloads/,
    );
  });
});

describe("container-cpu-limit (advisory)", () => {
  it("passes with a CPU limit, flags its absence", async () => {
    expect(containerCpuLimit.enforcementLevel).toBe("advisory");
    expect(await violationsOf(containerCpuLimit, deployment())).toEqual([]);
    expect(
      await violationsOf(
        containerCpuLimit,
        deployment((c) => delete c.resources.limits.cpu),
      ),
    ).toEqual([`${WHERE}: resources.limits.cpu: expected a CPU limit such as "100m"; found none`]);
  });
});

describe("image-pinned (mandatory)", () => {
  it("parses registries with ports, tags and digests", () => {
    expect(parseImage("registry.local:5000/streamforge/op")).toEqual({ repository: "registry.local:5000/streamforge/op" });
    expect(parseImage("registry.local:5000/op:dev")).toEqual({ repository: "registry.local:5000/op", tag: "dev" });
    expect(parseImage(`a/b:1@sha256:${"a".repeat(64)}`)).toEqual({ repository: "a/b", tag: "1", digest: `sha256:${"a".repeat(64)}` });
  });
  it("passes a version tag and a digest", async () => {
    expect(await violationsOf(imagePinned, deployment())).toEqual([]);
    expect(
      await violationsOf(
        imagePinned,
        deployment((c) => (c.image = `ghcr.io/x/app@sha256:${"f".repeat(64)}`)),
      ),
    ).toEqual([]);
  });
  it("refuses latest, no tag, and a registry port mistaken for a tag", async () => {
    expect(
      await violationsOf(
        imagePinned,
        deployment((c) => (c.image = "ghcr.io/example/app:latest")),
      ),
    ).toEqual([`${WHERE}: image: expected a version tag or a sha256 digest; found "ghcr.io/example/app:latest" with the tag "latest"`]);
    expect(
      await violationsOf(
        imagePinned,
        deployment((c) => (c.image = "registry.local:5000/app")),
      ),
    ).toEqual([
      `${WHERE}: image: expected a version tag or a sha256 digest; found "registry.local:5000/app" with no tag (the registry's latest)`,
    ]);
  });
  it("cannot run on an image unknown at preview: the engine reports that as advisory", async () => {
    expect(
      (
        await run(
          imagePinned,
          deployment((c) => (c.image = UNKNOWN_STRING)),
        )
      ).unknown,
    ).toMatch(/can't be known during preview/);
  });
});

describe("image-digest-in-production (advisory)", () => {
  it("flags a tag in prod, passes a digest, does not apply elsewhere", async () => {
    expect(await violationsOf(imageDigestInProduction, deployment(), { tags: PROD_TAGS })).toEqual([
      `${WHERE}: image: expected a digest reference (name@sha256:...) in production; found "ghcr.io/example/app:1.2.3"`,
    ]);
    expect(
      await violationsOf(
        imageDigestInProduction,
        deployment((c) => (c.image = `x/app@sha256:${"0".repeat(64)}`)),
        { tags: PROD_TAGS },
      ),
    ).toEqual([]);
    expect((await run(imageDigestInProduction, deployment(), { tags: DEV_TAGS })).notApplicable).toBe("applies to production stacks only");
  });
});

describe("pod-security-restricted (mandatory)", () => {
  it("passes a restricted pod", async () => {
    expect(await violationsOf(podSecurity, deployment())).toEqual([]);
  });
  it("names root, a writable root filesystem, kept capabilities and escalation", async () => {
    const bad = deployment((c, pod) => {
      pod.securityContext = {};
      c.securityContext = { runAsUser: 0, capabilities: { drop: ["NET_RAW"] } };
    });
    expect(await violationsOf(podSecurity, bad)).toEqual([
      `${WHERE}: securityContext.capabilities.drop: expected ["ALL"]; found ["NET_RAW"]`,
      `${WHERE}: securityContext.seccompProfile.type: expected "RuntimeDefault" or "Localhost" (on the container or spec.template.spec.securityContext); found none`,
      `${WHERE}: securityContext.allowPrivilegeEscalation: expected false; found none`,
      `${WHERE}: securityContext.runAsNonRoot: expected true (on the container or spec.template.spec.securityContext); found none`,
      `${WHERE}: securityContext.runAsUser: expected a non-zero user id; found 0 (root)`,
      `${WHERE}: securityContext.readOnlyRootFilesystem: expected true (mount an emptyDir where it writes); found none`,
    ]);
  });
});

const kafka = (change: (spec: any) => void = () => {}) => {
  const spec: any = {
    kafka: {
      config: {
        "default.replication.factor": 3,
        "min.insync.replicas": 2,
        "offsets.topic.replication.factor": 3,
        "transaction.state.log.replication.factor": 3,
        "transaction.state.log.min.isr": 2,
      },
      listeners: [{ name: "tls", port: 9093, type: "internal", tls: true, authentication: { type: "scram-sha-512" } }],
    },
  };
  change(spec);
  return {
    type: "kubernetes:kafka.strimzi.io/v1:Kafka",
    name: "kafka-kafka",
    inputs: { kind: "Kafka", metadata: { name: "k3", namespace: "kafka" }, spec },
  };
};
const K3 = 'Kafka kafka/k3 (resource "kafka-kafka")';
const PROD = { tags: PROD_TAGS };

describe("kafka-production-replication (mandatory, prod)", () => {
  it("passes RF 3 / min ISR 2, and does not apply outside prod", async () => {
    expect(await violationsOf(kafkaReplication, kafka(), PROD)).toEqual([]);
    expect(
      (
        await run(
          kafkaReplication,
          kafka((s) => (s.kafka.config = {})),
          { tags: DEV_TAGS },
        )
      ).notApplicable,
    ).toBeDefined();
  });
  it("flags a low replication factor and min ISR, on the cluster and on topics", async () => {
    const low = kafka((s) => {
      s.kafka.config["default.replication.factor"] = 1;
      s.kafka.config["min.insync.replicas"] = "1";
    });
    expect(await violationsOf(kafkaReplication, low, PROD)).toEqual([
      `${K3}: spec.kafka.config["default.replication.factor"]: expected a replication factor >= 3; found 1`,
      `${K3}: spec.kafka.config["min.insync.replicas"]: expected min.insync.replicas >= 2; found "1"`,
    ]);
    const topic = {
      type: "kafka:index/topic:Topic",
      name: "t",
      inputs: { name: "t", partitions: 3, replicationFactor: 1, config: { "min.insync.replicas": "1" } },
    };
    expect(await violationsOf(kafkaReplication, topic, PROD)).toEqual([
      'Topic (resource "t"): replicationFactor: expected a replication factor >= 3; found 1',
      'Topic (resource "t"): config["min.insync.replicas"]: expected min.insync.replicas >= 2; found "1"',
    ]);
    const crTopic = {
      type: "kubernetes:kafka.strimzi.io/v1:KafkaTopic",
      name: "q",
      inputs: { kind: "KafkaTopic", metadata: { name: "q" }, spec: { replicas: 3 } },
    };
    expect(await violationsOf(kafkaReplication, crTopic, PROD)).toEqual([]);
  });
});

describe("kafka-production-listeners (mandatory, prod)", () => {
  it("passes TLS listeners with authentication", async () => {
    expect(await violationsOf(kafkaListeners, kafka(), PROD)).toEqual([]);
  });
  it("flags a plain, unauthenticated listener", async () => {
    const plain = kafka((s) => s.kafka.listeners.unshift({ name: "plain", port: 9092, type: "internal", tls: false }));
    expect(await violationsOf(kafkaListeners, plain, PROD)).toEqual([
      `${K3}: spec.kafka.listeners[0] ("plain", "internal").tls: expected true; found false`,
      `${K3}: spec.kafka.listeners[0] ("plain", "internal").authentication.type: expected an authentication type (scram-sha-512, tls, oauth, custom); found none`,
    ]);
  });
});

const rollout = (canary: any) => ({
  type: "kubernetes:argoproj.io/v1alpha1:Rollout",
  name: "qm",
  inputs: { kind: "Rollout", metadata: { name: "queue-manager", namespace: "stf" }, spec: { strategy: { canary } } },
});

describe("rollout-analysis (mandatory)", () => {
  it("passes a background or step analysis", async () => {
    expect(await violationsOf(rolloutAnalysis, rollout({ analysis: { templates: [{ templateName: "t" }] }, steps: [] }))).toEqual([]);
    expect(
      await violationsOf(rolloutAnalysis, rollout({ steps: [{ setWeight: 10 }, { analysis: { templates: [{ templateName: "t" }] } }] })),
    ).toEqual([]);
  });
  it("flags a canary promoted on time alone", async () => {
    expect(await violationsOf(rolloutAnalysis, rollout({ steps: [{ setWeight: 50 }, { pause: { duration: "1m" } }] }))).toEqual([
      'Rollout stf/queue-manager (resource "qm"): spec.strategy.canary: expected an analysis (spec.strategy.canary.analysis.templates or a step\'s analysis.templates); found none, so the canary is promoted on time alone',
    ]);
  });
});

const template = (metric: any) => ({
  type: "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate",
  name: "tpl",
  inputs: {
    kind: "AnalysisTemplate",
    metadata: { name: "error-rate", namespace: "stf" },
    spec: { metrics: [{ name: "m", provider: { prometheus: { query: "q" } }, ...metric }] },
  },
});
const TPL = 'AnalysisTemplate stf/error-rate (resource "tpl"): spec.metrics[0] ("m")';

describe("analysis-guards-empty-results (mandatory)", () => {
  it("passes the program's guard, and an explicit empty-is-failure", async () => {
    const present = "len(result) > 0 && !isNaN(result[0])";
    expect(
      await violationsOf(
        analysisGuardsEmptyResults,
        template({ successCondition: `${present} && result[0] <= 0.01`, failureCondition: `${present} && result[0] > 0.01` }),
      ),
    ).toEqual([]);
    expect(
      await violationsOf(
        analysisGuardsEmptyResults,
        template({ failureCondition: "len(result) == 0 || isNaN(result[0]) || result[0] > 0.01" }),
      ),
    ).toEqual([]);
  });
  it("flags unguarded conditions and a metric without any", async () => {
    expect(
      await violationsOf(
        analysisGuardsEmptyResults,
        template({ successCondition: "result[0] <= 0.01", failureCondition: "all(result, {# > 0.01})" }),
      ),
    ).toEqual([
      `${TPL}.successCondition: expected an empty-result guard such as \`len(result) > 0 &&\` and a NaN guard such as \`!isNaN(result[0]) &&\`; found "result[0] <= 0.01"`,
      `${TPL}.failureCondition: expected an empty-result guard such as \`len(result) > 0 &&\`; found "all(result, {# > 0.01})"`,
    ]);
    expect(await violationsOf(analysisGuardsEmptyResults, template({}))).toEqual([
      `${TPL}: expected a successCondition or failureCondition; found neither, so every measurement succeeds`,
    ]);
  });
});

const engine = (duration: string | undefined, annotations: Record<string, string> = {}) => ({
  type: "kubernetes:litmuschaos.io/v1alpha1:ChaosEngine",
  name: "eng",
  inputs: {
    kind: "ChaosEngine",
    metadata: { name: "kafka-broker-failure", namespace: "chaos", annotations },
    spec: {
      experiments: [
        {
          name: "pod-delete",
          spec: { components: { env: duration === undefined ? [] : [{ name: "TOTAL_CHAOS_DURATION", value: duration }] } },
        },
      ],
    },
  },
});
const ENGINE = 'ChaosEngine chaos/kafka-broker-failure (resource "eng")';

describe("chaos-production-opt-in (mandatory, prod)", () => {
  it("passes with the pack's opt-in or the engine's annotation; does not apply outside prod", async () => {
    expect(
      await violationsOf(chaosProductionOptIn, engine("60"), {
        tags: PROD_TAGS,
        config: { "chaos-production-opt-in": { allowInProduction: true } },
      }),
    ).toEqual([]);
    expect(await violationsOf(chaosProductionOptIn, engine("60", { [OPT_IN_ANNOTATION]: "true" }), PROD)).toEqual([]);
    expect((await run(chaosProductionOptIn, engine("60"), { tags: DEV_TAGS })).notApplicable).toBe("applies to production stacks only");
  });
  it("flags an engine in prod without it", async () => {
    expect(await violationsOf(chaosProductionOptIn, engine("60"), PROD)).toEqual([
      `${ENGINE}: metadata.annotations["${OPT_IN_ANNOTATION}"]: expected "true" (or allowInProduction: true in the chaos-production-opt-in policy config) for a ChaosEngine in a production stack; found none`,
    ]);
  });
});

describe("chaos-production-duration-cap (mandatory, prod)", () => {
  it("passes a duration within the cap", async () => {
    expect(await violationsOf(chaosDurationCap, engine("900"), PROD)).toEqual([]);
  });
  it("flags a missing or too long duration, with a configurable cap", async () => {
    const at = `${ENGINE}: spec.experiments[0] ("pod-delete").spec.components.env TOTAL_CHAOS_DURATION`;
    expect(await violationsOf(chaosDurationCap, engine(undefined), PROD)).toEqual([
      `${at}: expected whole seconds between 1 and 900; found none`,
    ]);
    expect(
      await violationsOf(chaosDurationCap, engine("300"), {
        tags: PROD_TAGS,
        config: { "chaos-production-duration-cap": { maxDurationSeconds: 120 } },
      }),
    ).toEqual([`${at}: expected whole seconds between 1 and 120; found "300"`]);
  });
});

describe("no-plain-secrets (mandatory)", () => {
  it("tells secret-looking keys from references to secrets", () => {
    expect(["KAFKA_PASSWORD", "apiKey", "db.password", "clientSecret", "GITHUB_TOKEN"].filter(secretKeyName)).toHaveLength(5);
    expect(["secretName", "tokenPath", "passwordFile", "existingSecretKey", "KAFKA_SASL_MECHANISM"].filter(secretKeyName)).toEqual([]);
  });
  it("passes env from a Secret and a plain ConfigMap", async () => {
    expect(
      await violationsOf(
        noPlainSecrets,
        deployment((c) => (c.env = [{ name: "KAFKA_PASSWORD", valueFrom: { secretKeyRef: { name: "u", key: "password" } } }])),
      ),
    ).toEqual([]);
    expect(
      await violationsOf(noPlainSecrets, {
        type: "kubernetes:core/v1:ConfigMap",
        name: "cm",
        inputs: { kind: "ConfigMap", metadata: { name: "cm" }, data: { "log.level": "info" } },
      }),
    ).toEqual([]);
  });
  it("flags a literal password in env, a private key in a ConfigMap, credentials in Helm values", async () => {
    expect(
      await violationsOf(
        noPlainSecrets,
        deployment((c) => (c.env = [{ name: "KAFKA_PASSWORD", value: "hunter2" }])),
      ),
    ).toEqual([
      `${WHERE}: env[0] KAFKA_PASSWORD.value: expected valueFrom.secretKeyRef; found a literal value under the secret-looking key "KAFKA_PASSWORD"`,
    ]);
    const cm = {
      type: "kubernetes:core/v1:ConfigMap",
      name: "cm",
      inputs: {
        kind: "ConfigMap",
        metadata: { name: "cm", namespace: "stf" },
        data: { "tls.key": "-----BEGIN RSA PRIVATE KEY-----\nMII..." },
      },
    };
    expect(await violationsOf(noPlainSecrets, cm)).toEqual([
      'ConfigMap stf/cm (resource "cm"): data["tls.key"]: expected a reference to a Kubernetes Secret (or a secret config value kept out of plain objects); found a PEM private key',
    ]);
    const helm = {
      type: "kubernetes:helm.sh/v3:Release",
      name: "rel",
      inputs: { values: { db: { url: "postgres://app:s3cret@db:5432/app", existingSecret: "db" } } },
    };
    expect(await violationsOf(noPlainSecrets, helm)).toEqual([
      'Release (resource "rel"): values.db.url: expected a reference to a Kubernetes Secret (or a secret config value kept out of plain objects); found credentials in a URL',
    ]);
  });
});

describe("loadbalancer-source-ranges (mandatory)", () => {
  const service = (spec: any) => ({
    type: "kubernetes:core/v1:Service",
    name: "svc",
    inputs: { kind: "Service", metadata: { name: "edge", namespace: "stf" }, spec },
  });
  it("passes a ClusterIP Service and a LoadBalancer with named ranges", async () => {
    expect(await violationsOf(loadBalancerSourceRanges, service({ ports: [] }))).toEqual([]);
    expect(
      await violationsOf(loadBalancerSourceRanges, service({ type: "LoadBalancer", loadBalancerSourceRanges: ["203.0.113.0/24"] })),
    ).toEqual([]);
  });
  it("flags a LoadBalancer open to all, and a Strimzi loadbalancer listener without ranges", async () => {
    expect(await violationsOf(loadBalancerSourceRanges, service({ type: "LoadBalancer" }))).toEqual([
      'Service stf/edge (resource "svc"): spec.loadBalancerSourceRanges: expected the CIDR ranges allowed to reach the load balancer, e.g. ["203.0.113.0/24"]; found none',
    ]);
    expect(
      await violationsOf(loadBalancerSourceRanges, service({ type: "LoadBalancer", loadBalancerSourceRanges: ["0.0.0.0/0"] })),
    ).toEqual([
      'Service stf/edge (resource "svc"): spec.loadBalancerSourceRanges: expected named ranges, not the whole internet; found ["0.0.0.0/0"]',
    ]);
    const ext = kafka((s) =>
      s.kafka.listeners.push({ name: "external", port: 9094, type: "loadbalancer", tls: true, authentication: { type: "tls" } }),
    );
    expect(await violationsOf(loadBalancerSourceRanges, ext)).toEqual([
      `${K3}: spec.kafka.listeners[1] ("external").configuration.loadBalancerSourceRanges: expected the CIDR ranges allowed to reach the load balancer, e.g. ["203.0.113.0/24"]; found none`,
    ]);
  });
});
