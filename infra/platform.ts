/**
 * The whole platform program: composes the components from the validated config.
 * Rollouts, chaos and the self-healing operator's deployment join here as their issues land.
 */
import type { PlatformConfig } from "./config";
import { planTopics, planUsers } from "./kafka/catalogue";
import { KafkaApiEntities } from "./kafka/kafka-api-entities";
import { KafkaCluster } from "./kafka/cluster";
import { StrimziEntities } from "./kafka/strimzi-entities";
import { StrimziOperator } from "./kafka/strimzi-operator";
import { PlatformNamespaces } from "./namespaces";
import { type StackOutputs, stackOutputs } from "./outputs";

export function createPlatform(config: PlatformConfig): StackOutputs {
  const { kafka, catalogue, strimzi } = config;
  const topics = planTopics(catalogue, kafka.replication.factor);
  const users = planUsers(catalogue);
  const kafkaApiOwned = catalogue.owner === "kafka-api";

  const namespaces = new PlatformNamespaces("streamforge", {
    namespaces: [
      // Strimzi 1.2 runs its operator and Kafka pods under the restricted standard.
      { name: kafka.namespace, podSecurity: "restricted" },
      ...(strimzi.install ? [{ name: strimzi.namespace, podSecurity: "restricted" as const }] : []),
      // The apps namespace only holds credentials here; queue-manager's Jobs set no
      // securityContext today, so enforcing restricted there would reject them.
      ...(kafkaApiOwned ? [{ name: config.apps.namespace, podSecurity: "baseline" as const }] : []),
    ],
    create: config.namespaces.create,
  });

  const operator = strimzi.install
    ? new StrimziOperator(
        "strimzi",
        { strimzi, watchNamespaces: [kafka.namespace] },
        { dependsOn: namespaces.dependencies(strimzi.namespace, kafka.namespace) },
      )
    : undefined;
  // Strimzi CRs need the CRDs the chart installs.
  const strimziReady = [...namespaces.dependencies(kafka.namespace), ...(operator ? [operator] : [])];

  const cluster = new KafkaCluster(
    "kafka",
    { kafka, externallyManagedUsers: kafkaApiOwned ? users.map((u) => u.name) : [] },
    { dependsOn: strimziReady },
  );

  if (kafkaApiOwned) {
    if (!config.kafkaApi) throw new Error("streamforge:kafkaApi is required when streamforge:catalogue.owner is kafka-api");
    new KafkaApiEntities("catalogue", {
      connection: config.kafkaApi,
      topics,
      users,
      credentialsNamespace: config.apps.namespace,
      credentialsDependsOn: namespaces.dependencies(config.apps.namespace),
    });
  } else {
    new StrimziEntities(
      "catalogue",
      { clusterName: cluster.clusterName, namespace: cluster.namespace, topics, users },
      { dependsOn: [cluster] },
    );
  }

  return stackOutputs(config, topics, users);
}
