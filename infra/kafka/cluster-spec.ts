/**
 * The Strimzi `kafka.strimzi.io/v1` shapes of a cluster, derived from its config.
 * Pure functions: the component in cluster.ts only wraps their results in resources.
 */
import { namespacePeers } from "../cluster/network-spec";
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
export function brokerConfig(kafka: KafkaConfig): Record<string, string | number | boolean> {
  const { factor, minInSyncReplicas } = kafka.replication;
  return {
    "auto.create.topics.enable": false,
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

export function nodePoolSpec(pool: NodePoolConfig): object {
  return {
    replicas: pool.replicas,
    roles: [...pool.roles],
    storage: storageSpec(pool.storage),
    resources: pool.resources,
  };
}

/**
 * Users Strimzi's User Operator must leave alone: in `kafka-api` mode they are owned by
 * @pulumi/kafka, and the User Operator would otherwise delete their ACLs and credentials.
 */
export function ignoredUsersPattern(userNames: readonly string[]): string {
  return `^(${userNames.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})$`;
}

export interface KafkaSpecOptions {
  /** Users the User Operator must ignore (kafka-api ownership); empty for strimzi ownership. */
  readonly externallyManagedUsers: readonly string[];
  /** Namespace of the KafkaUsers, where the User Operator writes their Secrets: the apps'. */
  readonly usersNamespace: string;
  /** Namespaces whose pods may connect to the internal listeners. */
  readonly clientNamespaces: readonly string[];
}

export function kafkaSpec(kafka: KafkaConfig, options: KafkaSpecOptions): object {
  const names = clusterNames(kafka.clusterName);
  const spec: Record<string, unknown> = {
    version: kafka.version,
    ...(kafka.metadataVersion ? { metadataVersion: kafka.metadataVersion } : {}),
    listeners: listeners(kafka, options.clientNamespaces),
    // The plain listener authenticates nobody; in dev it is a superuser path by intent
    // (prod rejects the plain listener in config validation).
    authorization: { type: "simple", ...(kafka.listeners.plain ? { superUsers: ["ANONYMOUS"] } : {}) },
    config: brokerConfig(kafka),
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
        env: [{ name: "STRIMZI_IGNORED_USERS_PATTERN", value: ignoredUsersPattern(options.externallyManagedUsers) }],
      },
    };
  }
  return {
    kafka: spec,
    entityOperator,
    ...(kafka.metrics.kafkaExporter ? { kafkaExporter: { topicRegex: ".*", groupRegex: ".*" } } : {}),
  };
}

/**
 * Prometheus JMX exporter rules for brokers and controllers, after Strimzi's example
 * `kafka-metrics.yaml`, trimmed to the series the platform dashboards and alerts read.
 */
export const JMX_EXPORTER_CONFIG = `lowercaseOutputName: true
rules:
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
  - pattern: kafka.server<type=(.+), name=(.+)><>(Count|Value)
    name: kafka_server_$1_$2
  - pattern: kafka.server<type=(.+), name=(.+), topic=(.+)><>(Count|OneMinuteRate)
    name: kafka_server_$1_$2_total
    type: COUNTER
    labels:
      topic: "$3"
  - pattern: kafka.controller<type=(.+), name=(.+)><>(Count|Value)
    name: kafka_controller_$1_$2
  - pattern: kafka.network<type=(.+), name=(.+), request=(.+)><>(Count|Value)
    name: kafka_network_$1_$2
    labels:
      request: "$3"
  - pattern: kafka.log<type=(.+), name=(.+), topic=(.+), partition=(.*)><>Value
    name: kafka_log_$1_$2
    type: GAUGE
    labels:
      topic: "$3"
      partition: "$4"
  - pattern: kafka.server<type=raft-metrics><>(.+-total|.+-max|.+-avg|current-state|current-leader|high-watermark)
    name: kafka_server_raftmetrics_$1
    type: GAUGE
`;
