/** Who Kafka's clients are in a stack, as several areas need to know it. Pure. */
import type { ClusterAreaConfig } from "../cluster/config";
import type { SelfHealingAreaConfig } from "../self-healing/config";
import type { KafkaAreaConfig } from "./config";
import { clusterNames } from "./cluster-spec";
import type { KafkaCaCopy } from "../kit/kafka-ca";

/**
 * The namespaces of Kafka's clients: the apps hold their Kafka credentials (and the operator runs
 * beside its own), and the Jobs the operator watches may live in a namespace of their own.
 */
export function clientNamespaces(config: Pick<ClusterAreaConfig, "apps"> & Pick<SelfHealingAreaConfig, "operator">): string[] {
  const operator = config.operator?.enabled ? config.operator : undefined;
  return [...new Set([config.apps.namespace, ...(operator ? [operator.watchNamespace ?? config.apps.namespace] : [])])];
}

/**
 * Whether the CA copy in the apps namespace follows Strimzi's renewals through the syncer, which
 * runs from the operator's image: where there is no operator, each `up` refreshes the copy instead.
 */
export function caSynced(
  config: Pick<ClusterAreaConfig, "apps"> & Pick<SelfHealingAreaConfig, "operator"> & Pick<KafkaAreaConfig, "kafka" | "strimzi">,
): boolean {
  return config.operator?.enabled === true && caCopy(config) !== undefined;
}

/**
 * Where the copy of Strimzi's cluster CA Secret is, where the stack keeps one: in the apps
 * namespace, when it is not Kafka's own and the program waits for Strimzi's CA (infra/kafka/cluster.ts).
 */
export function caCopy(config: Pick<ClusterAreaConfig, "apps"> & Pick<KafkaAreaConfig, "kafka" | "strimzi">): KafkaCaCopy | undefined {
  if (!config.strimzi.awaitReady || config.apps.namespace === config.kafka.namespace) return undefined;
  return { namespace: config.apps.namespace, secretName: clusterNames(config.kafka.clusterName).clusterCaCertSecret };
}
