/**
 * Every stack setting of the program, read and validated in one place.
 *
 * `parsePlatformConfig` is pure: it takes the raw `streamforge:*` values of a stack and returns a
 * typed `PlatformConfig`, or throws a `ConfigError` naming each bad key by its full name
 * (`streamforge:kafka.nodePools[0].replicas`), what was expected and what was found.
 * `loadPlatformConfig` is the only place that reads Pulumi's runtime config.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

export const CONFIG_NAMESPACE = "streamforge";

/** Keys whose values must be Pulumi secrets (`pulumi config set --secret`). */
export const SECRET_KEYS = ["kafkaApiPassword", "operatorRegistryPassword"] as const;

export const ENVIRONMENTS = ["local", "dev", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "a lowercase DNS label (a-z, 0-9 and '-', at most 63)");

const quantity = z.string().regex(/^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/, "a Kubernetes quantity such as 500m or 2Gi");

const resourcesSchema = z.strictObject({
  requests: z.strictObject({ cpu: quantity, memory: quantity }),
  limits: z.strictObject({ cpu: quantity.optional(), memory: quantity }),
});

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

const nodeRole = z.enum(["controller", "broker"]);

const nodePoolSchema = z.strictObject({
  name: dnsLabel,
  roles: z
    .array(nodeRole)
    .min(1)
    .refine((roles) => new Set(roles).size === roles.length, "each role at most once"),
  replicas: z.int().min(1).max(99),
  storage: storageSchema,
  resources: resourcesSchema,
});

const externalListenerSchema = z.strictObject({
  type: z.enum(["nodeport", "loadbalancer", "cluster-ip", "route", "tlsroute"]),
  port: z.int().min(1024).max(65535).default(9094),
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
  /** Extra broker settings, merged over the ones derived from `replication`. */
  config: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
});

const strimziSchema = z.strictObject({
  /** Install the cluster operator; false where it is already present. */
  install: z.boolean().default(true),
  namespace: dnsLabel.default("strimzi"),
  chart: z.string().default("oci://quay.io/strimzi-helm/strimzi-kafka-operator"),
  chartVersion: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/, "an exact chart version such as 1.2.0")
    .default("1.2.0"),
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

const kafkaApiSchema = z.strictObject({
  bootstrapServers: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, "host:port")).min(1),
  tls: z.boolean(),
  skipTlsVerify: z.boolean().default(false),
  sasl: z
    .strictObject({
      mechanism: z.enum(["plain", "scram-sha256", "scram-sha512"]),
      username: z.string().min(1),
    })
    .optional(),
});

const appsSchema = z.strictObject({
  /** Namespace of the StreamForge services (queue-manager, worker Jobs). */
  namespace: dnsLabel.default("stf"),
});

const operatorImageSchema = z.union([
  z.strictObject({
    /** A prebuilt image reference, ideally by digest. */
    ref: z
      .string()
      .regex(/^[^\s:@]+(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$/, "an image reference such as registry/name:tag or name@sha256:..."),
  }),
  z.strictObject({
    /** Build operator/Dockerfile and push it here. */
    registry: z.string().min(1),
    repository: z.string().regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, "a lowercase repository path"),
    tag: z.string().regex(/^[\w][\w.-]{0,127}$/, "an image tag"),
    username: z.string().min(1).optional(),
  }),
]);

const operatorSchema = z.strictObject({
  enabled: z.boolean().default(true),
  image: operatorImageSchema,
  replicas: z.int().min(1).max(5).default(2),
  dryRun: z.boolean().default(false),
  /** Jobs of this namespace are watched; defaults to streamforge:apps.namespace. */
  watchNamespace: dnsLabel.optional(),
  /** The catalogue user the operator reads queue-events as. */
  kafkaUser: dnsLabel.default("self-healing-operator"),
  groupId: z.string().min(1).default("streamforge-self-healing"),
  /** Overrides of the operator's detection policy (see operator/src/core/policy.ts). */
  policy: z.record(z.string(), z.unknown()).default({}),
  /** Egress to the API server; it has no pod labels to select. */
  apiServerCidr: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "a CIDR such as 10.0.0.1/32")
    .default("0.0.0.0/0"),
});

const namespacesSchema = z.strictObject({
  /** Create the namespaces this stack uses; false where they are managed elsewhere. */
  create: z.boolean().default(true),
});

/** The top-level `streamforge:*` keys, each with its schema. */
const topLevel = {
  environment: z.enum(ENVIRONMENTS),
  namespaces: namespacesSchema.default({ create: true }),
  strimzi: strimziSchema.default({
    install: true,
    namespace: "strimzi",
    chart: "oci://quay.io/strimzi-helm/strimzi-kafka-operator",
    chartVersion: "1.2.0",
  }),
  kafka: kafkaSchema,
  catalogue: catalogueSchema,
  kafkaApi: kafkaApiSchema.optional(),
  kafkaApiPassword: z.string().min(1).optional(),
  apps: appsSchema.default({ namespace: "stf" }),
  operator: operatorSchema.optional(),
  operatorRegistryPassword: z.string().min(1).optional(),
};

export type StorageConfig = z.output<typeof storageSchema>;
export type NodePoolConfig = z.output<typeof nodePoolSchema>;
export type KafkaConfig = z.output<typeof kafkaSchema>;
export type StrimziConfig = z.output<typeof strimziSchema>;
export type TopicConfig = z.output<typeof topicSchema>;
export type UserConfig = z.output<typeof userSchema>;
export type CatalogueConfig = z.output<typeof catalogueSchema>;
export type KafkaApiConfig = z.output<typeof kafkaApiSchema>;
export type OperatorConfig = z.output<typeof operatorSchema>;

export interface PlatformConfig {
  readonly environment: Environment;
  readonly namespaces: z.output<typeof namespacesSchema>;
  readonly strimzi: StrimziConfig;
  readonly kafka: KafkaConfig;
  readonly catalogue: CatalogueConfig;
  readonly kafkaApi?: KafkaApiConfig & { readonly password?: pulumi.Output<string> };
  readonly apps: z.output<typeof appsSchema>;
  readonly operator?: OperatorConfig;
  readonly operatorRegistryPassword?: pulumi.Output<string>;
}

/** One problem with the stack configuration, located by the key's full name. */
export interface ConfigProblem {
  readonly key: string;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** `streamforge:kafka` + ["nodePools", 0, "replicas"] -> `streamforge:kafka.nodePools[0].replicas` */
export function keyName(topKey: string, path: readonly PropertyKey[]): string {
  let name = `${CONFIG_NAMESPACE}:${topKey}`;
  for (const segment of path) {
    name += typeof segment === "number" ? `[${segment}]` : `.${String(segment)}`;
  }
  return name;
}

function describeFound(input: unknown): string {
  if (input === undefined) return "nothing (the key is missing)";
  const text = JSON.stringify(input);
  const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return `${shown} (${Array.isArray(input) ? "array" : input === null ? "null" : typeof input})`;
}

function issueToProblem(topKey: string, issue: z.core.$ZodIssue): ConfigProblem {
  if (issue.code === "unrecognized_keys") {
    return {
      key: keyName(topKey, [...issue.path, issue.keys[0] ?? ""]),
      message: `unknown key${issue.keys.length > 1 ? "s " + issue.keys.join(", ") : ""}; check the spelling against Pulumi.yaml`,
    };
  }
  if (issue.code === "invalid_union" && issue.discriminator !== undefined) {
    // A discriminated union whose `type` matched no shape; zod's path already ends at the
    // discriminator, its input is the whole object.
    const input = issue.input as Record<string, unknown> | undefined;
    return {
      key: keyName(topKey, issue.path),
      message: `expected ${issue.message}; found ${describeFound(input?.[issue.discriminator])}`,
    };
  }
  const found = "input" in issue ? describeFound(issue.input) : undefined;
  const expected = `expected ${describeExpected(issue)}`;
  return {
    key: keyName(topKey, issue.path),
    message: found === undefined ? expected : `${expected}; found ${found}`,
  };
}

function describeExpected(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.expected === "int" ? "an integer" : `a value of type ${issue.expected}`;
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_small":
    case "too_big": {
      const op = issue.code === "too_small" ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
      const bound = String(issue.code === "too_small" ? issue.minimum : issue.maximum);
      if (issue.origin === "array") return `a list with ${op} ${bound} item(s)`;
      if (issue.origin === "string") return `a text of ${op} ${bound} character(s)`;
      return `a number ${op} ${bound}`;
    }
    default:
      return issue.message;
  }
}

/** Parses the raw `streamforge:*` values of a stack (objects already JSON-decoded). */
export function parsePlatformConfig(
  raw: Readonly<Record<string, unknown>>,
  secretKeys: ReadonlySet<string> = new Set(),
): Omit<PlatformConfig, "kafkaApi" | "operatorRegistryPassword"> & {
  kafkaApi?: KafkaApiConfig;
  kafkaApiPassword?: string;
  operatorRegistryPassword?: string;
} {
  const problems: ConfigProblem[] = [];
  const known = new Set(Object.keys(topLevel));
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) {
      problems.push({
        key: keyName(key, []),
        message: `unknown key; expected one of ${[...known].map((k) => keyName(k, [])).join(", ")}`,
      });
    }
  }

  const parsed: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(topLevel)) {
    const result = (schema as z.ZodType).safeParse(raw[key], { reportInput: true });
    if (result.success) parsed[key] = result.data;
    else problems.push(...result.error.issues.map((i) => issueToProblem(key, i)));
  }

  for (const key of SECRET_KEYS) {
    if (raw[key] !== undefined && !secretKeys.has(key)) {
      problems.push({
        key: keyName(key, []),
        message: `must be a Pulumi secret; found plain text. Set it with \`pulumi config set --secret ${key}\``,
      });
    }
  }

  if (problems.length > 0) throw new ConfigError(problems);
  const config = parsed as unknown as ReturnType<typeof parsePlatformConfig>;
  const crossProblems = crossCheck(config);
  if (crossProblems.length > 0) throw new ConfigError(crossProblems);
  return config;
}

/** Rules that span several keys: references between keys and what each environment requires. */
function crossCheck(config: ReturnType<typeof parsePlatformConfig>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { kafka, catalogue } = config;
  const brokers = kafka.nodePools.filter((p) => p.roles.includes("broker")).reduce((n, p) => n + p.replicas, 0);
  const controllers = kafka.nodePools.filter((p) => p.roles.includes("controller")).reduce((n, p) => n + p.replicas, 0);

  const names = kafka.nodePools.map((p) => p.name);
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i)
      problems.push({ key: keyName("kafka", ["nodePools", i, "name"]), message: `duplicate node pool name "${name}"` });
  });
  if (brokers === 0)
    problems.push({ key: keyName("kafka", ["nodePools"]), message: "expected at least one pool with the broker role; found none" });
  if (controllers === 0)
    problems.push({
      key: keyName("kafka", ["nodePools"]),
      message: "expected at least one pool with the controller role (KRaft); found none",
    });
  if (controllers % 2 === 0 && controllers > 0)
    problems.push({
      key: keyName("kafka", ["nodePools"]),
      message: `expected an odd number of controllers for a KRaft quorum; found ${controllers}`,
    });
  if (kafka.replication.factor > brokers)
    problems.push({
      key: keyName("kafka", ["replication", "factor"]),
      message: `expected at most the number of brokers (${brokers}); found ${kafka.replication.factor}`,
    });
  if (kafka.replication.minInSyncReplicas > kafka.replication.factor)
    problems.push({
      key: keyName("kafka", ["replication", "minInSyncReplicas"]),
      message: `expected at most replication.factor (${kafka.replication.factor}); found ${kafka.replication.minInSyncReplicas}`,
    });

  problems.push(...environmentRules(config, brokers));

  for (const [topic, spec] of Object.entries(catalogue.topics)) {
    const replicas = spec.replicas ?? kafka.replication.factor;
    if (replicas > brokers)
      problems.push({
        key: keyName("catalogue", ["topics", topic, "replicas"]),
        message: `expected at most the number of brokers (${brokers}); found ${replicas}`,
      });
    const minIsr = spec.config["min.insync.replicas"];
    if (typeof minIsr === "number" && minIsr > replicas)
      problems.push({
        key: keyName("catalogue", ["topics", topic, "config", "min.insync.replicas"]),
        message: `expected at most the topic's replicas (${replicas}); found ${minIsr}`,
      });
  }

  const topics = Object.keys(catalogue.topics);
  for (const [user, spec] of Object.entries(catalogue.users)) {
    for (const field of ["produce", "consume"] as const) {
      spec[field].forEach((ref, i) => {
        if (!ref.endsWith("*") && !topics.includes(ref))
          problems.push({
            key: keyName("catalogue", ["users", user, field, i]),
            message: `expected a topic of streamforge:catalogue.topics (${topics.join(", ")}) or a prefix ending in '*'; found "${ref}"`,
          });
      });
    }
  }

  const operator = config.operator;
  if (operator?.enabled) {
    const user = catalogue.users[operator.kafkaUser];
    if (!user)
      problems.push({
        key: keyName("operator", ["kafkaUser"]),
        message: `expected a user of streamforge:catalogue.users (${Object.keys(catalogue.users).join(", ")}); found "${operator.kafkaUser}"`,
      });
    else if (!user.consume.includes("queue-events") || !user.groups.includes(operator.groupId))
      problems.push({
        key: keyName("catalogue", ["users", operator.kafkaUser]),
        message: `expected the operator's user to consume queue-events in group "${operator.groupId}"; found consume [${user.consume.join(", ")}], groups [${user.groups.join(", ")}]`,
      });
  }

  if (catalogue.owner === "kafka-api") {
    if (!config.kafkaApi)
      problems.push({
        key: keyName("kafkaApi", []),
        message:
          "expected the admin connection (bootstrapServers, tls, sasl) because streamforge:catalogue.owner is kafka-api; found nothing",
      });
    else if (config.kafkaApi.sasl && !config.kafkaApiPassword)
      problems.push({
        key: keyName("kafkaApiPassword", []),
        message: "expected a secret password because streamforge:kafkaApi.sasl is set; found nothing",
      });
  }
  return problems;
}

/** What each environment must have; prod is held to production sizing. */
function environmentRules(config: ReturnType<typeof parsePlatformConfig>, brokers: number): ConfigProblem[] {
  if (config.environment !== "prod") return [];
  const { kafka } = config;
  const problems: ConfigProblem[] = [];
  const need = (ok: boolean, path: PropertyKey[], message: string): void => {
    if (!ok) problems.push({ key: keyName("kafka", path), message: `prod: ${message}` });
  };
  need(brokers >= 3, ["nodePools"], `expected at least 3 brokers; found ${brokers}`);
  need(
    kafka.nodePools.every((p) => p.roles.length === 1),
    ["nodePools"],
    "expected controllers and brokers in separate pools; found a dual-role pool",
  );
  kafka.nodePools.forEach((p, i) =>
    need(
      p.storage.type === "persistent-claim",
      ["nodePools", i, "storage", "type"],
      `expected "persistent-claim"; found "${p.storage.type}"`,
    ),
  );
  need(kafka.replication.factor >= 3, ["replication", "factor"], `expected at least 3; found ${kafka.replication.factor}`);
  need(
    kafka.replication.minInSyncReplicas >= 2,
    ["replication", "minInSyncReplicas"],
    `expected at least 2; found ${kafka.replication.minInSyncReplicas}`,
  );
  need(kafka.rackTopologyKey !== undefined, ["rackTopologyKey"], "expected a node label for rack awareness; found nothing");
  need(kafka.podDisruptionBudget !== undefined, ["podDisruptionBudget"], "expected a PodDisruptionBudget; found nothing");
  need(!kafka.listeners.plain, ["listeners", "plain"], "expected false: no unauthenticated listener in prod; found true");
  return problems;
}

/** Decodes a raw Pulumi config value: structured values arrive as JSON text. */
function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * Splits Pulumi's flat config map into this program's raw values (namespace stripped,
 * structured values decoded) and the names of the keys Pulumi holds as secrets.
 */
export function decodeRawConfig(
  all: Readonly<Record<string, string>>,
  secretKeyList: readonly string[] = [],
): {
  raw: Record<string, unknown>;
  secretKeys: Set<string>;
} {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = decode(value);
  }
  const secretKeys = new Set(secretKeyList.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)));
  return { raw, secretKeys };
}

/** Reads this stack's `streamforge:*` config from the Pulumi runtime and validates it. */
export function loadPlatformConfig(): PlatformConfig {
  const all = pulumi.runtime.allConfig();
  // The runtime keeps the list of secret keys in the config map itself.
  const secretList = decode(all["PULUMI_CONFIG_SECRET_KEYS"] ?? "[]");
  const { raw, secretKeys } = decodeRawConfig(all, Array.isArray(secretList) ? (secretList as string[]) : []);
  return withSecrets(parsePlatformConfig(raw, secretKeys));
}

/** Wraps the secret values of a parsed config as Pulumi secrets: they never appear in plain text downstream. */
export function withSecrets(parsed: ReturnType<typeof parsePlatformConfig>): PlatformConfig {
  const { kafkaApiPassword, kafkaApi, operatorRegistryPassword, ...rest } = parsed;
  return {
    ...rest,
    ...(operatorRegistryPassword === undefined ? {} : { operatorRegistryPassword: pulumi.secret(operatorRegistryPassword) }),
    kafkaApi: kafkaApi && {
      ...kafkaApi,
      password: kafkaApiPassword === undefined ? undefined : pulumi.secret(kafkaApiPassword),
    },
  };
}
