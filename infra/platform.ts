/**
 * The whole platform program: composes each area's components from the validated config, every
 * one of them given the stack's explicit Kubernetes provider. Areas join here as their issues land.
 */
import { NetworkBaseline } from "./cluster/network";
import { networkPlan } from "./cluster/network-plan";
import { PlatformNamespaces } from "./kit/namespaces";
import { serviceAccountUser } from "./kit/admission-spec";
import { AppsWorkloadGuard } from "./cluster/workload-guard";
import { workloadAccounts } from "./cluster/workload-guard-spec";
import { type ResolvedCluster, clusterProvider } from "./kit/provider";
import type { PlatformConfig } from "./config";
import { planTopics, planUsers } from "./kafka/catalogue";
import { KafkaApiEntities } from "./kafka/kafka-api-entities";
import { KafkaCaSync } from "./kafka/ca-sync";
import { KafkaCluster } from "./kafka/cluster";
import { LISTENER_PORTS, bootstrapAddresses, clusterNames } from "./kafka/cluster-spec";
import { StrimziEntities } from "./kafka/strimzi-entities";
import { StrimziOperator } from "./kafka/strimzi-operator";
import { type StackOutputs, stackOutputs } from "./outputs";
import { SelfHealingOperator } from "./self-healing/component";
import { registryLogin } from "./self-healing/config";
import { OPERATOR_NAME, PULL_SECRET_NAME } from "./self-healing/manifests";
import { ArgoRolloutsController, QueueManagerCanary, ROLLOUTS_RELEASE } from "../rollouts/component";
import { QUEUE_MANAGER } from "../rollouts/spec";
import { ChaosExperiments } from "../chaos/component";
import { kafkaHosts } from "../chaos/spec";
import { Observability } from "../observability/component";
import { observabilityContext } from "../observability/spec";

/**
 * Declares the stack. `cluster` is what the stack's kubeconfig says about its target (read by the
 * entry point); render, offline, has none and shows placeholders.
 */
export function createPlatform(config: PlatformConfig, cluster?: ResolvedCluster): StackOutputs {
  const { kafka, catalogue, strimzi, apps } = config;
  if (!config.cluster) throw new Error("streamforge:cluster is required (checked by infra/cluster/config.ts)");
  const provider = clusterProvider("cluster", config.cluster);
  const providers = [provider];
  const topics = planTopics(catalogue, kafka.replication.factor);
  const users = planUsers(catalogue);
  const kafkaApiOwned = catalogue.owner === "kafka-api";
  const operator = config.operator?.enabled ? config.operator : undefined;
  const watchNamespace = operator?.watchNamespace ?? apps.namespace;
  // The apps hold their Kafka credentials (and the operator runs beside its own), and the Jobs
  // the operator watches may live in a namespace of their own: all of them are Kafka's clients.
  const clientNamespaces = [...new Set([apps.namespace, ...(operator ? [watchNamespace] : [])])];

  const namespaces = new PlatformNamespaces(
    "streamforge",
    {
      namespaces: [
        // Strimzi 1.2's operator passes restricted, and its operands do with the restricted provider (strimzi-operator.ts).
        { name: kafka.namespace, podSecurity: "restricted" },
        ...(strimzi.install ? [{ name: strimzi.namespace, podSecurity: "restricted" as const }] : []),
        // queue-manager's Jobs set no securityContext: the apps guard's defaults fill in what
        // restricted asks for (cluster/pod-defaults-spec.ts), so restricted holds there too.
        ...clientNamespaces.map((name) => ({ name, podSecurity: "restricted" as const })),
        // The network-latency helper is privileged (HostPID, NET_ADMIN): only the chaos namespace allows it.
        // Litmus' operator runs there too, watching only that namespace (chaos/README.md).
        ...(config.chaos?.enabled ? [{ name: config.chaos.namespace, podSecurity: "privileged" as const }] : []),
        ...(config.rollouts?.enabled && config.rollouts.controller.install
          ? [{ name: config.rollouts.controller.namespace, podSecurity: "restricted" as const }]
          : []),
      ],
      create: config.namespaces.create,
    },
    { providers },
  );

  // The CA copy in the apps namespace follows Strimzi's renewals through the syncer, which runs
  // from the operator's image: where there is no operator, each `up` refreshes the copy instead.
  const caSynced = operator !== undefined && strimzi.awaitReady && apps.namespace !== kafka.namespace;
  const network = networkPlan(config, { clientNamespaces, caSync: caSynced });
  new NetworkBaseline(
    "network",
    { denyIn: network.denyIn, ingress: network.ingress, egress: network.egress },
    { providers, dependsOn: namespaces.dependencies(...network.denyIn) },
  );

  // Who may use which credentials, run as which account, where: in place before any workload.
  const login = operator ? registryLogin(operator.image) : undefined;
  const workloads = new AppsWorkloadGuard(
    "apps-guard",
    {
      namePrefix: `streamforge-${apps.namespace}`,
      appsNamespace: apps.namespace,
      namespaces: clientNamespaces,
      defaultRunAsUser: apps.defaultRunAsUser,
      // The config rules require the deployers in every stack.
      deployers: apps.deployers!,
      responders: apps.responders,
      ...(config.rollouts?.enabled
        ? { rolloutsController: serviceAccountUser(config.rollouts.controller.namespace, ROLLOUTS_RELEASE) }
        : {}),
      ...workloadAccounts({
        users,
        operator: operator && {
          serviceAccount: OPERATOR_NAME,
          kafkaUser: operator.kafkaUser,
          pullSecrets: login ? [PULL_SECRET_NAME] : [],
        },
        queueManager: { serviceAccount: QUEUE_MANAGER, kafkaUser: config.rollouts?.queueManager.kafkaUser ?? QUEUE_MANAGER },
      }),
    },
    { providers, dependsOn: namespaces.dependencies(...clientNamespaces) },
  );

  const strimziOperator = strimzi.install
    ? new StrimziOperator(
        "strimzi",
        // The users live in the apps namespace: the entity operator needs its RBAC there too.
        { strimzi, watchNamespaces: [kafka.namespace, apps.namespace] },
        { providers, dependsOn: namespaces.dependencies(strimzi.namespace, kafka.namespace, apps.namespace) },
      )
    : undefined;
  // Strimzi CRs need the CRDs the chart installs.
  const strimziReady = [...namespaces.dependencies(kafka.namespace, apps.namespace), ...(strimziOperator ? [strimziOperator] : [])];

  const kafkaCluster = new KafkaCluster(
    "kafka",
    {
      kafka,
      strimzi,
      externallyManagedUsers: kafkaApiOwned ? users.map((u) => u.name) : [],
      usersNamespace: apps.namespace,
      clientNamespaces,
      caCopyFollowedBySync: caSynced,
    },
    { providers, dependsOn: strimziReady },
  );

  let entities: KafkaApiEntities | StrimziEntities;
  if (kafkaApiOwned) {
    if (!config.kafkaApi) throw new Error("streamforge:kafkaApi is required when streamforge:catalogue.owner is kafka-api");
    entities = new KafkaApiEntities(
      "catalogue",
      {
        connection: { ...config.kafkaApi, password: config.kafkaApiPassword },
        topics,
        users,
        credentialsNamespace: apps.namespace,
        credentialsDependsOn: namespaces.dependencies(apps.namespace),
      },
      // The admin API needs running brokers: where Strimzi runs, the cluster is Ready first.
      { providers, dependsOn: [kafkaCluster] },
    );
  } else {
    entities = new StrimziEntities(
      "catalogue",
      { clusterName: kafkaCluster.clusterName, topicsNamespace: kafka.namespace, usersNamespace: apps.namespace, strimzi, topics, users },
      { providers, dependsOn: [kafkaCluster] },
    );
  }

  if (operator) {
    // The operator runs beside its Kafka credentials Secret: Secrets cannot be mounted across namespaces.
    const tls = !kafkaApiOwned;
    const selfHealing = new SelfHealingOperator(
      "self-healing",
      {
        spec: {
          namespace: apps.namespace,
          watchNamespace,
          replicas: operator.replicas,
          dryRun: operator.dryRun,
          policy: Object.keys(operator.policy).length > 0 ? JSON.stringify(operator.policy) : "",
          monitoringNamespace: config.monitoring.namespace,
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
          apiServer: network.apiServer,
        },
        image: "ref" in operator.image ? { ref: operator.image.ref } : operator.image,
        guard: operator.guard,
        // The config rules guarantee the password wherever there is a login.
        ...(login && config.operatorRegistryPassword ? { login: { ...login, password: config.operatorRegistryPassword } } : {}),
      },
      { providers, dependsOn: [...namespaces.dependencies(apps.namespace, watchNamespace), kafkaCluster, entities, workloads] },
    );
    if (caSynced) {
      const caSecret = clusterNames(kafka.clusterName).clusterCaCertSecret;
      new KafkaCaSync(
        "kafka-ca-sync",
        {
          source: { namespace: kafka.namespace, name: caSecret },
          target: { namespace: apps.namespace, name: caSecret },
          image: selfHealing.image,
          ...(login && config.operatorRegistryPassword ? { login: { ...login, password: config.operatorRegistryPassword } } : {}),
        },
        { providers, dependsOn: [kafkaCluster] },
      );
    }
  }

  const rollouts = config.rollouts?.enabled ? config.rollouts : undefined;
  if (rollouts) {
    const controller = rollouts.controller.install
      ? new ArgoRolloutsController(
          "rollouts",
          // Render has no cluster: the CRDs are named with their pinned sums, not fetched.
          { rollouts, appsNamespace: apps.namespace, offline: cluster === undefined },
          { providers, dependsOn: namespaces.dependencies(rollouts.controller.namespace) },
        )
      : undefined;
    new QueueManagerCanary(
      "queue-manager",
      {
        rollouts,
        cluster: config.cluster,
        context: {
          namespace: apps.namespace,
          kafkaBootstrap: bootstrapAddresses(kafka).tls,
          controlTopic: "queue-control",
          eventsTopic: "queue-events",
          kafkaUserSecret: rollouts.queueManager.kafkaUser,
          clusterCaSecret: clusterNames(kafka.clusterName).clusterCaCertSecret,
          monitoringNamespace: config.monitoring.namespace,
          ...(config.observability.enabled ? { monitorSelectorLabels: config.observability.selectorLabels } : {}),
        },
      },
      { providers, dependsOn: [...namespaces.dependencies(apps.namespace), entities, workloads, ...(controller ? [controller] : [])] },
    );
  }

  const chaos = config.chaos?.enabled ? config.chaos : undefined;
  if (chaos) {
    new ChaosExperiments(
      "chaos",
      {
        chaos,
        context: {
          chaosNamespace: chaos.namespace,
          kafkaNamespace: kafka.namespace,
          clusterName: kafka.clusterName,
          prometheusAddress: chaos.prometheusAddress,
          appsNamespace: apps.namespace,
          kafkaHosts: kafkaHosts(kafka),
          kafkaNodePools: kafka.nodePools,
        },
      },
      { providers, dependsOn: [...namespaces.dependencies(chaos.namespace, apps.namespace), kafkaCluster] },
    );
  }

  if (config.observability.enabled) {
    new Observability(
      "observability",
      { observability: config.observability, context: observabilityContext(config) },
      { providers, dependsOn: namespaces.dependencies(kafka.namespace, apps.namespace) },
    );
  }

  return stackOutputs(config, topics, users, cluster);
}
