/**
 * Which topics a kafka-api stack's preview reads from Kafka (infra/kafka/kafka-api-live.ts): the
 * catalogue's own, or the one its resource name maps to where the catalogue's name is not there (a
 * rename the provider would carry out as a replacement), never Kafka's internal topics; and how the
 * ACLs Kafka describes are named, by user, as a KafkaUser's would be. The read itself runs against
 * the real broker in infra/kafka/test/kafka-api-live.itest.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } from "kafkajs";
import { aclsByUser, liveTopicOf, readFailure, topicsToRead } from "../kafka-api-live";
import { aclEntries, aclImpact } from "../impact";
import { planAcls } from "../catalogue";
import { kafkaUserSpec } from "../strimzi-entities";

describe("the topics a kafka-api preview reads", () => {
  it("the catalogue's by name; a renamed one by the name it maps to; nothing else", () => {
    const existing = ["Orders", "__consumer_offsets", "market-trades", "other-team.events", "queue_events", "queue-events"];
    expect(topicsToRead(existing, ["orders", "market-trades", "queue-events", "absent"])).toEqual([
      "Orders",
      "market-trades",
      "queue-events",
    ]);
    // `consumer-offsets` in the catalogue is not Kafka's __consumer_offsets.
    expect(topicsToRead(existing, ["consumer-offsets"])).toEqual([]);
  });

  it("shapes a Kafka topic as the KafkaTopic the rules compare, so a rename shows as topicNameChanged", () => {
    expect(liveTopicOf({ name: "Orders", partitions: 3, replicas: 2, config: { "retention.ms": "1000" } })).toEqual({
      kind: "KafkaTopic",
      namespace: "",
      name: "orders",
      spec: { topicName: "Orders", partitions: 3, replicas: 2, config: { "retention.ms": "1000" } },
    });
  });
});

describe("the ACLs a kafka-api preview reads", () => {
  const acl = (principal: string, operation: AclOperationTypes, permissionType = AclPermissionTypes.ALLOW, host = "*") => ({
    principal,
    host,
    operation,
    permissionType,
  });

  it("named by user as a KafkaUser's rules would be: only the named users', every resource type, deny and host kept", () => {
    const byUser = aclsByUser(
      [
        {
          resourceType: AclResourceTypes.TOPIC,
          resourceName: "market-trades",
          resourcePatternType: ResourcePatternTypes.LITERAL,
          acls: [
            acl("User:loaders", AclOperationTypes.WRITE),
            acl("User:other-team", AclOperationTypes.READ),
            acl("Group:ops", AclOperationTypes.READ),
          ],
        },
        {
          resourceType: AclResourceTypes.GROUP,
          resourceName: "loader-",
          resourcePatternType: ResourcePatternTypes.PREFIXED,
          acls: [
            acl("User:loaders", AclOperationTypes.READ),
            acl("User:loaders", AclOperationTypes.DELETE, AclPermissionTypes.DENY, "10.0.0.1"),
          ],
        },
        {
          resourceType: AclResourceTypes.CLUSTER,
          resourceName: "kafka-cluster",
          resourcePatternType: ResourcePatternTypes.LITERAL,
          acls: [acl("User:loaders", AclOperationTypes.IDEMPOTENT_WRITE)],
        },
        {
          resourceType: AclResourceTypes.TRANSACTIONAL_ID,
          resourceName: "loader-tx",
          resourcePatternType: ResourcePatternTypes.LITERAL,
          acls: [acl("User:loaders", AclOperationTypes.DESCRIBE_CONFIGS)],
        },
      ],
      ["loaders", "queue-manager"],
    );
    expect(byUser).toEqual({
      loaders: [
        "allow DescribeConfigs on transactionalId loader-tx",
        "allow IdempotentWrite on cluster",
        "allow Read on group loader-* (prefix)",
        "allow Write on topic market-trades",
        "deny Delete on group loader-* (prefix) from 10.0.0.1",
      ],
      "queue-manager": [],
    });
  });

  it("the grants the catalogue declares, read back from Kafka, are the KafkaUser's: no change", () => {
    // kafka-api-entities.ts creates one ACL per operation of each planned rule; Kafka returns them per resource.
    const rules = planAcls({ produce: ["queue-events", "market-*"], consume: ["queue-control"], groups: ["loader-*"] });
    const resources = rules.map((rule) => ({
      resourceType: rule.resourceType === "topic" ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
      resourceName: rule.name,
      resourcePatternType: rule.patternType === "prefix" ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
      acls: rule.operations.map((op) => acl("User:loaders", AclOperationTypes[op.toUpperCase() as "READ" | "WRITE" | "DESCRIBE"])),
    }));
    const declared = aclEntries(kafkaUserSpec({ name: "loaders", service: "loader", acls: rules }).authorization);
    expect(new Set(aclsByUser(resources, ["loaders"]).loaders)).toEqual(declared);
    expect(aclImpact(new Set(aclsByUser(resources, ["loaders"]).loaders), declared)).toBeUndefined();
  });
});

describe("why a kafka-api preview's read failed", () => {
  const api = { bootstrapServers: ["kafka.example:9093"], tls: true, caCertificate: undefined };
  it("a principal Kafka refuses names the connection's user and the grants, not the address", () => {
    // As kafkajs rejects it: the protocol error it makes of Kafka's code 31, bailed out of DescribeAcls unwrapped (admin/index.js).
    const { createErrorFromCode } = jest.requireActual<{ createErrorFromCode: (code: number) => Error }>("kafkajs/src/protocol/error");
    const refused = createErrorFromCode(31);
    const failure = readFailure(refused, api);
    // A RunError whose stack is its message: the runtime prints the message alone, and fast.
    expect([pulumi.RunError.isInstance(failure), failure.stack]).toEqual([true, `LiveReadError: ${failure.message}`]);
    expect(failure.message).toBe(
      "streamforge:kafkaApi.sasl.username: expected the admin connection's principal to describe the catalogue's topics (Describe, DescribeConfigs) and the cluster's ACLs (Describe on the cluster, which Alter on it implies); found: Cluster authorization failed",
    );
  });
  it("anything else names the address, the CA where a certificate failed, and the break glass", () => {
    const untrusted = readFailure(new Error("self-signed certificate in certificate chain"), api).message;
    expect(untrusted).toMatch(
      /^streamforge:kafkaApi\.bootstrapServers: expected Kafka to answer at kafka\.example:9093 .*found: self-signed certificate/,
    );
    expect(untrusted).toContain("set streamforge:kafkaApi.caCertificate to it (PEM)");
    expect(readFailure(new Error("Connection timeout"), api).message).not.toContain("caCertificate");
    expect(readFailure(new Error("Connection timeout"), api).message).toContain("streamforge:kafkaApi.unreachable");
  });
});
