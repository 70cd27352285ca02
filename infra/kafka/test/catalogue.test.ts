import { planAcls, planTopics, planUsers, topicResourceName } from "../catalogue";
import { kafkaAclRows, saslJaasConfig } from "../kafka-api-entities";
import { kafkaUserSpec } from "../strimzi-entities";
import { committedConfig } from "../../../test/helpers";

const committedCatalogue = (stack: string) => committedConfig(stack).catalogue;

describe("planAcls", () => {
  it("grants a consumer Read and Describe on its topic and Read on its group, nothing else", () => {
    expect(planAcls({ produce: [], consume: ["queue-events"], groups: ["streamforge-self-healing"] })).toEqual([
      { resourceType: "group", name: "streamforge-self-healing", patternType: "literal", operations: ["Read"] },
      { resourceType: "topic", name: "queue-events", patternType: "literal", operations: ["Read", "Describe"] },
    ]);
  });

  it("merges produce and consume on one topic into one rule", () => {
    expect(planAcls({ produce: ["t"], consume: ["t"], groups: [] })).toEqual([
      { resourceType: "topic", name: "t", patternType: "literal", operations: ["Read", "Write", "Describe"] },
    ]);
  });

  it("turns a trailing * into a prefix pattern, kept apart from a literal of the same name", () => {
    expect(planAcls({ produce: ["market-*", "market-"], consume: [], groups: [] })).toEqual([
      { resourceType: "topic", name: "market-", patternType: "literal", operations: ["Write", "Describe"] },
      { resourceType: "topic", name: "market-", patternType: "prefix", operations: ["Write", "Describe"] },
    ]);
  });

  it("grants nothing for no grants", () => {
    expect(planAcls({ produce: [], consume: [], groups: [] })).toEqual([]);
  });
});

describe("the committed catalogue", () => {
  it.each(["dev", "prod", "local", "local-kafka-api"])(
    "gives the self-healing operator only queue-events and its own group (%s)",
    (stack) => {
      const operator = planUsers(committedCatalogue(stack)).find((u) => u.name === "self-healing-operator");
      expect(operator?.acls).toEqual([
        { resourceType: "group", name: "streamforge-self-healing", patternType: "literal", operations: ["Read"] },
        { resourceType: "topic", name: "queue-events", patternType: "literal", operations: ["Read", "Describe"] },
      ]);
    },
  );

  it("is the same in every stack apart from partition counts", () => {
    const strip = (c: ReturnType<typeof committedCatalogue>) => ({
      users: c.users,
      topics: Object.fromEntries(Object.entries(c.topics).map(([k, t]) => [k, { ...t, partitions: 0 }])),
    });
    expect(strip(committedCatalogue("prod"))).toEqual(strip(committedCatalogue("dev")));
    expect(strip(committedCatalogue("local"))).toEqual(strip(committedCatalogue("dev")));
    expect(strip(committedCatalogue("local-kafka-api"))).toEqual(strip(committedCatalogue("dev")));
  });
});

describe("topics", () => {
  it("maps Kafka names onto Kubernetes names", () => {
    expect(topicResourceName("queue-events")).toBe("queue-events");
    expect(topicResourceName("Market_Trades.v1")).toBe("market-trades.v1");
    expect(() => topicResourceName("__")).toThrow(
      'streamforge:catalogue.topics.__: expected a name with a letter or digit, which its KafkaTopic\'s name needs; found "__"',
    );
  });

  it("defaults replicas to the cluster's replication factor and sorts by name", () => {
    const plans = planTopics(
      { owner: "strimzi", users: {}, topics: { b: { partitions: 2, config: {} }, a: { partitions: 1, replicas: 1, config: {} } } },
      3,
    );
    expect(plans.map((p) => [p.name, p.replicas])).toEqual([
      ["a", 1],
      ["b", 3],
    ]);
  });

  it("refuses two topics that collide as Kubernetes names", () => {
    expect(() =>
      planTopics({ owner: "strimzi", users: {}, topics: { A_b: { partitions: 1, config: {} }, "a-b": { partitions: 1, config: {} } } }, 1),
    ).toThrow(
      'streamforge:catalogue.topics.a-b: expected a KafkaTopic name of its own; found "a-b", which topic "A_b" maps to as well. Rename one of them',
    );
  });
});

describe("both owners grant the same permissions", () => {
  it("Strimzi's operations lists and the admin API's rows describe the same ACL set", () => {
    for (const user of planUsers(committedCatalogue("dev"))) {
      const fromStrimzi = (kafkaUserSpec(user) as any).authorization.acls.flatMap((acl: any) =>
        acl.operations.map((op: string) => `${acl.resource.type}|${acl.resource.patternType}|${acl.resource.name}|${op}`),
      );
      const fromApi = user.acls.flatMap((acl) =>
        kafkaAclRows(user.name, acl).map(
          (row) =>
            `${row.aclResourceType.toLowerCase()}|${row.resourcePatternTypeFilter === "Prefixed" ? "prefix" : "literal"}|${row.aclResourceName}|${row.aclOperation}`,
        ),
      );
      expect(fromApi.sort()).toEqual(fromStrimzi.sort());
      expect(fromApi.length).toBeGreaterThan(0);
    }
  });
});

describe("saslJaasConfig", () => {
  it("quotes the password so a quote in it cannot end the value", () => {
    expect(saslJaasConfig("u", 'p"w\\')).toBe(
      'org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p\\"w\\\\";',
    );
  });
});
