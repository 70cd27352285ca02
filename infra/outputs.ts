/**
 * The stack outputs: the contract other teams read with `StackReference`. Flat, named, stable.
 * What each output is, its type and stability are declared in ./kit/outputs-contract.ts; this file
 * only computes the values, typed from there.
 */
import type { ResolvedCluster } from "./kit/provider";
import type { PlatformConfig } from "./config";
import { rolloutOutputs } from "../rollouts/outputs";
import { chaosOutputs } from "../chaos/outputs";
import { bootstrapAddresses, clusterNames } from "./kafka/cluster-spec";
import type { TopicPlan, UserPlan } from "./kafka/catalogue";
import {
  type OutputValues,
  type PLATFORM_OUTPUTS,
  type PlatformOutputs,
  topicOutputKey,
  userOutputKey,
  userSecretOutputKey,
} from "./kit/outputs-contract";

export { pascalCase, topicOutputKey, userOutputKey, userSecretOutputKey } from "./kit/outputs-contract";

/** Shown offline (render) for what only the stack's kubeconfig can tell. */
export const FROM_KUBECONFIG_PLACEHOLDER = "[read from the kubeconfig at deploy]";

export type FixedOutputs = OutputValues<typeof PLATFORM_OUTPUTS>;
export type StackOutputs = PlatformOutputs & Readonly<Record<string, string | string[]>>;

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
