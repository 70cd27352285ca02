import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { STRIMZI_API_VERSION, readinessAnnotations } from "./cluster-spec";
import type { TopicPlan, UserPlan } from "./catalogue";
import type { RetireConfig, StrimziConfig } from "./config";
import { keepOptions, retireAnnotations, retireModeOf } from "./data-safety";
import { type CatalogueDeclared, catalogueDeclared } from "./declared";

/** KafkaTopic v1 object body (without metadata) for a planned topic. */
export function kafkaTopicSpec(plan: TopicPlan): Record<string, unknown> {
  return {
    ...(plan.resourceName !== plan.name ? { topicName: plan.name } : {}),
    partitions: plan.partitions,
    replicas: plan.replicas,
    config: plan.config,
  };
}

/** KafkaUser v1 spec: SCRAM-SHA-512 credentials and the user's ACLs, `operations` as lists. */
export function kafkaUserSpec(plan: UserPlan): Record<string, unknown> {
  return {
    authentication: { type: "scram-sha-512" },
    authorization: {
      type: "simple",
      acls: plan.acls.map((acl) => ({
        type: "allow",
        resource: { type: acl.resourceType, name: acl.name, patternType: acl.patternType },
        operations: [...acl.operations],
        host: "*",
      })),
    },
  };
}

export interface StrimziEntitiesArgs {
  /** The Kafka CR's name: the `strimzi.io/cluster` label the entity operator selects by. */
  readonly clusterName: string;
  /** Namespace of the KafkaTopics: the Kafka cluster's, which the Topic Operator watches. */
  readonly topicsNamespace: string;
  /** Namespace of the KafkaUsers, which the User Operator watches and writes their Secrets in. */
  readonly usersNamespace: string;
  /** Strimzi's settings: whether `up` waits for each topic and user to be Ready, and for how long. */
  readonly strimzi: StrimziConfig;
  /** The catalogue's topics, planned (infra/kafka/catalogue.ts `planTopics`). */
  readonly topics: readonly TopicPlan[];
  /** The catalogue's users with their ACLs, planned (`planUsers`). */
  readonly users: readonly UserPlan[];
  /** Confirmations that let a topic or user go; without one each is protected (data-safety.ts). */
  readonly retire: RetireConfig;
}

/** Topics and users owned by Strimzi's Topic and User Operators; `pulumi up` waits for each to be Ready where Strimzi runs. */
export class StrimziEntities extends pulumi.ComponentResource {
  /** What the catalogue declared: each topic's and user's Kafka name, and the Secret holding each user's credentials. */
  readonly declared: CatalogueDeclared;

  constructor(name: string, args: StrimziEntitiesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:kafka:StrimziEntities", name, {}, opts);
    const labels = { "strimzi.io/cluster": args.clusterName, "app.kubernetes.io/part-of": "streamforge" };
    const annotations = readinessAnnotations(args.strimzi, "entities");
    for (const topic of args.topics) {
      const mode = retireModeOf(args.retire, "topics", topic.name);
      new k8s.apiextensions.CustomResource(
        `${name}-topic-${topic.resourceName}`,
        {
          apiVersion: STRIMZI_API_VERSION,
          kind: "KafkaTopic",
          metadata: {
            name: topic.resourceName,
            namespace: args.topicsNamespace,
            labels,
            annotations: { ...annotations, ...retireAnnotations(mode) },
          },
          spec: kafkaTopicSpec(topic),
        },
        { parent: this, ...keepOptions(mode) },
      );
    }
    for (const user of args.users) {
      const mode = retireModeOf(args.retire, "users", user.name);
      new k8s.apiextensions.CustomResource(
        `${name}-user-${user.name}`,
        {
          apiVersion: STRIMZI_API_VERSION,
          kind: "KafkaUser",
          metadata: {
            name: user.name,
            namespace: args.usersNamespace,
            labels: { ...labels, "streamforge.io/service": user.service },
            annotations: { ...annotations, ...retireAnnotations(mode) },
          },
          spec: kafkaUserSpec(user),
        },
        { parent: this, ...keepOptions(mode) },
      );
    }
    this.declared = catalogueDeclared(args.topics, args.users, args.usersNamespace);
    this.registerOutputs({ declared: this.declared });
  }
}
