/**
 * The Kafka area's settings: the Strimzi cluster operator, the Kafka cluster, the catalogue of
 * topics and users, and the admin connection the `kafka-api` owner uses. Schemas and the rules
 * between these keys; what each environment demands of them is in infra/config.ts.
 */
import { X509Certificate } from "node:crypto";

import { z } from "zod";
import { digestSchema } from "../kit/images";
import {
  type AreaConfig,
  type ConfigProblem,
  defineArea,
  dnsLabel,
  ipv4Cidr,
  problem,
  quantity,
  resourcesSchema,
  chartVersion,
  secretText,
} from "../kit/config-kit";
import { STRIMZI_KAFKA_VERSIONS, versionProblems } from "./kafka-changes";
import { STRIMZI_CRD_SHA256 } from "./strimzi-crds";

const STORAGE_TYPES = ["ephemeral", "persistent-claim"] as const;

const storageSchema = z.discriminatedUnion(
  "type",
  [
    z.strictObject({
      type: z.literal("ephemeral"),
      /** Upper bound of the emptyDir volume. */
      sizeLimit: quantity.optional(),
    }),
    z.strictObject({
      type: z.literal("persistent-claim"),
      /** Size of each JBOD volume. */
      size: quantity,
      /** StorageClass of the claims. */
      class: dnsLabel,
      /** Number of JBOD volumes per node. */
      volumes: z.int().min(1).max(16).default(1),
      /** Delete the claims when the cluster is deleted. */
      deleteClaim: z.boolean().default(false),
    }),
  ],
  { error: `one of ${STORAGE_TYPES.map((t) => JSON.stringify(t)).join(", ")}` },
);

const nodePoolSchema = z.strictObject({
  name: dnsLabel,
  roles: z
    .array(z.enum(["controller", "broker"]))
    .min(1)
    .refine((roles) => new Set(roles).size === roles.length, "each role at most once"),
  replicas: z.int().min(1).max(99),
  storage: storageSchema,
  resources: resourcesSchema,
});

const externalListenerSchema = z.strictObject({
  type: z.enum(["nodeport", "loadbalancer", "cluster-ip", "route", "tlsroute"]),
  port: z.int().min(1024).max(65535).default(9094),
  /** Source ranges allowed to connect (NetworkPolicy peers; load balancer source ranges). Empty: anyone. */
  allowedSourceRanges: z.array(ipv4Cidr).default([]),
});

const kafkaSchema = z.strictObject({
  clusterName: dnsLabel.default("k3"),
  namespace: dnsLabel.default("kafka"),
  /** Apache Kafka version the Strimzi operator runs. */
  version: z
    .string()
    .regex(/^4\.\d+\.\d+$/, "a Kafka 4.x version such as 4.2.0")
    .default("4.2.0"),
  metadataVersion: z
    .string()
    .regex(/^4\.\d+-IV\d+$/, "a KRaft metadata version such as 4.2-IV1")
    .optional(),
  nodePools: z.array(nodePoolSchema).min(1),
  listeners: z
    .strictObject({
      /** Plain (no TLS, no auth) internal listener on 9092; for dev only. */
      plain: z.boolean().default(false),
      external: externalListenerSchema.optional(),
    })
    .default({ plain: false }),
  replication: z.strictObject({
    factor: z.int().min(1),
    minInSyncReplicas: z.int().min(1),
  }),
  /** Node label used for rack awareness, e.g. topology.kubernetes.io/zone. */
  rackTopologyKey: z.string().min(1).optional(),
  podDisruptionBudget: z.strictObject({ maxUnavailable: z.int().min(0) }).optional(),
  metrics: z
    .strictObject({
      jmxPrometheusExporter: z.boolean().default(true),
      kafkaExporter: z.boolean().default(true),
    })
    .default({ jmxPrometheusExporter: true, kafkaExporter: true }),
  /**
   * Whether the brokers let topics be deleted (`delete.topic.enable`). Unset: off in prod, where a
   * deleted KafkaTopic then stays Terminating instead of deleting data, on elsewhere.
   */
  topicDeletion: z.boolean().optional(),
  /** Extra broker settings, merged over the ones derived from `replication`. */
  config: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
});

const seconds = z.int().min(30).max(7200);

const strimziSchema = z.strictObject({
  /** Install the cluster operator; false where it is already present. */
  install: z.boolean().default(true),
  namespace: dnsLabel.default("strimzi"),
  chart: z.string().default("oci://quay.io/strimzi-helm/strimzi-kafka-operator"),
  chartVersion: chartVersion.default("1.2.0"),
  /**
   * Wait for Strimzi to report the Kafka cluster, its node pools, topics and users Ready before
   * `pulumi up` goes on. false only where no Strimzi operator acts on the CRs (say why in the stack).
   */
  awaitReady: z.boolean().default(true),
  /** How long to wait for Ready, in seconds: the cluster (first start rolls every node), and each topic or user. */
  readyTimeoutSeconds: z
    .strictObject({ cluster: seconds.default(1800), entities: seconds.default(300) })
    .default({ cluster: 1800, entities: 300 }),
  /**
   * The digests of Strimzi's images at this release (`crane digest quay.io/strimzi/operator:1.2.0`),
   * so the cluster runs the content reviewed, not what a tag points at today; prod warns without
   * them. `operator`: the cluster, topic and user operators and the brokers' init container.
   * `kafka`: by Kafka version, the brokers' (and kafka_exporter's) image of that version.
   */
  digests: z
    .strictObject({
      operator: digestSchema.optional(),
      kafka: z.record(z.string().regex(/^\d+\.\d+\.\d+$/, "a Kafka version such as 4.3.0"), digestSchema).default({}),
    })
    .default({ kafka: {} }),
});

const kafkaTopicName = z
  .string()
  .max(249)
  .regex(/^[a-zA-Z0-9._-]+$/, "a Kafka topic name (letters, digits, '.', '_', '-')");

/** A topic reference in a user's grants: an exact name, or a prefix ending in `*`. */
const topicRef = z.string().regex(/^[a-zA-Z0-9._-]+\*?$/, "a topic name, or a prefix ending in '*'");

const topicSchema = z.strictObject({
  partitions: z.int().min(1).max(10000),
  /** Defaults to `kafka.replication.factor`. */
  replicas: z.int().min(1).optional(),
  config: z
    .looseObject({
      "retention.ms": z.int().min(-1).optional(),
      "cleanup.policy": z.enum(["delete", "compact", "compact,delete"]).optional(),
      "min.insync.replicas": z.int().min(1).optional(),
    })
    .default({}),
});

const userSchema = z.strictObject({
  /** The StreamForge service that uses this identity. */
  service: dnsLabel,
  /** Topics (or `prefix*`) the user may write to. */
  produce: z.array(topicRef).default([]),
  /** Topics (or `prefix*`) the user may read from. */
  consume: z.array(topicRef).default([]),
  /** Consumer groups (or `prefix*`) the user may join. */
  groups: z.array(topicRef).default([]),
});

const catalogueSchema = z.strictObject({
  /** Who materialises topics and users: Strimzi CRs or the Kafka admin API (@pulumi/kafka). */
  owner: z.enum(["strimzi", "kafka-api"]),
  topics: z.record(kafkaTopicName, topicSchema),
  users: z.record(dnsLabel, userSchema),
});

/**
 * How a stateful object leaves the program: `keep` releases it (it stays in the cluster with its
 * data or credentials, no longer managed by this stack); `delete` deletes it and its data.
 */
export const RETIRE_MODES = ["keep", "delete"] as const;
const retireMode = z.enum(RETIRE_MODES);
const confirmedValue = z.union([z.string(), z.number()]);

/**
 * The explicit, per-object confirmations that let a stateful object go (infra/kafka/data-safety.ts).
 * Without one, every Kafka object is protected: removing it, or destroying the stack, fails.
 */
const retireSchema = z.strictObject({
  /** Kafka topic name -> how it goes. Confirm here, `pulumi up` with the topic still in the catalogue, then remove it. */
  topics: z.record(kafkaTopicName, retireMode).default({}),
  /** Catalogue user -> how its KafkaUser and credentials go. */
  users: z.record(dnsLabel, retireMode).default({}),
  /** Node pool name -> how it goes (its brokers must hold no partition replicas: Strimzi refuses otherwise). */
  nodePools: z.record(dnsLabel, retireMode).default({}),
  /**
   * Node pool name -> its new, lower replica count: confirms that the brokers leaving hold no
   * partition replicas any more (moved by a KafkaRebalance in remove-brokers mode, or
   * kafka-reassign-partitions). Strimzi keeps the old count while they do (infra/kafka/kafka-changes.ts).
   */
  scaleDown: z.record(dnsLabel, z.int().min(0)).default({}),
  /**
   * Config changes that delete records already written (infra/kafka/truncation.ts): topic -> key ->
   * its new value, and the brokers' keys the same way. Each names the exact value of one change
   * ("default" where the key is removed), set in that change and removed by the next one that moves it.
   */
  truncate: z
    .strictObject({
      topics: z.record(kafkaTopicName, z.record(z.string(), confirmedValue)).default({}),
      brokers: z.record(z.string(), confirmedValue).default({}),
    })
    .default({ topics: {}, brokers: {} }),
  /** The whole stack, before `pulumi destroy`: every Kafka object and the namespaces holding them. */
  stack: retireMode.optional(),
});

/** The certificates of a PEM text, each parsed as X.509; undefined when there is none or one is not a certificate. */
export function pemCertificates(pem: string): X509Certificate[] | undefined {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return undefined;
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch {
    return undefined;
  }
}

const kafkaApiSchema = z.strictObject({
  bootstrapServers: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, "host:port")).min(1),
  /**
   * Break glass, where Kafka cannot answer (its brokers down, perhaps by a change this stack made):
   * why. The preview then goes on without reading the catalogue's topics (kafka-api-live.ts) and
   * warns that no topic change is judged against Kafka. Remove it once Kafka answers.
   */
  unreachable: z.string().min(1).optional(),
  tls: z.boolean(),
  skipTlsVerify: z.boolean().default(false),
  /**
   * The CA that signed the brokers' certificates (PEM, one certificate or more), where the system
   * does not trust it (a private CA, Strimzi's cluster CA): trusted beside the default CAs, by the
   * Kafka provider (Mongey/terraform-provider-kafka kafka/config.go `newTLSConfig` appends it to
   * the system pool) and by the preview's read of the topics (kafka-api-live.ts, Node's default
   * set) alike.
   */
  caCertificate: z
    .string()
    .refine((pem) => pemCertificates(pem) !== undefined, "PEM certificates (-----BEGIN CERTIFICATE----- blocks, each one X.509)")
    .optional(),
  sasl: z
    .strictObject({
      mechanism: z.enum(["plain", "scram-sha256", "scram-sha512"]),
      username: z.string().min(1),
    })
    .optional(),
});

export const kafkaArea = defineArea({
  keys: {
    strimzi: strimziSchema.default(strimziSchema.parse({})),
    kafka: kafkaSchema,
    catalogue: catalogueSchema,
    kafkaApi: kafkaApiSchema.optional(),
    retire: retireSchema.default(retireSchema.parse({})),
    /** SASL password of kafkaApi.sasl.username. */
    kafkaApiPassword: secretText,
  },
  secrets: ["kafkaApiPassword"],
  rules: (config) => [
    ...clusterRules(config.kafka),
    ...versionProblems(config.kafka, config.strimzi.chartVersion),
    ...digestVersionProblems(config.strimzi),
    ...crdPinProblems(config.strimzi),
    ...catalogueRules(config),
    ...kafkaApiRules(config),
  ],
});

/** A pinned Kafka image names a version Strimzi's release has an image of (kafka-changes.ts `STRIMZI_KAFKA_VERSIONS`). */
function digestVersionProblems(strimzi: z.output<typeof strimziSchema>): ConfigProblem[] {
  const supported = STRIMZI_KAFKA_VERSIONS[strimzi.chartVersion];
  if (!supported) return []; // versionProblems names the release
  return Object.keys(strimzi.digests.kafka)
    .filter((version) => !(version in supported))
    .map((version) =>
      problem(
        "strimzi",
        ["digests", "kafka", version],
        `expected a Kafka version Strimzi ${strimzi.chartVersion} has an image of (${Object.keys(supported).join(", ")}); found "${version}"`,
      ),
    );
}

/** The program applies the release's CRDs only with their sums pinned (strimzi-crds.ts). */
function crdPinProblems(strimzi: z.output<typeof strimziSchema>): ConfigProblem[] {
  if (!strimzi.install || strimzi.chartVersion in STRIMZI_CRD_SHA256) return [];
  return [
    problem(
      "strimzi",
      ["chartVersion"],
      `expected a Strimzi release whose CRD checksums infra/kafka/strimzi-crds.ts pins (${Object.keys(STRIMZI_CRD_SHA256).join(", ")}); found "${strimzi.chartVersion}". Add the sha256 of each of its packaging/install/cluster-operator/04x-Crd-*.yaml there first`,
    ),
  ];
}

export type KafkaAreaConfig = AreaConfig<typeof kafkaArea>;
export type StorageConfig = z.output<typeof storageSchema>;
export type NodePoolConfig = z.output<typeof nodePoolSchema>;
export type KafkaConfig = z.output<typeof kafkaSchema>;
export type StrimziConfig = z.output<typeof strimziSchema>;
export type TopicConfig = z.output<typeof topicSchema>;
export type UserConfig = z.output<typeof userSchema>;
export type CatalogueConfig = z.output<typeof catalogueSchema>;
export type KafkaApiConfig = z.output<typeof kafkaApiSchema>;
export type RetireMode = z.output<typeof retireMode>;
export type RetireConfig = z.output<typeof retireSchema>;

/** Whether the brokers delete topics: the stack's choice, else off in prod only. */
export function topicDeletionEnabled(kafka: KafkaConfig, environment: string): boolean {
  return kafka.topicDeletion ?? environment !== "prod";
}

/** Brokers and controllers of the configured node pools. */
export function nodeCounts(kafka: KafkaConfig): { brokers: number; controllers: number } {
  const count = (role: "broker" | "controller") =>
    kafka.nodePools.filter((p) => p.roles.includes(role)).reduce((n, p) => n + p.replicas, 0);
  return { brokers: count("broker"), controllers: count("controller") };
}

function clusterRules(kafka: KafkaConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { brokers, controllers } = nodeCounts(kafka);
  const names = kafka.nodePools.map((p) => p.name);
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i) problems.push(problem("kafka", ["nodePools", i, "name"], `duplicate node pool name "${name}"`));
  });
  if (brokers === 0) problems.push(problem("kafka", ["nodePools"], "expected at least one pool with the broker role; found none"));
  if (controllers === 0)
    problems.push(problem("kafka", ["nodePools"], "expected at least one pool with the controller role (KRaft); found none"));
  if (controllers % 2 === 0 && controllers > 0)
    problems.push(problem("kafka", ["nodePools"], `expected an odd number of controllers for a KRaft quorum; found ${controllers}`));
  if (kafka.replication.factor > brokers)
    problems.push(
      problem("kafka", ["replication", "factor"], `expected at most the number of brokers (${brokers}); found ${kafka.replication.factor}`),
    );
  if ("delete.topic.enable" in kafka.config)
    problems.push(
      problem(
        "kafka",
        ["config", "delete.topic.enable"],
        "expected streamforge:kafka.topicDeletion instead (it knows each environment's default); found it set here",
      ),
    );
  if (kafka.replication.minInSyncReplicas > kafka.replication.factor)
    problems.push(
      problem(
        "kafka",
        ["replication", "minInSyncReplicas"],
        `expected at most replication.factor (${kafka.replication.factor}); found ${kafka.replication.minInSyncReplicas}`,
      ),
    );
  return problems;
}

function catalogueRules({ kafka, catalogue }: { readonly kafka: KafkaConfig; readonly catalogue: CatalogueConfig }): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { brokers } = nodeCounts(kafka);
  for (const [topic, spec] of Object.entries(catalogue.topics)) {
    const replicas = spec.replicas ?? kafka.replication.factor;
    if (replicas > brokers)
      problems.push(
        problem("catalogue", ["topics", topic, "replicas"], `expected at most the number of brokers (${brokers}); found ${replicas}`),
      );
    const minIsr = spec.config["min.insync.replicas"];
    if (typeof minIsr === "number" && minIsr > replicas)
      problems.push(
        problem(
          "catalogue",
          ["topics", topic, "config", "min.insync.replicas"],
          `expected at most the topic's replicas (${replicas}); found ${minIsr}`,
        ),
      );
  }
  const topics = Object.keys(catalogue.topics);
  for (const [user, spec] of Object.entries(catalogue.users)) {
    for (const field of ["produce", "consume"] as const) {
      spec[field].forEach((ref, i) => {
        if (!ref.endsWith("*") && !topics.includes(ref))
          problems.push(
            problem(
              "catalogue",
              ["users", user, field, i],
              `expected a topic of streamforge:catalogue.topics (${topics.join(", ")}) or a prefix ending in '*'; found "${ref}"`,
            ),
          );
      });
    }
  }
  return problems;
}

/** The admin connection the `kafka-api` owner needs, and its password exactly where SASL is on. */
function kafkaApiRules(config: {
  readonly catalogue: CatalogueConfig;
  readonly kafkaApi?: KafkaApiConfig | undefined;
  readonly kafkaApiPassword?: unknown;
}): ConfigProblem[] {
  const owned = config.catalogue.owner === "kafka-api";
  const sasl = owned && config.kafkaApi?.sasl !== undefined;
  const hasPassword = config.kafkaApiPassword !== undefined;
  if (owned && !config.kafkaApi)
    return [
      problem(
        "kafkaApi",
        [],
        "expected the admin connection (bootstrapServers, tls, sasl) because streamforge:catalogue.owner is kafka-api; found nothing",
      ),
    ];
  if (config.kafkaApi?.caCertificate !== undefined && !config.kafkaApi.tls)
    return [problem("kafkaApi", ["caCertificate"], "expected streamforge:kafkaApi.tls true to use a CA certificate; found tls false")];
  if (config.kafkaApi?.caCertificate !== undefined && config.kafkaApi.skipTlsVerify)
    return [
      problem(
        "kafkaApi",
        ["skipTlsVerify"],
        "expected false beside streamforge:kafkaApi.caCertificate (a CA is given to verify the brokers); found true",
      ),
    ];
  if (sasl && !hasPassword)
    return [problem("kafkaApiPassword", [], "expected a secret password because streamforge:kafkaApi.sasl is set; found nothing")];
  if (!sasl && hasPassword)
    return [
      problem(
        "kafkaApiPassword",
        [],
        "expected streamforge:catalogue.owner kafka-api with streamforge:kafkaApi.sasl to use it; found neither. Remove it",
      ),
    ];
  return [];
}
