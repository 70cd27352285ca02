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
import { SelfHealingOperator } from "./operator/component";
import { LISTENER_PORTS, bootstrapAddresses, clusterNames } from "./kafka/cluster-spec";
import { type StackOutputs, credentialsNamespace, stackOutputs } from "./outputs";

export function createPlatform(config: PlatformConfig): StackOutputs {
  const { kafka, catalogue, strimzi } = config;
  const topics = planTopics(catalogue, kafka.replication.factor);
  const users = planUsers(catalogue);
  const kafkaApiOwned = catalogue.owner === "kafka-api";
  const operator = config.operator?.enabled ? config.operator : undefined;
  const watchNamespace = operator?.watchNamespace ?? config.apps.namespace;

  const namespaces = new PlatformNamespaces("streamforge", {
    namespaces: [
      // Strimzi 1.2 runs its operator and Kafka pods under the restricted standard.
      { name: kafka.namespace, podSecurity: "restricted" },
      ...(strimzi.install ? [{ name: strimzi.namespace, podSecurity: "restricted" as const }] : []),
      // The apps namespace holds the Jobs the operator watches (its Role lives there) and, with
      // kafka-api ownership, the users' credentials. queue-manager's Jobs set no securityContext
      // today, so enforcing restricted there would reject them: baseline, with restricted warnings.
      ...(kafkaApiOwned || operator ? [{ name: config.apps.namespace, podSecurity: "baseline" as const }] : []),
      // The Jobs the operator watches may live in a namespace of their own: the same reasoning.
      ...(operator ? [{ name: watchNamespace, podSecurity: "baseline" as const }] : []),
    ],
    create: config.namespaces.create,
  });

  const strimziOperator = strimzi.install
    ? new StrimziOperator(
        "strimzi",
        { strimzi, watchNamespaces: [kafka.namespace] },
        { dependsOn: namespaces.dependencies(strimzi.namespace, kafka.namespace) },
      )
    : undefined;
  // Strimzi CRs need the CRDs the chart installs.
  const strimziReady = [...namespaces.dependencies(kafka.namespace), ...(strimziOperator ? [strimziOperator] : [])];

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
      credentialsNamespace: credentialsNamespace(config),
      credentialsDependsOn: namespaces.dependencies(config.apps.namespace),
    });
  } else {
    new StrimziEntities(
      "catalogue",
      { clusterName: cluster.clusterName, namespace: cluster.namespace, topics, users },
      { dependsOn: [cluster] },
    );
  }

  if (operator) {
    // The operator runs where its Kafka credentials Secret is: Secrets cannot be mounted across namespaces.
    const namespace = credentialsNamespace(config);
    const tls = !kafkaApiOwned;
    const registryPassword = config.operatorRegistryPassword;
    new SelfHealingOperator(
      "self-healing",
      {
        spec: {
          namespace,
          watchNamespace,
          replicas: operator.replicas,
          dryRun: operator.dryRun,
          policy: Object.keys(operator.policy).length > 0 ? JSON.stringify(operator.policy) : "",
          kafka: {
            bootstrapServers: bootstrapAddresses(kafka).tls,
            topic: "queue-events",
            groupId: operator.groupId,
            tls,
            ...(tls ? { caSecret: clusterNames(kafka.clusterName).clusterCaCertSecret } : {}),
            username: operator.kafkaUser,
            userSecret: operator.kafkaUser,
            namespace: kafka.namespace,
            clusterName: kafka.clusterName,
            port: LISTENER_PORTS.tls,
          },
          apiServerCidr: operator.apiServerCidr,
        },
        image:
          "ref" in operator.image ? operator.image : { ...operator.image, ...(registryPassword ? { password: registryPassword } : {}) },
      },
      { dependsOn: [...namespaces.dependencies(namespace, config.apps.namespace, watchNamespace), cluster] },
    );
  }

  return stackOutputs(config, topics, users);
}
