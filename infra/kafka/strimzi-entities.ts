import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { STRIMZI_API_VERSION } from "./cluster-spec";
import type { TopicPlan, UserPlan } from "./catalogue";

/** KafkaTopic v1 object body (without metadata) for a planned topic. */
export function kafkaTopicSpec(plan: TopicPlan): object {
  return {
    ...(plan.resourceName !== plan.name ? { topicName: plan.name } : {}),
    partitions: plan.partitions,
    replicas: plan.replicas,
    config: plan.config,
  };
}

/** KafkaUser v1 spec: SCRAM-SHA-512 credentials and the user's ACLs, `operations` as lists. */
export function kafkaUserSpec(plan: UserPlan): object {
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
  readonly clusterName: string;
  readonly namespace: string;
  readonly topics: readonly TopicPlan[];
  readonly users: readonly UserPlan[];
}

/** Topics and users owned by Strimzi's Topic and User Operators. */
export class StrimziEntities extends pulumi.ComponentResource {
  constructor(name: string, args: StrimziEntitiesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:kafka:StrimziEntities", name, {}, opts);
    const labels = { "strimzi.io/cluster": args.clusterName, "app.kubernetes.io/part-of": "streamforge" };
    for (const topic of args.topics) {
      new k8s.apiextensions.CustomResource(
        `${name}-topic-${topic.resourceName}`,
        {
          apiVersion: STRIMZI_API_VERSION,
          kind: "KafkaTopic",
          metadata: { name: topic.resourceName, namespace: args.namespace, labels },
          spec: kafkaTopicSpec(topic),
        },
        { parent: this },
      );
    }
    for (const user of args.users) {
      new k8s.apiextensions.CustomResource(
        `${name}-user-${user.name}`,
        {
          apiVersion: STRIMZI_API_VERSION,
          kind: "KafkaUser",
          metadata: { name: user.name, namespace: args.namespace, labels: { ...labels, "streamforge.io/service": user.service } },
          spec: kafkaUserSpec(user),
        },
        { parent: this },
      );
    }
    this.registerOutputs({});
  }
}
