/**
 * Watch the self-healing operator work, on the local platform `bash scripts/run.sh` leaves
 * running (the operator runs there as its built image): launches a loader Job the way
 * queue-manager does, publishes one progress event as its worker would, lets the worker go
 * silent, and shows the relaunch: the replacement Job, the Events on both, the operator's
 * metrics. With the default policy a loader is stuck after 2 minutes of silence.
 *
 *   npm run demo:relaunch
 */
import { readFileSync } from "node:fs";
import { Kafka, logLevel } from "kafkajs";
import { parseCommittedStack } from "../infra/render/render";
import { queueManagerJob } from "../chaos/drill/traffic";
import { kubectl, kubectlApply } from "../operator/testkit/kubectl";
import { within } from "../operator/testkit/wait";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: load the local platform's env first: eval "$(bash local/platform.sh env)"`);
  return value;
}

async function main(): Promise<number> {
  const namespace = parseCommittedStack("local").apps.namespace;
  const metrics = `http://127.0.0.1:${process.env.STREAMFORGE_OPERATOR_METRICS_PORT ?? "18980"}/metrics`;
  const relaunches = async () => {
    const text = await (await fetch(metrics)).text();
    return text.split("\n").filter((l) => l.startsWith("streamforge_operator_relaunches_total{") && !l.endsWith(" 0"));
  };
  await relaunches().catch(() => {
    throw new Error(`No operator answers on ${metrics}: start it with bash local/operator-image.sh run (scripts/run.sh does)`);
  });

  const queueId = `demo-${Date.now().toString(36)}`;
  const job = queueManagerJob(queueId, "loader-producer", namespace);
  kubectlApply(job);
  console.log(`job.batch/${job.metadata.name} created`);

  const kafka = new Kafka({
    clientId: "demo-worker",
    brokers: [required("KAFKA_SASL_SSL_BOOTSTRAP_SERVERS")],
    ssl: { ca: [readFileSync(required("KAFKA_CA_PATH"), "utf8")] },
    sasl: { mechanism: "scram-sha-512", username: required("KAFKA_ADMIN_USER"), password: required("KAFKA_ADMIN_PASSWORD") },
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const event = {
    event: "status",
    queue_id: queueId,
    symbol: "BTCUSDT",
    type: "trades",
    status: "loading",
    message: "loaded 100 records",
    finished: false,
    sent_at: Date.now() / 1000,
  };
  await producer.send({ topic: "queue-events", acks: -1, messages: [{ value: JSON.stringify(event) }] });
  await producer.disconnect();
  const silentSince = Date.now();
  console.log(`${job.metadata.name}: one progress event sent; its worker is silent from now on. Waiting for the relaunch...`);

  const replacement = `${job.metadata.name}-r1`;
  const relaunched = await within(
    `the relaunch of ${job.metadata.name}`,
    () => {
      process.stdout.write(".");
      return kubectl("get", "jobs", "-n", namespace, "-o", "name").includes(`job.batch/${replacement}\n`) ? true : undefined;
    },
    5 * 60_000,
    2000,
  );
  if (!relaunched) {
    console.error(`\nno relaunch within 5 minutes: see podman logs streamforge-operator`);
    return 1;
  }
  console.log(`\nrelaunched as ${replacement} ${((Date.now() - silentSince) / 1000).toFixed(0)} s after the worker went silent\n`);
  for (const name of [job.metadata.name, replacement])
    console.log(kubectl("get", "events", "-n", namespace, "--field-selector", `involvedObject.name=${name}`));
  console.log((await relaunches()).join("\n"));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  },
);
