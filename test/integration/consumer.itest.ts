/**
 * examples/consumer for real: the real Pulumi CLI runs it on the local file backend against the
 * local stack's real outputs (deployed first when they are missing), and it must write the
 * platform's values into a ConfigMap in the real API server, export them, fail naming an output
 * the platform does not have, and leave nothing behind when destroyed.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { contractProblems } from "../../infra/kit/outputs-contract";
import { PROJECT_ROOT } from "../../infra/render/render";
import { kubectl, pulumi, requireEnv } from "./local-platform";

const CONSUMER = path.join(PROJECT_ROOT, "examples", "consumer");
const STACK = "local";
const PLATFORM_STACK = "organization/streamforge/local";

/** `pulumi <args>` run in the consumer's folder. */
const consumer = (args: string[]) => pulumi(["--cwd", CONSUMER, ...args]);

/** The local stack's outputs, or undefined when it has none (never deployed, or destroyed by another tier's test). */
function platformOutputs(): Record<string, unknown> | undefined {
  const result = pulumi(["stack", "output", "--stack", "local", "--json"]);
  if (result.status !== 0) return undefined;
  const outputs = JSON.parse(result.stdout.trim() || "{}") as Record<string, unknown>;
  return Object.keys(outputs).length > 0 ? outputs : undefined;
}

/**
 * The committed Pulumi.local.yaml with `edit` applied, as a temporary `--config-file`: the
 * kubeconfig is the running platform's, and the committed file is never written.
 */
function consumerConfig(edit: (config: Record<string, string>) => void = () => {}): string {
  const doc = parseYaml(fs.readFileSync(path.join(CONSUMER, "Pulumi.local.yaml"), "utf8")) as { config: Record<string, string> };
  doc.config["streamforge-consumer:kubeconfig"] = requireEnv("KUBECONFIG");
  edit(doc.config);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "streamforge-consumer-")), "Pulumi.local.yaml");
  fs.writeFileSync(file, stringify(doc));
  return file;
}

function configMap(namespace: string, name: string): { data?: Record<string, string>; metadata: { labels?: Record<string, string> } } {
  return JSON.parse(kubectl("get", "configmap", name, "-n", namespace, "-o", "json")) as {
    data?: Record<string, string>;
    metadata: { labels?: Record<string, string> };
  };
}

describe("examples/consumer against the local stack's outputs", () => {
  let platform: Record<string, unknown>;
  let destroyed = false;

  beforeAll(() => {
    requireEnv("KUBECONFIG");
    requireEnv("PULUMI_BACKEND_URL");
    let outputs = platformOutputs();
    if (!outputs) {
      const deploy = spawnSync("bash", [path.join(PROJECT_ROOT, "local", "platform.sh"), "deploy"], {
        encoding: "utf8",
        env: process.env,
        timeout: 600_000,
      });
      if (deploy.status !== 0) throw new Error(`pulumi up --stack local failed:\n${`${deploy.stdout}\n${deploy.stderr}`.slice(-4000)}`);
      outputs = platformOutputs();
    }
    if (!outputs) throw new Error("The local stack has no outputs even after `local/platform.sh deploy`");
    platform = outputs;
    if (consumer(["stack", "select", STACK]).status !== 0) {
      const init = consumer(["stack", "init", STACK]);
      if (init.status !== 0) throw new Error(`pulumi stack init ${STACK} (examples/consumer) failed:\n${init.output}`);
    }
  });

  afterAll(() => {
    if (!destroyed) consumer(["destroy", "--stack", STACK, "--yes", "--skip-preview", "--config-file", consumerConfig()]);
    // --preserve-config: Pulumi.local.yaml, with its encryption salt, is committed.
    consumer(["stack", "rm", STACK, "--yes", "--preserve-config"]);
  });

  it("reads a deployed platform whose real outputs are what the contract declares", () => {
    expect(contractProblems(platform)).toEqual([]);
  });

  it("deploys, and exports the platform's values for its user and topic", () => {
    const up = consumer(["up", "--stack", STACK, "--yes", "--skip-preview", "--config-file", consumerConfig()]);
    if (up.status !== 0) throw new Error(`pulumi up (examples/consumer) failed:\n${up.output.slice(-4000)}`);
    const exported = JSON.parse(consumer(["stack", "output", "--stack", STACK, "--json"]).stdout) as Record<string, unknown>;
    expect(exported).toEqual({
      platformStack: PLATFORM_STACK,
      kubernetesContext: platform.kubernetesContext,
      bootstrapServers: platform.kafkaBootstrapTls,
      saslMechanism: platform.kafkaSaslMechanism,
      clusterCaSecret: platform.kafkaClusterCaSecret,
      credentialsNamespace: platform.kafkaUserSecretNamespace,
      kafkaUser: platform.kafkaUserQueueManager,
      credentialsSecret: platform.kafkaUserQueueManagerSecret,
      topic: platform.topicQueueEvents,
      configMapName: "demo-consumer-kafka",
      configMapNamespace: platform.kafkaUserSecretNamespace,
    });
  });

  it("wrote the platform's values into a ConfigMap in the apps namespace", () => {
    const cm = configMap(platform.kafkaUserSecretNamespace as string, "demo-consumer-kafka");
    expect(cm.data).toEqual({
      KAFKA_BOOTSTRAP_SERVERS: platform.kafkaBootstrapTls,
      KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
      KAFKA_SASL_MECHANISM: platform.kafkaSaslMechanism,
      KAFKA_CA_SECRET: platform.kafkaClusterCaSecret,
      KAFKA_USER: platform.kafkaUserQueueManager,
      KAFKA_USER_SECRET: platform.kafkaUserQueueManagerSecret,
      KAFKA_TOPIC: platform.topicQueueEvents,
    });
    expect(cm.metadata.labels).toMatchObject({ "app.kubernetes.io/name": "demo-consumer", "app.kubernetes.io/managed-by": "pulumi" });
  });

  it("fails naming the outputs of a user the platform does not have, and changes nothing", () => {
    const ghost = consumerConfig((config) => (config["streamforge-consumer:user"] = "ghost"));
    const up = consumer(["up", "--stack", STACK, "--yes", "--skip-preview", "--config-file", ghost]);
    expect(up.status).not.toBe(0);
    expect(up.output).toContain("The platform's outputs are not what this program requires");
    expect(up.output).toContain(`kafkaUserGhost: stack ${PLATFORM_STACK} has no such output`);
    expect(up.output).toContain(`kafkaUserGhostSecret: stack ${PLATFORM_STACK} has no such output`);
    // The outputs that do exist are not reported.
    expect(up.output).not.toContain("kafkaBootstrapTls:");
    expect(configMap(platform.kafkaUserSecretNamespace as string, "demo-consumer-kafka").data?.KAFKA_USER).toBe("queue-manager");
  });

  it("leaves nothing behind when destroyed", () => {
    const destroy = consumer(["destroy", "--stack", STACK, "--yes", "--skip-preview", "--config-file", consumerConfig()]);
    if (destroy.status !== 0) throw new Error(`pulumi destroy (examples/consumer) failed:\n${destroy.output.slice(-4000)}`);
    destroyed = true;
    expect(() => configMap(platform.kafkaUserSecretNamespace as string, "demo-consumer-kafka")).toThrow(/NotFound|not found/);
  });
});
