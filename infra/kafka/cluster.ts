import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { caCopyData } from "../../operator/src/core/ca-copy";
import {
  JMX_EXPORTER_CONFIG,
  METRICS_CONFIG_KEY,
  NODE_POOL_ANNOTATIONS,
  STRIMZI_API_VERSION,
  type BootstrapAddresses,
  bootstrapAddresses,
  clusterNames,
  kafkaSpec,
  nodePoolSpec,
  readinessAnnotations,
} from "./cluster-spec";
import type { CatalogueConfig, KafkaConfig, RetireConfig, StrimziConfig } from "./config";
import {
  CATALOGUE_OWNER_ANNOTATION,
  KAFKA_API_ACLS_ANNOTATION,
  STACK_ANNOTATION,
  encodeAclRecord,
  keepOptions,
  retireAnnotations,
  retireModeOf,
  thisStackIdentity,
} from "./data-safety";
import { pinnedKafkaImage } from "./strimzi-operator";

export interface KafkaClusterArgs {
  /** The cluster as `streamforge:kafka` declares it: node pools, listeners, storage, version, metrics. */
  readonly kafka: KafkaConfig;
  /** Strimzi's settings (`streamforge:strimzi`): whether `up` waits for the cluster to be Ready, and for how long. */
  readonly strimzi: StrimziConfig;
  /** Who declares the catalogue's topics and users, recorded on the Kafka CR (CATALOGUE_OWNER_ANNOTATION). */
  readonly catalogueOwner: CatalogueConfig["owner"];
  /** Owner kafka-api: each user's declared ACL entries, recorded on the Kafka CR (KAFKA_API_ACLS_ANNOTATION). */
  readonly kafkaApiAcls?: Readonly<Record<string, readonly string[]>>;
  /** Users the User Operator must leave alone because @pulumi/kafka owns them. */
  readonly externallyManagedUsers: readonly string[];
  /** Namespace of the KafkaUsers and their Secrets: where the apps run. */
  readonly usersNamespace: string;
  /** Namespaces whose pods may connect to the internal listeners. */
  readonly clientNamespaces: readonly string[];
  /** The CA copy's certificates are kept current by the CA syncer (ca-sync.ts): `up` only creates the copy. */
  readonly caCopyFollowedBySync?: boolean;
  /** Whether the brokers delete topics (config.ts `topicDeletionEnabled`). */
  readonly topicDeletion: boolean;
  /** Confirmations that let the cluster (`stack`) or a node pool go; without one each is protected (data-safety.ts). */
  readonly retire: RetireConfig;
}

/** The CA copy's options: where the syncer keeps its certificates current, `up` creates it and ignores their changes. */
export const caCopyOptions = (followedBySync: boolean): { ignoreChanges?: string[] } => (followedBySync ? { ignoreChanges: ["data"] } : {});

/**
 * A KRaft Kafka cluster: its node pools, the Kafka CR and the metrics ConfigMap. Where Strimzi
 * acts on it (`strimzi.awaitReady`), `pulumi up` waits for the cluster to be Ready and copies the
 * cluster CA certificates into the users' namespace, where clients mount their bundle beside
 * their credentials.
 */
export class KafkaCluster extends pulumi.ComponentResource {
  readonly kafka: k8s.apiextensions.CustomResource;
  readonly nodePools: readonly k8s.apiextensions.CustomResource[];
  readonly clusterName: string;
  readonly namespace: string;
  /** The Kafka CR's spec as declared: what a preview compares with the live one (impact.ts). */
  readonly spec: Readonly<Record<string, unknown>>;
  /** Bootstrap servers (host:port) of each listener: `tls` always, `plain` and `external` "" where off. */
  readonly bootstrap: BootstrapAddresses;
  /** The Secret holding the cluster CA certificate (`ca.crt`), in `namespace`; copied beside the users with their bundle (`ca-bundle.pem`). */
  readonly caSecret: string;

  constructor(name: string, args: KafkaClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:kafka:KafkaCluster", name, {}, opts);
    const { kafka, strimzi } = args;
    const names = clusterNames(kafka.clusterName);
    this.clusterName = kafka.clusterName;
    this.namespace = kafka.namespace;
    const labels = { "app.kubernetes.io/part-of": "streamforge", "strimzi.io/cluster": kafka.clusterName };
    this.spec = kafkaSpec(kafka, {
      externallyManagedUsers: args.externallyManagedUsers,
      usersNamespace: args.usersNamespace,
      clientNamespaces: args.clientNamespaces,
      topicDeletion: args.topicDeletion,
      image: pinnedKafkaImage(strimzi, kafka.version),
    });

    const metrics = kafka.metrics.jmxPrometheusExporter
      ? [
          new k8s.core.v1.ConfigMap(
            `${name}-metrics`,
            {
              metadata: { name: names.metricsConfigMap, namespace: kafka.namespace, labels },
              data: { [METRICS_CONFIG_KEY]: JMX_EXPORTER_CONFIG },
            },
            { parent: this },
          ),
        ]
      : [];

    this.nodePools = kafka.nodePools.map((pool) => {
      const mode = retireModeOf(args.retire, "nodePools", pool.name);
      return new k8s.apiextensions.CustomResource(
        `${name}-pool-${pool.name}`,
        {
          apiVersion: STRIMZI_API_VERSION,
          kind: "KafkaNodePool",
          metadata: {
            name: pool.name,
            namespace: kafka.namespace,
            labels,
            annotations: { ...NODE_POOL_ANNOTATIONS, ...retireAnnotations(mode) },
          },
          spec: nodePoolSpec(pool),
        },
        { parent: this, ...keepOptions(mode) },
      );
    });

    this.kafka = new k8s.apiextensions.CustomResource(
      `${name}-kafka`,
      {
        apiVersion: STRIMZI_API_VERSION,
        kind: "Kafka",
        metadata: {
          name: kafka.clusterName,
          namespace: kafka.namespace,
          labels: { "app.kubernetes.io/part-of": "streamforge" },
          annotations: {
            ...readinessAnnotations(strimzi, "cluster"),
            ...retireAnnotations(args.retire.stack),
            [STACK_ANNOTATION]: thisStackIdentity(),
            [CATALOGUE_OWNER_ANNOTATION]: args.catalogueOwner,
            ...(args.kafkaApiAcls ? { [KAFKA_API_ACLS_ANNOTATION]: encodeAclRecord(args.kafkaApiAcls) } : {}),
          },
        },
        spec: this.spec,
      },
      // The node pools must exist when the Kafka CR is reconciled, or Strimzi reports no nodes.
      { parent: this, dependsOn: [...this.nodePools, ...metrics], ...keepOptions(args.retire.stack) },
    );

    if (strimzi.awaitReady && args.usersNamespace !== kafka.namespace) {
      // Strimzi writes the CA only in the Kafka namespace. The id waits on the Ready cluster, so
      // the read happens once the Secret exists. Where the CA syncer runs, it keeps the copy's
      // certificates current and `up` leaves them alone; otherwise every `up` refreshes them
      // (Strimzi renews the CA within its renewal window: an `up` in that window carries it over).
      const source = k8s.core.v1.Secret.get(
        `${name}-cluster-ca-source`,
        this.kafka.id.apply(() => `${kafka.namespace}/${names.clusterCaCertSecret}`),
        { parent: this },
      );
      new k8s.core.v1.Secret(
        `${name}-cluster-ca-copy`,
        {
          metadata: { name: names.clusterCaCertSecret, namespace: args.usersNamespace, labels },
          type: "Opaque",
          // The syncer's own shape (every certificate and their bundle, which the clients mount).
          data: source.data.apply((d) => {
            if (!d?.["ca.crt"])
              throw new Error(`Secret ${kafka.namespace}/${names.clusterCaCertSecret} has no ca.crt: is Strimzi's cluster CA in place?`);
            return caCopyData(d);
          }),
        },
        { parent: this, ...caCopyOptions(args.caCopyFollowedBySync ?? false) },
      );
    }
    this.bootstrap = bootstrapAddresses(kafka);
    this.caSecret = names.clusterCaCertSecret;
    this.registerOutputs({
      kafka: this.kafka,
      clusterName: this.clusterName,
      namespace: this.namespace,
      bootstrap: this.bootstrap,
      caSecret: this.caSecret,
    });
  }
}
