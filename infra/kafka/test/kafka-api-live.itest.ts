/**
 * Owner kafka-api: the catalogue's topics and users' ACLs read from the REAL local broker
 * (infra/kafka/kafka-api-live.ts), over its SCRAM-SHA-512 listener with the admin's password, then
 * judged by the rules a preview applies: a topic created with three partitions and a week's
 * retention is read back as Kafka holds it; declared with two partitions the edit is refused
 * (partitionsDecreased), with an hour's retention it asks for its confirmation, and the preview's
 * impact calls it destructive. A user's ACLs, created as @pulumi/kafka would, are read back by
 * user; a declaration without one of its grants is labelled disruptive, naming it, where the last
 * `up` recorded that grant as the stack's (one granted outside the stack is no loss). A Kafka that
 * does not answer, or refuses the password, fails the read naming the key, never the password.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { inspect } from "node:util";
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, ResourcePatternTypes, logLevel } from "kafkajs";
import type { KafkaApiConfig } from "../config";
import type { LiveKafka } from "../data-safety";
import { type KafkaCatalogueState, liveTopicOf, readKafkaCatalogue } from "../kafka-api-live";
import { kafkaEditImpacts, kafkaEditProblems } from "../kafka-changes";
import { declaredAcls } from "../impact";
import { planUsers } from "../catalogue";
import { kafkaUserSpec } from "../strimzi-entities";
import { committedConfig, selfSignedCertificate } from "../../../test/helpers";
import { requireEnv } from "../../../test/integration/local-platform";

const TOPIC = `stf-kafka-api-live-${randomBytes(3).toString("hex")}`;
const USER = `stf-acl-${randomBytes(3).toString("hex")}`;
const WEEK = "604800000";
/** The user's ACLs as @pulumi/kafka creates them for `consume: [TOPIC], groups: [TOPIC-*]` (kafka-api-entities.ts kafkaAclRows). */
const USER_ACLS = [
  {
    resourceType: AclResourceTypes.TOPIC,
    resourceName: TOPIC,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    operation: AclOperationTypes.READ,
  },
  {
    resourceType: AclResourceTypes.TOPIC,
    resourceName: TOPIC,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    operation: AclOperationTypes.DESCRIBE,
  },
  {
    resourceType: AclResourceTypes.GROUP,
    resourceName: `${TOPIC}-`,
    resourcePatternType: ResourcePatternTypes.PREFIXED,
    operation: AclOperationTypes.READ,
  },
].map((acl) => ({ ...acl, principal: `User:${USER}`, host: "*", permissionType: AclPermissionTypes.ALLOW }));
/** The catalogue as the read sees it: the test's topic and user, and one of each that Kafka does not hold. */
const read = (connection: KafkaApiConfig, pass: string): Promise<KafkaCatalogueState> =>
  readKafkaCatalogue(connection, pass, { topics: [TOPIC, `${TOPIC}-absent`], users: [USER, `${USER}-absent`] });
let api: KafkaApiConfig;
let password = "";

beforeAll(async () => {
  const [bootstrap] = requireEnv("KAFKA_SASL_BOOTSTRAP_SERVERS").split(",");
  password = requireEnv("KAFKA_ADMIN_PASSWORD");
  api = {
    bootstrapServers: [bootstrap!],
    tls: false,
    skipTlsVerify: false,
    sasl: { mechanism: "scram-sha512", username: requireEnv("KAFKA_ADMIN_USER") },
  };
  const admin = new Kafka({
    clientId: "kafka-api-live-itest",
    brokers: [requireEnv("KAFKA_BOOTSTRAP_SERVERS").split(",")[0]!],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: TOPIC,
          numPartitions: 3,
          replicationFactor: 1,
          configEntries: [
            { name: "retention.ms", value: WEEK },
            { name: "cleanup.policy", value: "delete" },
          ],
        },
      ],
    });
    if (!created) throw new Error(`topic ${TOPIC} was already there`);
    await admin.createAcls({ acl: USER_ACLS });
  } finally {
    await admin.disconnect();
  }
}, 120_000);

afterAll(async () => {
  const admin = new Kafka({
    clientId: "kafka-api-live-itest",
    brokers: [process.env.KAFKA_BOOTSTRAP_SERVERS!.split(",")[0]!],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  await admin
    .deleteAcls({
      filters: [
        {
          resourceType: AclResourceTypes.ANY,
          resourcePatternType: ResourcePatternTypes.ANY,
          principal: `User:${USER}`,
          operation: AclOperationTypes.ANY,
          permissionType: AclPermissionTypes.ANY,
        },
      ],
    })
    .then(() => admin.deleteTopics({ topics: [TOPIC] }))
    .finally(() => admin.disconnect());
});

/** The local-kafka-api stack's config with the catalogue holding only the test's topic, as `spec` declares it, and user, with `groups`. */
function declaring(spec: { partitions: number; config: Record<string, string | number> }, groups = [`${TOPIC}-*`]) {
  const config = committedConfig("local-kafka-api");
  return {
    ...config,
    catalogue: {
      ...config.catalogue,
      topics: { [TOPIC]: { ...spec, replicas: 1 } },
      users: { [USER]: { service: "loader", produce: [], consume: [TOPIC], groups } },
    },
  } as typeof config;
}

describe("owner kafka-api: the catalogue's topics as the real broker holds them", () => {
  let live: LiveKafka;

  it("are read over SCRAM with the admin's password: partitions, replicas and the topic's own config, each user's ACLs, and only the catalogue's", async () => {
    const { topics, acls } = await read(api, password);
    expect(topics).toEqual([{ name: TOPIC, partitions: 3, replicas: 1, config: { "cleanup.policy": "delete", "retention.ms": WEEK } }]);
    expect(acls).toEqual({
      [USER]: [`allow Describe on topic ${TOPIC}`, `allow Read on group ${TOPIC}-* (prefix)`, `allow Read on topic ${TOPIC}`],
      [`${USER}-absent`]: [],
    });
    live = { nodePools: [], topics: [], users: [], catalogueRead: false, topicsInKafka: topics.map(liveTopicOf), aclsInKafka: acls };
  });

  it("an unchanged declaration has nothing to say; fewer partitions are refused with the reason and the procedure", () => {
    const same = declaring({ partitions: 3, config: { "retention.ms": Number(WEEK), "cleanup.policy": "delete" } });
    expect(kafkaEditProblems(same, live)).toEqual([]);
    // Kafka's values are text, the catalogue's numbers: the same value is no change.
    const topicImpacts = (config: ReturnType<typeof declaring>) =>
      kafkaEditImpacts(config, live, {}).filter((i) => i.object.includes(TOPIC));
    expect(topicImpacts(same)).toEqual([]);
    const fewer = kafkaEditProblems(
      declaring({ partitions: 2, config: { "retention.ms": Number(WEEK), "cleanup.policy": "delete" } }),
      live,
    );
    expect(fewer.map((p) => `${p.key}: ${p.message}`)).toEqual([
      expect.stringMatching(new RegExp(`^streamforge:catalogue\\.topics\\.${TOPIC}\\.partitions: .*found 3 -> 2`)),
    ]);
  });

  it("a shorter retention asks for its confirmation, and the preview's impact calls it destructive", () => {
    const shorter = declaring({ partitions: 3, config: { "retention.ms": 3600000, "cleanup.policy": "delete" } });
    expect(kafkaEditProblems(shorter, live).map((p) => p.message)).toEqual([
      expect.stringContaining(
        `To go ahead, set streamforge:retire.truncate.topics.${TOPIC}["retention.ms"] to "3600000" in the same change`,
      ),
    ]);
    const impacts = kafkaEditImpacts(shorter, live, {}).filter((i) => i.object.includes(TOPIC));
    expect(impacts.map((i) => `[${i.level}] ${i.change}`)).toEqual([expect.stringMatching(/^\[destructive\] config: retention\.ms/)]);
  });

  it("a user's declared grants as Kafka holds them have nothing to say; one fewer the stack declared is labelled disruptive, naming what its clients lose", () => {
    const topic = { partitions: 3, config: { "retention.ms": Number(WEEK), "cleanup.policy": "delete" } };
    const userImpacts = (config: ReturnType<typeof declaring>) =>
      kafkaEditImpacts(config, live, {})
        .filter((i) => i.object.includes(USER))
        .map((i) => `[${i.level}] ${i.object}: ${i.change}: ${i.effect}`);
    expect(userImpacts(declaring(topic))).toEqual([]);
    // The group's row as the last up recorded it (the Kafka CR's streamforge.io/kafka-api-acls): the stack deletes it.
    const recorded = live;
    live = { ...recorded, aclsDeclared: declaredAcls([{ name: USER, spec: kafkaUserSpec(planUsers(declaring(topic).catalogue)[0]!) }]) };
    expect(userImpacts(declaring(topic, []))).toEqual([
      `[disruptive] Kafka ACLs of User:${USER}: authorization: its clients lose Read on group ${TOPIC}-* (prefix): those calls fail with an authorization error`,
    ]);
    // Not recorded: a row granted outside the stack, which it never deletes, is no loss.
    live = { ...recorded, aclsDeclared: { [USER]: [`allow Describe on topic ${TOPIC}`, `allow Read on topic ${TOPIC}`] } };
    expect(userImpacts(declaring(topic, []))).toEqual([]);
    live = recorded;
  });

  it("over TLS, the brokers are verified with the configured private CA; without it the read fails naming the key", async () => {
    const [tlsBootstrap] = requireEnv("KAFKA_SASL_SSL_BOOTSTRAP_SERVERS").split(",");
    const overTls: KafkaApiConfig = { ...api, bootstrapServers: [tlsBootstrap!], tls: true };
    const ca = fs.readFileSync(requireEnv("KAFKA_CA_PATH"), "utf8");
    // The local broker's certificate is signed by its own CA, which no system trusts.
    await expect(read(overTls, password)).rejects.toThrow(
      /^streamforge:kafkaApi\.bootstrapServers: expected Kafka to answer at 127\.0\.0\.1:\d+ .*certificate.* set streamforge:kafkaApi\.caCertificate to it \(PEM\)/,
    );
    const { topics } = await read({ ...overTls, caCertificate: ca }, password);
    expect(topics.map((t) => [t.name, t.partitions])).toEqual([[TOPIC, 3]]);
    // A CA that did not sign the brokers' certificates is no way in either.
    const other = selfSignedCertificate("not-the-broker-ca");
    await expect(read({ ...overTls, caCertificate: other }, password)).rejects.toThrow(
      /^streamforge:kafkaApi\.bootstrapServers: expected Kafka to answer/,
    );
  }, 120_000);

  it("a Kafka that does not answer, or refuses the password, fails the read naming the key and never the password", async () => {
    const secret = "not-the-admin-password-7c1e";
    // The error as the Pulumi runtime formats it for its trace: util.inspect, every property included
    // (it prints a RunError's message alone).
    const printed = (read: Promise<unknown>) =>
      read.then(
        () => "no error",
        (err: unknown) => inspect(err, { depth: Infinity }),
      );
    const refused = await printed(read(api, secret));
    expect(refused).toMatch(
      /^\[LiveReadError: streamforge:kafkaApi\.bootstrapServers: expected Kafka to answer at 127\.0\.0\.1:\d+ .*SASL/,
    );
    expect(refused).toContain("streamforge:kafkaApi.unreachable");
    expect(refused).not.toContain(secret);
    const closed = await printed(read({ ...api, bootstrapServers: ["127.0.0.1:1"] }, password));
    expect(closed).toMatch(/^\[LiveReadError: streamforge:kafkaApi\.bootstrapServers: expected Kafka to answer at 127\.0\.0\.1:1 /);
    expect(closed).not.toContain(password);
  }, 120_000);
});
