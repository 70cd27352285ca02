/**
 * The stack outputs are a contract: other teams read them with StackReference. This list is
 * written out by hand on purpose. Removing or renaming an output fails here; adding one
 * means adding it here and to the README.
 */
import { FIXED_OUTPUTS } from "../infra/outputs";
import { ROLLOUT_OUTPUTS } from "../rollouts/outputs";
import { CHAOS_OUTPUTS } from "../chaos/outputs";
import { knownStacks, renderStack } from "../infra/render/render";

const CONTRACT: Record<string, "string" | "string[]"> = {
  environment: "string",
  kubernetesContext: "string",
  kubernetesApiServer: "string",
  rolloutName: "string",
  rolloutNamespace: "string",
  rolloutStableService: "string",
  rolloutCanaryService: "string",
  rolloutRouter: "string",
  rolloutAnalysisTemplates: "string[]",
  chaosNamespace: "string",
  chaosEngines: "string[]",
  chaosStartCommand: "string",
  chaosStopCommand: "string",
  chaosSchedule: "string",
  kafkaClusterName: "string",
  kafkaNamespace: "string",
  kafkaBootstrapTls: "string",
  kafkaBootstrapPlain: "string",
  kafkaBootstrapExternal: "string",
  kafkaSaslMechanism: "string",
  kafkaClusterCaSecret: "string",
  kafkaUserSecretNamespace: "string",
  kafkaTopicNames: "string[]",
  kafkaUserNames: "string[]",
  kafkaCatalogueOwner: "string",
  strimziOperatorNamespace: "string",
  // Per topic and per user of the catalogue; these are the ones services read today.
  topicQueueEvents: "string",
  topicQueueControl: "string",
  kafkaUserQueueManager: "string",
  kafkaUserQueueManagerSecret: "string",
  kafkaUserSelfHealingOperator: "string",
  kafkaUserSelfHealingOperatorSecret: "string",
  kafkaUserArangoConnector: "string",
  kafkaUserArangoConnectorSecret: "string",
  kafkaUserLoaders: "string",
  kafkaUserLoadersSecret: "string",
};

const typeOf = (v: unknown): string => (Array.isArray(v) && v.every((x) => typeof x === "string") ? "string[]" : typeof v);

describe.each(knownStacks())("stack %s outputs", (stack) => {
  let outputs: Record<string, unknown>;
  beforeAll(async () => {
    outputs = (await renderStack(stack)).outputs;
  });

  it("keeps every output of the contract, with its type", () => {
    const actual = Object.fromEntries(Object.keys(CONTRACT).map((k) => [k, k in outputs ? typeOf(outputs[k]) : "missing"]));
    expect(actual).toEqual(CONTRACT);
  });

  it("names the canary's objects where the stack has one", () => {
    if (stack === "local-kafka-api") expect(outputs.rolloutName).toBe("");
    else
      expect(outputs).toMatchObject({
        rolloutName: "queue-manager",
        rolloutNamespace: "stf",
        rolloutStableService: "queue-manager",
        rolloutCanaryService: "queue-manager-canary",
        rolloutRouter: "VirtualService/queue-manager",
        rolloutAnalysisTemplates: ["queue-manager-error-rate", "queue-manager-latency", "queue-manager-critical-errors"],
      });
  });

  it("keeps the values services are configured with today", () => {
    expect(outputs).toMatchObject({
      kafkaClusterName: "k3",
      kafkaNamespace: "kafka",
      kafkaBootstrapTls: "k3-kafka-bootstrap.kafka:9093",
      kafkaSaslMechanism: "SCRAM-SHA-512",
      kafkaClusterCaSecret: "k3-cluster-ca-cert",
      topicQueueEvents: "queue-events",
      topicQueueControl: "queue-control",
    });
  });

  it("is flat: no output is an object", () => {
    expect(Object.entries(outputs).filter(([, v]) => typeof v === "object" && !Array.isArray(v))).toEqual([]);
  });

  it("names every user Secret after a user the catalogue declares", () => {
    const users = outputs.kafkaUserNames as string[];
    const secrets = Object.entries(outputs).filter(([k]) => /^kafkaUser.+Secret$/.test(k));
    expect(secrets.length).toBe(users.length);
    for (const [, name] of secrets) expect(users).toContain(name);
  });
});

it("documents every fixed output", () => {
  const documented: Record<string, string> = { ...FIXED_OUTPUTS, ...ROLLOUT_OUTPUTS, ...CHAOS_OUTPUTS };
  for (const key of Object.keys(CONTRACT).filter((k) => !/^(topic|kafkaUser)[A-Z]/.test(k))) {
    expect([key, typeof documented[key]]).toEqual([key, "string"]);
  }
});
