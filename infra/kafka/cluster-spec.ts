/**
 * The Strimzi `kafka.strimzi.io/v1` shapes of a cluster, derived from its config.
 * Pure functions: the component in cluster.ts only wraps their results in resources.
 */
import { namespacePeers } from "../kit/network-spec";
import type { KafkaConfig, NodePoolConfig, StorageConfig, StrimziConfig } from "./config";

export const STRIMZI_API_VERSION = "kafka.strimzi.io/v1";

/** Listener ports are fixed so every service finds Kafka in the same place. */
export const LISTENER_PORTS = { plain: 9092, tls: 9093 } as const;

export const METRICS_CONFIG_KEY = "kafka-metrics-config.yml";

export interface ClusterNames {
  readonly bootstrapService: string;
  readonly externalBootstrapService: string;
  readonly clusterCaCertSecret: string;
  readonly metricsConfigMap: string;
}

/** Names Strimzi gives the objects it creates for a cluster (see its docs). */
export function clusterNames(clusterName: string): ClusterNames {
  return {
    bootstrapService: `${clusterName}-kafka-bootstrap`,
    externalBootstrapService: `${clusterName}-kafka-external-bootstrap`,
    clusterCaCertSecret: `${clusterName}-cluster-ca-cert`,
    metricsConfigMap: `${clusterName}-kafka-metrics`,
  };
}

export interface BootstrapAddresses {
  /** TLS + SCRAM-SHA-512: what the services use. */
  readonly tls: string;
  /** Plain, unauthenticated; empty when the listener is off. */
  readonly plain: string;
  /** In-cluster name and port of the external bootstrap Service; empty when off. */
  readonly external: string;
}

export function bootstrapAddresses(kafka: KafkaConfig): BootstrapAddresses {
  const host = `${clusterNames(kafka.clusterName).bootstrapService}.${kafka.namespace}`;
  const ext = kafka.listeners.external;
  return {
    tls: `${host}:${LISTENER_PORTS.tls}`,
    plain: kafka.listeners.plain ? `${host}:${LISTENER_PORTS.plain}` : "",
    external: ext ? `${clusterNames(kafka.clusterName).externalBootstrapService}.${kafka.namespace}:${ext.port}` : "",
  };
}

/**
 * The listeners, each with the peers Strimzi turns into the NetworkPolicy it generates for the
 * brokers: internal listeners admit only the client namespaces, the external one only its source
 * ranges (anyone when none are given, which prod refuses).
 */
export function listeners(kafka: KafkaConfig, clientNamespaces: readonly string[]): object[] {
  const scram = { type: "scram-sha-512" };
  const clients = namespacePeers(clientNamespaces);
  const result: object[] = [];
  if (kafka.listeners.plain)
    result.push({ name: "plain", port: LISTENER_PORTS.plain, type: "internal", tls: false, networkPolicyPeers: clients });
  result.push({ name: "tls", port: LISTENER_PORTS.tls, type: "internal", tls: true, authentication: scram, networkPolicyPeers: clients });
  const ext = kafka.listeners.external;
  if (ext) {
    const ranges = ext.allowedSourceRanges;
    result.push({
      name: "external",
      port: ext.port,
      type: ext.type,
      tls: true,
      authentication: scram,
      ...(ranges.length > 0 ? { networkPolicyPeers: ranges.map((cidr) => ({ ipBlock: { cidr } })) } : {}),
      ...(ranges.length > 0 && ext.type === "loadbalancer" ? { configuration: { loadBalancerSourceRanges: [...ranges] } } : {}),
    });
  }
  return result;
}

/**
 * How `pulumi up` waits for what Strimzi does with a CR: until its Ready condition, within the
 * configured timeout; or not at all where no Strimzi operator acts on the CRs (`awaitReady: false`).
 */
export function readinessAnnotations(strimzi: StrimziConfig, what: "cluster" | "entities"): Record<string, string> {
  if (!strimzi.awaitReady) return { "pulumi.com/skipAwait": "true" };
  return { "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": String(strimzi.readyTimeoutSeconds[what]) };
}

/**
 * KafkaNodePools are never awaited: Strimzi sets no Ready condition on them (only warnings, in
 * KafkaPool.generateNodePoolStatus), and the Kafka CR, which depends on them, is Ready only once
 * every pool's nodes are.
 */
export const NODE_POOL_ANNOTATIONS = { "pulumi.com/skipAwait": "true" } as const;

/** Broker settings: replication from config, auto topic creation off (topics come from the catalogue). */
export function brokerConfig(kafka: KafkaConfig, topicDeletion = true): Record<string, string | number | boolean> {
  const { factor, minInSyncReplicas } = kafka.replication;
  return {
    "auto.create.topics.enable": false,
    "delete.topic.enable": topicDeletion,
    "default.replication.factor": factor,
    "min.insync.replicas": minInSyncReplicas,
    "offsets.topic.replication.factor": factor,
    "transaction.state.log.replication.factor": factor,
    "transaction.state.log.min.isr": minInSyncReplicas,
    ...kafka.config,
  };
}

export function storageSpec(storage: StorageConfig): object {
  if (storage.type === "ephemeral") {
    return {
      type: "jbod",
      volumes: [{ id: 0, type: "ephemeral", kraftMetadata: "shared", ...(storage.sizeLimit ? { sizeLimit: storage.sizeLimit } : {}) }],
    };
  }
  return {
    type: "jbod",
    volumes: Array.from({ length: storage.volumes }, (_, id) => ({
      id,
      type: "persistent-claim",
      size: storage.size,
      class: storage.class,
      deleteClaim: storage.deleteClaim,
      // KRaft metadata lives on the first volume only.
      ...(id === 0 ? { kraftMetadata: "shared" } : {}),
    })),
  };
}

export function nodePoolSpec(pool: NodePoolConfig): Record<string, unknown> {
  return {
    replicas: pool.replicas,
    roles: [...pool.roles],
    storage: storageSpec(pool.storage),
    resources: pool.resources,
  };
}

/** The User Operator's setting for the users it leaves alone (user-operator UserOperatorConfig.java:159 at 1.2.0). */
const IGNORED_USERS_ENV = "STRIMZI_IGNORED_USERS_PATTERN";

/**
 * Users Strimzi's User Operator must leave alone: in `kafka-api` mode they are owned by
 * @pulumi/kafka, and the User Operator would otherwise delete their ACLs and credentials.
 */
export function ignoredUsersPattern(userNames: readonly string[]): string {
  return `^(${userNames.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})$`;
}

/** The user names a Kafka CR spec's User Operator ignores: `ignoredUsersPattern` where `kafkaSpec` puts it, read back. */
export function ignoredUsersOf(spec: Readonly<Record<string, unknown>> | undefined): string[] {
  const env = (spec?.entityOperator as { template?: { userOperatorContainer?: { env?: { name: string; value?: string }[] } } } | undefined)
    ?.template?.userOperatorContainer?.env;
  const pattern = env?.find((e) => e.name === IGNORED_USERS_ENV)?.value;
  const names = pattern ? /^\^\((.*)\)\$$/.exec(pattern)?.[1] : undefined;
  return names ? names.split("|").map((n) => n.replace(/\\(.)/g, "$1")) : [];
}

export interface KafkaSpecOptions {
  /** Users the User Operator must ignore (kafka-api ownership); empty for strimzi ownership. */
  readonly externallyManagedUsers: readonly string[];
  /** Namespace of the KafkaUsers, where the User Operator writes their Secrets: the apps'. */
  readonly usersNamespace: string;
  /** Whether the brokers delete topics (`topicDeletionEnabled`); default true, Kafka's own default. */
  readonly topicDeletion?: boolean;
  /** Namespaces whose pods may connect to the internal listeners. */
  readonly clientNamespaces: readonly string[];
  /**
   * The version's Kafka image pinned by digest (strimzi-operator.ts `strimziImages`), or undefined
   * for the one Strimzi maps the version to. Strimzi 1.2.0 runs `spec.kafka.image` as given
   * (KafkaVersion.java L201-220, KafkaCluster.java L328), and kafka_exporter's defaults to the
   * default version's image (KafkaExporter.java L140-144): both get the version's own.
   */
  readonly image?: string;
}

export function kafkaSpec(kafka: KafkaConfig, options: KafkaSpecOptions): Record<string, unknown> {
  const names = clusterNames(kafka.clusterName);
  const spec: Record<string, unknown> = {
    version: kafka.version,
    ...(options.image ? { image: options.image } : {}),
    ...(kafka.metadataVersion ? { metadataVersion: kafka.metadataVersion } : {}),
    listeners: listeners(kafka, options.clientNamespaces),
    // The plain listener authenticates nobody; in dev it is a superuser path by intent
    // (prod rejects the plain listener in config validation).
    authorization: { type: "simple", ...(kafka.listeners.plain ? { superUsers: ["ANONYMOUS"] } : {}) },
    config: brokerConfig(kafka, options.topicDeletion ?? true),
  };
  if (kafka.rackTopologyKey) spec.rack = { type: "topology-label", topologyKey: kafka.rackTopologyKey };
  if (kafka.metrics.jmxPrometheusExporter) {
    spec.metricsConfig = {
      type: "jmxPrometheusExporter",
      valueFrom: { configMapKeyRef: { name: names.metricsConfigMap, key: METRICS_CONFIG_KEY } },
    };
  }
  if (kafka.podDisruptionBudget) spec.template = { podDisruptionBudget: { maxUnavailable: kafka.podDisruptionBudget.maxUnavailable } };

  // Users and their Secrets live where the apps run: Secrets cannot be mounted across namespaces.
  const entityOperator: Record<string, unknown> = { topicOperator: {}, userOperator: { watchedNamespace: options.usersNamespace } };
  if (options.externallyManagedUsers.length > 0) {
    entityOperator.template = {
      userOperatorContainer: {
        env: [{ name: IGNORED_USERS_ENV, value: ignoredUsersPattern(options.externallyManagedUsers) }],
      },
    };
  }
  return {
    kafka: spec,
    entityOperator,
    ...(kafka.metrics.kafkaExporter
      ? { kafkaExporter: { topicRegex: ".*", groupRegex: ".*", ...(options.image ? { image: options.image } : {}) } }
      : {}),
  };
}

/**
 * The Prometheus JMX exporter config of brokers and controllers: Strimzi 1.2.0's example
 * (packaging/examples/metrics/kafka-metrics.yaml at tag 1.2.0, the chart version this program
 * pins), rule for rule and in its order, so the series carry Strimzi's names and labels (its
 * dashboards and alerts read them). Order matters: the exporter takes the first rule that
 * matches, so the rules with key/value pairs after `name=` (`topic=`, `partition=`, ...) stand
 * before the generic ones, whose `(.+)` would otherwise swallow the pairs into the name.
 * Meters (`...PerSec`) become counters without the suffix (`kafka_server_brokertopicmetrics_messagesin_total`,
 * with `topic` on per-topic series); gauges keep the MBean's name (`kafka_log_log_size{topic, partition}`,
 * `kafka_log_logmanager_offlinelogdirectorycount`). Raw (String.raw): the patterns' backslashes stay.
 */
export const JMX_EXPORTER_CONFIG = String.raw`lowercaseOutputName: true
rules:
# Special cases and very specific rules
- pattern: kafka.server<type=(.+), name=(.+), clientId=(.+), topic=(.+), partition=(.*)><>Value
  name: kafka_server_$1_$2
  type: GAUGE
  labels:
    clientId: "$3"
    topic: "$4"
    partition: "$5"
- pattern: kafka.server<type=(.+), name=(.+), clientId=(.+), brokerHost=(.+), brokerPort=(.+)><>Value
  name: kafka_server_$1_$2
  type: GAUGE
  labels:
    clientId: "$3"
    broker: "$4:$5"
- pattern: kafka.server<type=(.+), cipher=(.+), protocol=(.+), listener=(.+), networkProcessor=(.+)><>connections
  name: kafka_server_$1_connections_tls_info
  type: GAUGE
  labels:
    cipher: "$2"
    protocol: "$3"
    listener: "$4"
    networkProcessor: "$5"
- pattern: kafka.server<type=(.+), clientSoftwareName=(.+), clientSoftwareVersion=(.+), listener=(.+), networkProcessor=(.+)><>connections
  name: kafka_server_$1_connections_software
  type: GAUGE
  labels:
    clientSoftwareName: "$2"
    clientSoftwareVersion: "$3"
    listener: "$4"
    networkProcessor: "$5"
- pattern: "kafka.server<type=(.+), listener=(.+), networkProcessor=(.+)><>(.+-total):"
  name: kafka_server_$1_$4
  type: COUNTER
  labels:
    listener: "$2"
    networkProcessor: "$3"
- pattern: "kafka.server<type=(.+), listener=(.+), networkProcessor=(.+)><>(.+):"
  name: kafka_server_$1_$4
  type: GAUGE
  labels:
    listener: "$2"
    networkProcessor: "$3"
- pattern: kafka.server<type=(.+), listener=(.+), networkProcessor=(.+)><>(.+-total)
  name: kafka_server_$1_$4
  type: COUNTER
  labels:
    listener: "$2"
    networkProcessor: "$3"
- pattern: kafka.server<type=(.+), listener=(.+), networkProcessor=(.+)><>(.+)
  name: kafka_server_$1_$4
  type: GAUGE
  labels:
    listener: "$2"
    networkProcessor: "$3"
# Some percent metrics use MeanRate attribute
# Ex) kafka.server<type=(KafkaRequestHandlerPool), name=(RequestHandlerAvgIdlePercent)><>MeanRate
- pattern: kafka.(\w+)<type=(.+), name=(.+)Percent\w*><>MeanRate
  name: kafka_$1_$2_$3_percent
  type: GAUGE
# Generic gauges for percents
- pattern: kafka.(\w+)<type=(.+), name=(.+)Percent\w*><>Value
  name: kafka_$1_$2_$3_percent
  type: GAUGE
- pattern: kafka.(\w+)<type=(.+), name=(.+)Percent\w*, (.+)=(.+)><>Value
  name: kafka_$1_$2_$3_percent
  type: GAUGE
  labels:
    "$4": "$5"
# Generic per-second counters with 0-2 key/value pairs
- pattern: kafka.(\w+)<type=(.+), name=(.+)PerSec\w*, (.+)=(.+), (.+)=(.+)><>Count
  name: kafka_$1_$2_$3_total
  type: COUNTER
  labels:
    "$4": "$5"
    "$6": "$7"
- pattern: kafka.(\w+)<type=(.+), name=(.+)PerSec\w*, (.+)=(.+)><>Count
  name: kafka_$1_$2_$3_total
  type: COUNTER
  labels:
    "$4": "$5"
- pattern: kafka.(\w+)<type=(.+), name=(.+)PerSec\w*><>Count
  name: kafka_$1_$2_$3_total
  type: COUNTER
# Generic gauges with 0-2 key/value pairs
- pattern: kafka.(\w+)<type=(.+), name=(.+), (.+)=(.+), (.+)=(.+)><>Value
  name: kafka_$1_$2_$3
  type: GAUGE
  labels:
    "$4": "$5"
    "$6": "$7"
- pattern: kafka.(\w+)<type=(.+), name=(.+), (.+)=(.+)><>Value
  name: kafka_$1_$2_$3
  type: GAUGE
  labels:
    "$4": "$5"
- pattern: kafka.(\w+)<type=(.+), name=(.+)><>Value
  name: kafka_$1_$2_$3
  type: GAUGE
# Emulate Prometheus 'Summary' metrics for the exported 'Histogram's.
# Note that these are missing the '_sum' metric!
- pattern: kafka.(\w+)<type=(.+), name=(.+), (.+)=(.+), (.+)=(.+)><>Count
  name: kafka_$1_$2_$3_count
  type: COUNTER
  labels:
    "$4": "$5"
    "$6": "$7"
- pattern: kafka.(\w+)<type=(.+), name=(.+), (.+)=(.*), (.+)=(.+)><>(\d+)thPercentile
  name: kafka_$1_$2_$3
  type: GAUGE
  labels:
    "$4": "$5"
    "$6": "$7"
    quantile: "0.$8"
- pattern: kafka.(\w+)<type=(.+), name=(.+), (.+)=(.+)><>Count
  name: kafka_$1_$2_$3_count
  type: COUNTER
  labels:
    "$4": "$5"
- pattern: kafka.(\w+)<type=(.+), name=(.+), (.+)=(.*)><>(\d+)thPercentile
  name: kafka_$1_$2_$3
  type: GAUGE
  labels:
    "$4": "$5"
    quantile: "0.$6"
- pattern: kafka.(\w+)<type=(.+), name=(.+)><>Count
  name: kafka_$1_$2_$3_count
  type: COUNTER
- pattern: kafka.(\w+)<type=(.+), name=(.+)><>(\d+)thPercentile
  name: kafka_$1_$2_$3
  type: GAUGE
  labels:
    quantile: "0.$4"
# KRaft overall related metrics
# distinguish between always increasing COUNTER (total and max) and variable GAUGE (all others) metrics
- pattern: "kafka.server<type=raft-metrics><>(.+-total|.+-max):"
  name: kafka_server_raftmetrics_$1
  type: COUNTER
- pattern: "kafka.server<type=raft-metrics><>(current-state): (.+)"
  name: kafka_server_raftmetrics_$1
  value: 1
  type: UNTYPED
  labels:
    $1: "$2"
- pattern: "kafka.server<type=raft-metrics><>(.+):"
  name: kafka_server_raftmetrics_$1
  type: GAUGE
# KRaft "low level" channels related metrics
# distinguish between always increasing COUNTER (total and max) and variable GAUGE (all others) metrics
- pattern: "kafka.server<type=raft-channel-metrics><>(.+-total|.+-max):"
  name: kafka_server_raftchannelmetrics_$1
  type: COUNTER
- pattern: "kafka.server<type=raft-channel-metrics><>(.+):"
  name: kafka_server_raftchannelmetrics_$1
  type: GAUGE
# Broker metrics related to fetching metadata topic records in KRaft mode
- pattern: "kafka.server<type=broker-metadata-metrics><>(.+):"
  name: kafka_server_brokermetadatametrics_$1
  type: GAUGE
`;
