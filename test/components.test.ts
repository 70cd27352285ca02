/**
 * Wiring of each component under Pulumi's mock runtime: which resources it declares, with
 * which names, namespaces, providers and references to each other.
 */
import { CATALOGUE_OWNER_ANNOTATION, STACK_ANNOTATION } from "../infra/kafka/data-safety";
import type { PlatformConfig } from "../infra/config";
import { planTopics, planUsers } from "../infra/kafka/catalogue";
import { KafkaApiEntities } from "../infra/kafka/kafka-api-entities";
import { KafkaCluster } from "../infra/kafka/cluster";
import { StrimziEntities } from "../infra/kafka/strimzi-entities";
import { StrimziOperator } from "../infra/kafka/strimzi-operator";
import { PlatformNamespaces } from "../infra/kit/namespaces";
import { ROLLOUTS_CRD_SHA256 } from "../rollouts/crds";
import { createPlatform } from "../infra/platform";
import { type DeclaredResource, knownStacks, runUnderMocks } from "../infra/render/render";
import { committedConfig } from "./helpers";

const NO_RETIRE = { topics: {}, users: {}, nodePools: {}, scaleDown: {}, truncate: { topics: {}, brokers: {} } };
/** A KafkaCluster's arguments besides its settings: users in `stf`, nothing retired. */
const CLUSTER_CONTEXT = {
  catalogueOwner: "strimzi",
  externallyManagedUsers: [],
  usersNamespace: "stf",
  clientNamespaces: ["stf"],
  retire: NO_RETIRE,
  topicDeletion: true,
} as const;

const run = (program: () => void): Promise<DeclaredResource[]> =>
  runUnderMocks({ project: "streamforge", stack: "test", config: {} }, program).then((r) => r.resources);

const ofType = (resources: DeclaredResource[], type: string) => resources.filter((r) => r.type === type);
const byKind = (resources: DeclaredResource[], kind: string) => resources.filter((r) => r.inputs.kind === kind);

describe("PlatformNamespaces", () => {
  it("declares each namespace once, keeping the strictest Pod Security level", async () => {
    const resources = await run(() => {
      new PlatformNamespaces("ns", {
        create: true,
        keepData: { protect: true, retainOnDelete: true },
        namespaces: [
          { name: "kafka", podSecurity: "baseline" },
          { name: "kafka", podSecurity: "restricted" },
          { name: "stf", podSecurity: "baseline" },
        ],
      });
    });
    const namespaces = ofType(resources, "kubernetes:core/v1:Namespace").map((r) => r.inputs.metadata as any);
    expect(namespaces.map((m) => [m.name, m.labels["pod-security.kubernetes.io/enforce"]])).toEqual([
      ["kafka", "restricted"],
      ["stf", "baseline"],
    ]);
  });

  it("declares nothing when the namespaces are managed elsewhere", async () => {
    const resources = await run(() => {
      new PlatformNamespaces("ns", {
        create: false,
        keepData: { protect: true, retainOnDelete: true },
        namespaces: [{ name: "kafka", podSecurity: "restricted" }],
      });
    });
    expect(ofType(resources, "kubernetes:core/v1:Namespace")).toEqual([]);
  });
});

describe("StrimziOperator", () => {
  it("installs the pinned chart watching only the Kafka namespace", async () => {
    const { strimzi } = committedConfig("prod");
    const resources = await run(() => {
      new StrimziOperator("strimzi", { strimzi, watchNamespaces: ["kafka", "kafka", strimzi.namespace], offline: true });
    });
    const [release] = ofType(resources, "kubernetes:helm.sh/v3:Release");
    expect(release?.inputs).toMatchObject({
      chart: "oci://quay.io/strimzi-helm/strimzi-kafka-operator",
      version: "1.2.0",
      namespace: "strimzi",
      values: { watchNamespaces: ["kafka"], watchAnyNamespace: false },
    });
  });
});

describe("KafkaCluster", () => {
  it("declares the pools, the Kafka CR and the metrics ConfigMap it references", async () => {
    const { kafka, strimzi } = committedConfig("prod");
    const resources = await run(() => {
      new KafkaCluster("kafka", {
        kafka,
        strimzi,
        ...CLUSTER_CONTEXT,
      });
    });
    const pools = byKind(resources, "KafkaNodePool");
    expect(pools.map((p) => (p.inputs.metadata as any).labels["strimzi.io/cluster"])).toEqual(["k3", "k3"]);
    const [cr] = byKind(resources, "Kafka");
    const ref = (cr?.inputs.spec as any).kafka.metricsConfig.valueFrom.configMapKeyRef;
    const [configMap] = byKind(resources, "ConfigMap");
    expect((configMap?.inputs.metadata as any).name).toBe(ref.name);
    expect(Object.keys((configMap?.inputs as any).data)).toEqual([ref.key]);
    expect((cr?.inputs.metadata as any).namespace).toBe((configMap?.inputs.metadata as any).namespace);
  });

  it("declares no ConfigMap when JMX metrics are off", async () => {
    const { kafka, strimzi } = committedConfig("dev");
    const resources = await run(() => {
      new KafkaCluster("kafka", {
        kafka: { ...kafka, metrics: { jmxPrometheusExporter: false, kafkaExporter: false } },
        strimzi,
        ...CLUSTER_CONTEXT,
      });
    });
    expect(byKind(resources, "ConfigMap")).toEqual([]);
    expect((byKind(resources, "Kafka")[0]?.inputs.spec as any).kafka.metricsConfig).toBeUndefined();
  });
});

describe("StrimziEntities", () => {
  it("labels every topic and user with the cluster; topics in Kafka's namespace, users in the apps'", async () => {
    const config = committedConfig("dev");
    const resources = await run(() => {
      new StrimziEntities("catalogue", {
        clusterName: "k3",
        topicsNamespace: "kafka",
        usersNamespace: "stf",
        strimzi: config.strimzi,
        topics: planTopics(config.catalogue, 1),
        users: planUsers(config.catalogue),
        retire: NO_RETIRE,
      });
    });
    const topics = byKind(resources, "KafkaTopic");
    const users = byKind(resources, "KafkaUser");
    expect(topics).toHaveLength(Object.keys(config.catalogue.topics).length);
    expect(users).toHaveLength(Object.keys(config.catalogue.users).length);
    for (const r of [...topics, ...users]) {
      expect(r.inputs.apiVersion).toBe("kafka.strimzi.io/v1");
      expect(r.inputs.metadata).toMatchObject({ labels: { "strimzi.io/cluster": "k3" } });
    }
    expect(new Set(topics.map((r) => (r.inputs.metadata as any).namespace))).toEqual(new Set(["kafka"]));
    expect(new Set(users.map((r) => (r.inputs.metadata as any).namespace))).toEqual(new Set(["stf"]));
  });
});

describe("KafkaApiEntities", () => {
  const config = committedConfig("local-kafka-api");
  const topics = planTopics(config.catalogue, 1);
  const users = planUsers(config.catalogue);

  it("routes every topic, credential and ACL through its own admin provider", async () => {
    const resources = await run(() => {
      new KafkaApiEntities("catalogue", { connection: config.kafkaApi!, topics, users, credentialsNamespace: "stf", retire: NO_RETIRE });
    });
    const [provider] = ofType(resources, "pulumi:providers:kafka");
    // Provider inputs reach the mock JSON-encoded; TLS must be off explicitly for a plain listener.
    expect(provider?.inputs.tlsEnabled).toBe("false");
    expect(JSON.parse(String(provider?.inputs.bootstrapServers))).toEqual(["127.0.0.1:19092"]);
    const managed = resources.filter((r) => r.type.startsWith("kafka:index/"));
    expect(managed.length).toBeGreaterThan(0);
    for (const r of managed) expect(r.provider).toMatch(/pulumi:providers:kafka::catalogue-admin::/);
    expect(ofType(resources, "kafka:index/topic:Topic").map((r) => r.inputs.name)).toEqual(topics.map((t) => t.name));
    const acls = ofType(resources, "kafka:index/acl:Acl");
    expect(acls).toHaveLength(users.reduce((n, u) => n + u.acls.reduce((m, a) => m + a.operations.length, 0), 0));
  });

  it("writes each user's credentials to a Secret named after the user, keys as Strimzi writes them", async () => {
    const resources = await run(() => {
      new KafkaApiEntities("catalogue", { connection: config.kafkaApi!, topics, users, credentialsNamespace: "stf", retire: NO_RETIRE });
    });
    const secrets = byKind(resources, "Secret");
    expect(secrets.map((s) => (s.inputs.metadata as any).name).sort()).toEqual(users.map((u) => u.name).sort());
    for (const s of secrets) {
      expect((s.inputs.metadata as any).namespace).toBe("stf");
      expect(Object.keys(s.inputs.stringData as object).sort()).toEqual(["password", "sasl.jaas.config"]);
    }
    const creds = ofType(resources, "kafka:index/userScramCredential:UserScramCredential");
    expect(creds.map((c) => c.inputs.scramMechanism)).toEqual(users.map(() => "SCRAM-SHA-512"));
  });
});

describe("createPlatform", () => {
  const declare = async (config: PlatformConfig) => run(() => void createPlatform(config));

  it("with owner strimzi: topics and users are CRs only", async () => {
    const resources = await declare(committedConfig("dev"));
    expect(byKind(resources, "KafkaTopic").length).toBeGreaterThan(0);
    expect(resources.filter((r) => r.type.startsWith("kafka:"))).toEqual([]);
    expect((byKind(resources, "Kafka")[0]?.inputs.spec as any).entityOperator).toEqual({
      topicOperator: {},
      userOperator: { watchedNamespace: "stf" },
    });
  });

  it("with owner kafka-api: no KafkaTopic or KafkaUser CR, and the User Operator ignores those users", async () => {
    const resources = await declare(committedConfig("local-kafka-api"));
    expect(byKind(resources, "KafkaTopic")).toEqual([]);
    expect(byKind(resources, "KafkaUser")).toEqual([]);
    expect(ofType(resources, "kafka:index/topic:Topic").length).toBeGreaterThan(0);
    const env = (byKind(resources, "Kafka")[0]?.inputs.spec as any).entityOperator.template.userOperatorContainer.env;
    expect(env[0].value).toBe("^(arango-connector|loaders|queue-manager|self-healing-operator)$");
  });

  it("has the Strimzi operator watch the Kafka and apps namespaces (the users live in the latter)", async () => {
    const resources = await declare(committedConfig("prod"));
    const [release] = ofType(resources, "kubernetes:helm.sh/v3:Release");
    expect((release?.inputs.values as any).watchNamespaces).toEqual(["kafka", "stf"]);
  });

  it("installs no Strimzi operator where the stack says it is present", async () => {
    const resources = await declare(committedConfig("local"));
    expect(ofType(resources, "kubernetes:helm.sh/v3:Release")).toEqual([]);
  });
});

describe("namespaces", () => {
  it("creates the namespace the operator's Role lives in, whoever owns the catalogue", async () => {
    for (const stack of knownStacks()) {
      const config = committedConfig(stack);
      const resources = await run(() => void createPlatform(config));
      const namespaces = ofType(resources, "kubernetes:core/v1:Namespace").map((r) => (r.inputs.metadata as any).name);
      const roleNamespaces = byKind(resources, "Role").map((r) => (r.inputs.metadata as any).namespace);
      expect([stack, roleNamespaces.filter((ns) => !namespaces.includes(ns))]).toEqual([stack, []]);
    }
  });
});

describe("the stack's cluster", () => {
  it.each(knownStacks())("%s: every Kubernetes object goes through the stack's explicit provider", async (stack) => {
    const config = committedConfig(stack);
    const resources = await run(() => void createPlatform(config));
    const [provider] = ofType(resources, "pulumi:providers:kubernetes");
    expect(provider?.inputs).toMatchObject({ context: config.cluster!.context, deleteUnreachable: "false" });
    const kubernetes = resources.filter((r) => r.type.startsWith("kubernetes:"));
    expect(kubernetes.length).toBeGreaterThan(10);
    const strays = kubernetes.filter((r) => !/^urn:pulumi:.*::pulumi:providers:kubernetes::cluster::/.test(r.provider ?? ""));
    expect(strays.map((r) => `${r.type} ${r.name}`)).toEqual([]);
  });

  it("passes the kubeconfig path as configured, so the state does not depend on the machine", async () => {
    const config = committedConfig("local");
    const resources = await run(() => void createPlatform(config));
    expect(ofType(resources, "pulumi:providers:kubernetes")[0]?.inputs.kubeconfig).toBe(".local/state/kube/kubeconfig");
  });
});

describe("readiness", () => {
  const annotations = (r: DeclaredResource) => ((r.inputs.metadata as any).annotations ?? {}) as Record<string, string>;

  it("waits for Strimzi's Ready on the cluster, topics and users where Strimzi runs; never on node pools", async () => {
    const config = committedConfig("prod");
    const resources = await run(() => void createPlatform(config));
    // The Kafka CR also names the stack that declares it and the catalogue's owner (data-safety.ts STACK_ANNOTATION, CATALOGUE_OWNER_ANNOTATION).
    expect(annotations(byKind(resources, "Kafka")[0]!)).toEqual({
      "pulumi.com/waitFor": "condition=Ready",
      "pulumi.com/timeoutSeconds": "1800",
      [STACK_ANNOTATION]: "organization/streamforge/test",
      [CATALOGUE_OWNER_ANNOTATION]: "strimzi",
    });
    for (const kind of ["KafkaTopic", "KafkaUser"]) {
      const objects = byKind(resources, kind);
      expect(objects.length).toBeGreaterThan(0);
      for (const r of objects)
        expect(annotations(r)).toEqual({ "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "300" });
    }
    for (const r of byKind(resources, "KafkaNodePool")) expect(annotations(r)).toEqual({ "pulumi.com/skipAwait": "true" });
  });

  it("copies the cluster CA into the apps namespace once the cluster is Ready, where Strimzi runs", async () => {
    const resources = await run(() => void createPlatform(committedConfig("prod")));
    const copies = byKind(resources, "Secret").filter((r) => (r.inputs.metadata as any).name === "k3-cluster-ca-cert");
    expect(copies.map((r) => (r.inputs.metadata as any).namespace)).toEqual(["stf"]);
  });

  it("does not wait where no Strimzi operator runs (local), and copies nothing", async () => {
    const resources = await run(() => void createPlatform(committedConfig("local")));
    for (const kind of ["Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"])
      for (const r of byKind(resources, kind))
        expect(annotations(r)).toEqual({
          "pulumi.com/skipAwait": "true",
          ...(kind === "Kafka" ? { [STACK_ANNOTATION]: "organization/streamforge/test", [CATALOGUE_OWNER_ANNOTATION]: "strimzi" } : {}),
        });
    expect(byKind(resources, "Secret").filter((r) => (r.inputs.metadata as any).name === "k3-cluster-ca-cert")).toEqual([]);
  });
});

describe("the queue-manager canary", () => {
  it("installs the controller's v1.10.2 CRDs, each checked against its pinned sha256 and kept on delete, and its chart, where the stack installs it", async () => {
    const resources = await run(() => void createPlatform(committedConfig("dev")));
    // Offline, each group names the file and the sum `up` checks it against (rollouts/test/crds.test.ts fetches for real).
    const groups = ofType(resources, "kubernetes:yaml/v2:ConfigGroup");
    // Each CRD under them is kept on delete (infra/kit/test/kept-crds.itest.ts shows the engine doing it).
    expect(groups.map((r) => r.transforms)).toEqual(groups.map(() => ["keepCrdsOnDelete"]));
    const crds = groups.map((r) => r.inputs.yaml);
    expect(crds).toEqual(
      Object.entries(ROLLOUTS_CRD_SHA256["v1.10.2"]!).map(
        ([crd, sum]) => `# https://raw.githubusercontent.com/argoproj/argo-rollouts/v1.10.2/manifests/crds/${crd}-crd.yaml sha256:${sum}\n`,
      ),
    );
    const release = ofType(resources, "kubernetes:helm.sh/v3:Release").find((r) => r.inputs.name === "argo-rollouts");
    expect(release?.inputs).toMatchObject({ chart: "argo-rollouts", version: "2.41.0", namespace: "argo-rollouts", skipCrds: true });
  });

  it("makes `pulumi up` wait for the rollout's outcome, within the stack's timeout, on the stack's cluster", async () => {
    const resources = await run(() => void createPlatform(committedConfig("local")));
    const [rollout] = byKind(resources, "Rollout");
    expect((rollout?.inputs.metadata as any).annotations).toEqual({ "pulumi.com/skipAwait": "true" });
    const [outcome] = ofType(resources, "pulumi-nodejs:dynamic:Resource");
    expect(outcome?.inputs).toMatchObject({
      namespace: "stf",
      name: "queue-manager",
      kubeconfig: ".local/state/kube/kubeconfig",
      context: "streamforge-local",
      timeoutSeconds: 300,
      specHash: expect.stringMatching(/^[a-f0-9]{64}$/),
    });
    // The local platform runs the controller itself.
    expect(ofType(resources, "kubernetes:helm.sh/v3:Release")).toEqual([]);
  });

  it("returns at once where the stack opts out of waiting", async () => {
    const config = committedConfig("local");
    const resources = await run(
      () => void createPlatform({ ...config, rollouts: { ...config.rollouts!, await: { enabled: false, timeoutSeconds: 60 } } }),
    );
    expect((byKind(resources, "Rollout")[0]?.inputs.metadata as any).annotations).toEqual({ "pulumi.com/skipAwait": "true" });
  });
});
