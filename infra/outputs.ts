/**
 * The stack outputs: the contract other teams read with `StackReference`. Flat, named, stable.
 * Renaming or removing one breaks consumers; test/outputs-contract.test.ts guards them.
 */
import type { ResolvedCluster } from "./cluster/provider";
import type { PlatformConfig } from "./config";
import { type RolloutOutputs, rolloutOutputs } from "../rollouts/outputs";
import { type ChaosOutputs, chaosOutputs } from "../chaos/outputs";
import { bootstrapAddresses, clusterNames } from "./kafka/cluster-spec";
import type { TopicPlan, UserPlan } from "./kafka/catalogue";

/** Shown offline (render) for what only the stack's kubeconfig can tell. */
export const FROM_KUBECONFIG_PLACEHOLDER = "[read from the kubeconfig at deploy]";

/** `queue-events` -> `QueueEvents`, `market.trades_v1` -> `MarketTradesV1`. */
export function pascalCase(name: string): string {
  return name
    .split(/[^a-zA-Z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join("");
}

/** Output keys of one topic and one user, derived from their names. */
export const topicOutputKey = (topic: string): string => `topic${pascalCase(topic)}`;
export const userOutputKey = (user: string): string => `kafkaUser${pascalCase(user)}`;
export const userSecretOutputKey = (user: string): string => `kafkaUser${pascalCase(user)}Secret`;

/** Fixed outputs every stack has, with what each holds. README's table is made from this. */
export const FIXED_OUTPUTS = {
  environment: "Environment of the stack: local, dev or prod.",
  kubernetesContext: "The kubeconfig context the stack deployed with.",
  kubernetesApiServer: "URL of the API server of the cluster the stack deployed to.",
  kafkaClusterName: "Name of the Strimzi Kafka cluster (the Kafka CR).",
  kafkaNamespace: "Namespace of the Kafka cluster.",
  kafkaBootstrapTls: "Bootstrap servers of the internal TLS + SCRAM-SHA-512 listener (host:port).",
  kafkaBootstrapPlain: "Bootstrap servers of the plain internal listener; empty when it is off.",
  kafkaBootstrapExternal: "In-cluster name:port of the external bootstrap Service; empty when off.",
  kafkaSaslMechanism: "SASL mechanism the TLS listener requires (SCRAM-SHA-512).",
  kafkaClusterCaSecret: "Secret (in kafkaNamespace) holding the cluster CA certificate (ca.crt).",
  kafkaUserSecretNamespace: "Namespace of the Secrets holding each user's credentials: the apps namespace.",
  kafkaTopicNames: "Names of all catalogue topics.",
  kafkaUserNames: "Names of all catalogue Kafka users.",
  kafkaCatalogueOwner: "Who owns topics and users in this stack: strimzi or kafka-api.",
  strimziOperatorNamespace: "Namespace of the Strimzi cluster operator this stack installed; empty when not installed.",
} as const;

export type FixedOutputs = {
  readonly [K in keyof typeof FIXED_OUTPUTS]: K extends "kafkaTopicNames" | "kafkaUserNames" ? string[] : string;
};
export type StackOutputs = FixedOutputs & RolloutOutputs & ChaosOutputs & Readonly<Record<string, string | string[]>>;

/** Builds the stack outputs from the config and the plans. Pure: no resource is read. */
export function stackOutputs(
  config: PlatformConfig,
  topics: readonly TopicPlan[],
  users: readonly UserPlan[],
  cluster: ResolvedCluster | undefined,
): StackOutputs {
  const { kafka } = config;
  const addresses = bootstrapAddresses(kafka);
  const fixed: FixedOutputs = {
    environment: config.environment,
    kubernetesContext: cluster?.context ?? config.cluster?.context ?? FROM_KUBECONFIG_PLACEHOLDER,
    kubernetesApiServer: cluster?.server ?? FROM_KUBECONFIG_PLACEHOLDER,
    kafkaClusterName: kafka.clusterName,
    kafkaNamespace: kafka.namespace,
    kafkaBootstrapTls: addresses.tls,
    kafkaBootstrapPlain: addresses.plain,
    kafkaBootstrapExternal: addresses.external,
    kafkaSaslMechanism: "SCRAM-SHA-512",
    kafkaClusterCaSecret: clusterNames(kafka.clusterName).clusterCaCertSecret,
    kafkaUserSecretNamespace: config.apps.namespace,
    kafkaTopicNames: topics.map((t) => t.name),
    kafkaUserNames: users.map((u) => u.name),
    kafkaCatalogueOwner: config.catalogue.owner,
    strimziOperatorNamespace: config.strimzi.install ? config.strimzi.namespace : "",
  };
  const derived: Record<string, string> = {};
  const claim = (key: string, value: string, from: string): void => {
    if (key in fixed || key in derived) throw new Error(`Output key "${key}" of ${from} collides with another output; rename it`);
    derived[key] = value;
  };
  for (const t of topics) claim(topicOutputKey(t.name), t.name, `topic "${t.name}"`);
  for (const u of users) {
    claim(userOutputKey(u.name), u.name, `user "${u.name}"`);
    // Strimzi names a user's Secret after the user, in the apps namespace; the kafka-api path does the same.
    claim(userSecretOutputKey(u.name), u.name, `user "${u.name}"`);
  }
  return { ...fixed, ...rolloutOutputs(config.rollouts, config.apps.namespace), ...chaosOutputs(config.chaos), ...derived };
}
