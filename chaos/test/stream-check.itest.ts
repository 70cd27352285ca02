/**
 * The drill's stream check against the local platform's real broker: the idempotent witness
 * producer's acknowledgements, the log read whole, and the hypotheses drawn from them. A duplicate
 * injected into the log must fail "nothing is duplicated"; a clean run must pass it.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { PROJECT_ROOT } from "../../infra/render/render";
import { eventually, requireEnv } from "../../test/integration/local-platform";
import { createTopics, deleteTopics, streamCheck, streamHypotheses } from "../drill/traffic";

function kafkaLibs(): string {
  const env = execFileSync("bash", [path.join(PROJECT_ROOT, "local", "kafka.sh"), "env"], { encoding: "utf8" });
  const m = /^export KAFKA_LIBS=(.*)$/m.exec(env);
  if (!m) throw new Error("local/kafka.sh env printed no KAFKA_LIBS");
  return m[1]!.replace(/^'(.*)'$/, "$1");
}

describe("the stream check's duplicate hypothesis can fail", () => {
  const brokers = [requireEnv("KAFKA_BOOTSTRAP_SERVERS")];
  const stamp = Date.now().toString(36);
  const topics = [`chaos-stream-itest-${stamp}-clean`, `chaos-stream-itest-${stamp}-dup`];
  const libs = kafkaLibs();

  beforeAll(async () => {
    await createTopics(
      brokers,
      topics.map((topic) => ({ topic, partitions: 3, replicationFactor: 1, minInSync: 1 })),
    );
  });
  afterAll(async () => {
    await deleteTopics(brokers, topics);
  });

  async function run(topic: string, inject: boolean) {
    const check = await streamCheck(brokers, topic, libs);
    await eventually("100 messages acknowledged", () => (check.acked.size >= 100 ? true : undefined), 60_000, 100);
    if (inject) {
      // A copy of an acknowledged message, as a producer that retries without idempotence writes one.
      const producer = new Kafka({ clientId: "stream-itest", brokers, logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ value: String([...check.acked][0]) }] });
      await producer.disconnect();
    }
    return check.stop();
  }

  it("passes a clean run of the idempotent producer", async () => {
    const figures = await run(topics[0]!, false);
    expect(figures.acknowledged).toBeGreaterThanOrEqual(100);
    expect(figures).toMatchObject({ lost: 0, missedByConsumer: 0, duplicated: 0 });
    expect(streamHypotheses(figures).map((h) => h.passed)).toEqual([true, true]);
  }, 120_000);

  it("fails 'nothing is duplicated' when the log holds one copy too many", async () => {
    const figures = await run(topics[1]!, true);
    expect(figures).toMatchObject({ lost: 0, duplicated: 1 });
    const [noLoss, noDuplicate] = streamHypotheses(figures);
    expect(noLoss!.passed).toBe(true);
    expect(noDuplicate).toEqual({
      hypothesis: "nothing is duplicated (idempotent producer, retries on)",
      observed: "1 duplicates in the log",
      passed: false,
    });
  }, 120_000);
});
