import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { KafkaConfig } from "../config";
import { JMX_EXPORTER_CONFIG, METRICS_CONFIG_KEY, STRIMZI_API_VERSION, clusterNames, kafkaSpec, nodePoolSpec } from "./cluster-spec";

export interface KafkaClusterArgs {
  readonly kafka: KafkaConfig;
  /** Users the User Operator must leave alone because @pulumi/kafka owns them. */
  readonly externallyManagedUsers: readonly string[];
}

/** A KRaft Kafka cluster: its node pools, the Kafka CR and the metrics ConfigMap. */
export class KafkaCluster extends pulumi.ComponentResource {
  readonly kafka: k8s.apiextensions.CustomResource;
  readonly nodePools: readonly k8s.apiextensions.CustomResource[];
  readonly clusterName: string;
  readonly namespace: string;

  constructor(name: string, args: KafkaClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:kafka:KafkaCluster", name, {}, opts);
    const { kafka } = args;
    const names = clusterNames(kafka.clusterName);
    this.clusterName = kafka.clusterName;
    this.namespace = kafka.namespace;
    const labels = { "app.kubernetes.io/part-of": "streamforge", "strimzi.io/cluster": kafka.clusterName };

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

    this.nodePools = kafka.nodePools.map(
      (pool) =>
        new k8s.apiextensions.CustomResource(
          `${name}-pool-${pool.name}`,
          {
            apiVersion: STRIMZI_API_VERSION,
            kind: "KafkaNodePool",
            metadata: { name: pool.name, namespace: kafka.namespace, labels },
            spec: nodePoolSpec(pool),
          },
          { parent: this },
        ),
    );

    this.kafka = new k8s.apiextensions.CustomResource(
      `${name}-kafka`,
      {
        apiVersion: STRIMZI_API_VERSION,
        kind: "Kafka",
        metadata: { name: kafka.clusterName, namespace: kafka.namespace, labels: { "app.kubernetes.io/part-of": "streamforge" } },
        spec: kafkaSpec(kafka, { externallyManagedUsers: args.externallyManagedUsers }),
      },
      // The node pools must exist when the Kafka CR is reconciled, or Strimzi reports no nodes.
      { parent: this, dependsOn: [...this.nodePools, ...metrics] },
    );
    this.registerOutputs({ kafka: this.kafka });
  }
}
