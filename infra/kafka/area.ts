/**
 * The Kafka area's descriptor: Strimzi's cluster operator, the Kafka cluster and its node pools,
 * the catalogue's topics and users through their owner, and the outputs clients connect with.
 */
import * as pulumi from "@pulumi/pulumi";
import { type AreaStack, defineAreaDescriptor, partsOf } from "../kit/area";
import { type OutputValues, type PLATFORM_OUTPUTS, topicOutputKey, userOutputKey, userSecretOutputKey } from "../kit/outputs-contract";
import type { ClusterAreaConfig } from "../cluster/config";
import type { SelfHealingAreaConfig } from "../self-healing/config";
import { planTopics, planUsers } from "./catalogue";
import { caSynced, clientNamespaces } from "./clients";
import { KafkaCluster } from "./cluster";
import { type KafkaAreaConfig, kafkaArea, topicDeletionEnabled } from "./config";
import type { LiveKafka } from "./data-safety";
import { declaredAcls, impactReport } from "./impact";
import { kafkaEditImpacts, kafkaEditProblems } from "./kafka-changes";
import { KafkaApiEntities } from "./kafka-api-entities";
import { StrimziEntities, kafkaUserSpec } from "./strimzi-entities";
import { PreviewerAccess } from "./previewers";
import { StrimziOperator, strimziImages } from "./strimzi-operator";

/** What the Kafka area reads: its own settings, the apps namespace, and whether the operator runs. */
export type KafkaStackConfig = KafkaAreaConfig & Pick<ClusterAreaConfig, "apps" | "environment"> & Pick<SelfHealingAreaConfig, "operator">;

export interface KafkaParts {
  /** Strimzi's cluster operator, where the stack installs it. */
  readonly operator: StrimziOperator | undefined;
  readonly cluster: KafkaCluster;
  /** The catalogue's topics and users, through Strimzi's operators or the Kafka admin API. */
  readonly entities: StrimziEntities | KafkaApiEntities;
  /** The preview identity's read of the Kafka objects the program reads live. */
  readonly previewers: PreviewerAccess;
}

export const kafkaParts = partsOf<KafkaParts>("kafka");

type KafkaFixedOutputs = Omit<OutputValues<typeof PLATFORM_OUTPUTS>, "environment" | "kubernetesContext" | "kubernetesApiServer">;
/** The fixed Kafka outputs, and one per catalogue topic and user. */
type KafkaOutputs = KafkaFixedOutputs & Readonly<Record<string, string | string[]>>;

function create({ config, providers, namespaces, observed, cluster: target }: AreaStack<KafkaStackConfig>): KafkaParts {
  const { kafka, catalogue, strimzi, apps, retire } = config;
  const topics = planTopics(catalogue, kafka.replication.factor);
  const users = planUsers(catalogue);
  const live = observed.kafka as LiveKafka | undefined;
  const kafkaApiOwned = catalogue.owner === "kafka-api";
  const clients = clientNamespaces(config);

  const operator = strimzi.install
    ? new StrimziOperator(
        "strimzi",
        // The users live in the apps namespace: the entity operator needs its RBAC there too.
        { strimzi, watchNamespaces: [kafka.namespace, apps.namespace], offline: target === undefined },
        { providers, dependsOn: namespaces.dependencies(strimzi.namespace, kafka.namespace, apps.namespace) },
      )
    : undefined;
  // Strimzi CRs need the CRDs the chart installs.
  const strimziReady = [...namespaces.dependencies(kafka.namespace, apps.namespace), ...(operator ? [operator] : [])];

  const cluster = new KafkaCluster(
    "kafka",
    {
      kafka,
      strimzi,
      // Those the stack released ("keep") stay out of the User Operator's hands too: it deletes the
      // credentials and ACLs of any user without a KafkaUser that the pattern does not name
      // (user-operator ScramCredentialsOperator.java:184, SimpleAclOperator.java:325, QuotasOperator.java:222 at 1.2.0).
      catalogueOwner: catalogue.owner,
      ...(kafkaApiOwned ? { kafkaApiAcls: declaredAcls(users.map((u) => ({ name: u.name, spec: kafkaUserSpec(u) }))) } : {}),
      externallyManagedUsers: kafkaApiOwned ? externallyManaged(users, retire) : [],
      usersNamespace: apps.namespace,
      clientNamespaces: clients,
      caCopyFollowedBySync: caSynced(config),
      retire,
      topicDeletion: topicDeletionEnabled(kafka, config.environment),
    },
    { providers, dependsOn: strimziReady },
  );

  // Every preview says what its changes do to the running cluster, destructive and disruptive first.
  if (live) {
    const impacts = kafkaEditImpacts(config, live, cluster.spec);
    const report = impactReport(impacts);
    if (impacts.some((i) => i.level !== "benign")) void pulumi.log.warn(report);
    else void pulumi.log.info(report);
  }

  let entities: StrimziEntities | KafkaApiEntities;
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
        retire,
      },
      // The admin API needs running brokers: where Strimzi runs, the cluster is Ready first.
      { providers, dependsOn: [cluster] },
    );
  } else {
    entities = new StrimziEntities(
      "catalogue",
      {
        clusterName: cluster.clusterName,
        topicsNamespace: kafka.namespace,
        usersNamespace: apps.namespace,
        strimzi,
        topics,
        users,
        retire,
      },
      { providers, dependsOn: [cluster] },
    );
  }
  // The program reads the cluster before declaring anything (infra/index.ts): a preview identity may read exactly that.
  const previewers = new PreviewerAccess(
    "previewers",
    { kafkaNamespace: kafka.namespace, usersNamespace: apps.namespace, previewers: apps.previewers },
    { providers, dependsOn: namespaces.dependencies(kafka.namespace, apps.namespace) },
  );
  return { operator, cluster, entities, previewers };
}

/** The Kafka outputs, read from the components: the cluster's names and addresses, the catalogue as its owner declared it. */
function outputs({ operator, cluster, entities }: KafkaParts): KafkaOutputs {
  const { declared } = entities;
  const fixed: KafkaFixedOutputs = {
    kafkaClusterName: cluster.clusterName,
    kafkaNamespace: cluster.namespace,
    kafkaBootstrapTls: cluster.bootstrap.tls,
    kafkaBootstrapPlain: cluster.bootstrap.plain,
    kafkaBootstrapExternal: cluster.bootstrap.external,
    kafkaSaslMechanism: "SCRAM-SHA-512",
    kafkaClusterCaSecret: cluster.caSecret,
    kafkaUserSecretNamespace: declared.userSecretNamespace,
    kafkaTopicNames: [...declared.topicNames],
    kafkaUserNames: [...declared.userNames],
    kafkaCatalogueOwner: entities instanceof KafkaApiEntities ? "kafka-api" : "strimzi",
    strimziOperatorNamespace: operator?.namespace ?? "",
  };
  const named: Record<string, string> = {};
  const claim = (key: string, value: string, from: string): void => {
    if (key in fixed || key in named) throw new Error(`Output key "${key}" of ${from} collides with another output; rename it`);
    named[key] = value;
  };
  for (const topic of declared.topicNames) claim(topicOutputKey(topic), topic, `topic "${topic}"`);
  for (const user of declared.userNames) {
    claim(userOutputKey(user), user, `user "${user}"`);
    claim(userSecretOutputKey(user), declared.userSecrets[user]!, `user "${user}"`);
  }
  return { ...fixed, ...named };
}

/** The users Kafka holds that the User Operator must leave alone: the catalogue's, and those retired with "keep". */
export function externallyManaged(users: readonly { readonly name: string }[], retire: KafkaStackConfig["retire"]): string[] {
  const kept = Object.entries(retire.users).flatMap(([name, mode]) => (mode === "keep" ? [name] : []));
  return [...new Set([...users.map((u) => u.name), ...kept])].sort();
}

export const kafkaAreaDescriptor = defineAreaDescriptor({
  name: "kafka",
  config: kafkaArea,
  // Strimzi 1.2's operator passes restricted, and its operands do with the restricted provider (strimzi-operator.ts).
  namespaces: ({ kafka, strimzi, apps }: KafkaStackConfig) => [
    { name: kafka.namespace, podSecurity: "restricted" as const, holdsData: true },
    // The users' credentials Secrets live in the apps namespace.
    { name: apps.namespace, podSecurity: "restricted" as const, holdsData: true },
    ...(strimzi.install ? [{ name: strimzi.namespace, podSecurity: "restricted" as const }] : []),
  ],
  images: ({ kafka, strimzi }: KafkaStackConfig) => {
    const images = strimziImages(strimzi, kafka.version);
    // Where Strimzi is installed elsewhere, its operator's image is not the stack's to pin.
    return [...(strimzi.install ? [images.operator] : []), images.kafka];
  },
  // Nothing the cluster holds leaves unconfirmed, and Strimzi can make every change (kafka-changes.ts).
  refusals: (config: KafkaStackConfig, observed) => {
    const live = observed.kafka as LiveKafka | undefined;
    return live ? kafkaEditProblems(config, live) : [];
  },
  create,
  outputs,
});
