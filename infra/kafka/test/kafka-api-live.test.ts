/**
 * Which topics a kafka-api stack's preview reads from Kafka (infra/kafka/kafka-api-live.ts): the
 * catalogue's own, or the one its resource name maps to where the catalogue's name is not there (a
 * rename the provider would carry out as a replacement), never Kafka's internal topics. The read
 * itself runs against the real broker in infra/kafka/test/kafka-api-live.itest.ts.
 */
import { liveTopicOf, topicsToRead } from "../kafka-api-live";

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
