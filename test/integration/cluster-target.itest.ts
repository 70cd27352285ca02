/**
 * A stack is tied to its cluster and waits for Strimzi, under the real Pulumi CLI against the local
 * API server: a wrong kubeconfig or context fails before anything is created, naming the key; a
 * stack that awaits Strimzi does not create topics and users until the Kafka cluster reports
 * Ready (the test plays Strimzi: it marks the CRs Ready and writes the cluster CA as Strimzi would).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { PROJECT_ROOT } from "../../infra/render/render";
import { configFile, kubectl, pulumi, requireEnv, selectStack } from "./pulumi-cli";

const localStack = parseYaml(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.local.yaml"), "utf8")) as {
  config: Record<string, any>;
  encryptionsalt: string;
};

/** The local stack's config with its own namespaces (so it cannot touch the local stack's objects), changed by `edit`. */
function variantConfig(name: string, suffix: string, edit: (config: Record<string, any>) => void): string {
  const config = structuredClone(localStack.config);
  config["streamforge:kafka"].namespace = `kafka-${suffix}`;
  config["streamforge:apps"] = { namespace: `stf-${suffix}` };
  delete config["streamforge:operator"];
  delete config["streamforge:operatorRegistryPassword"];
  edit(config);
  return configFile(name, { config, encryptionsalt: localStack.encryptionsalt });
}

const namespaceExists = (ns: string): boolean => {
  try {
    kubectl("get", "namespace", ns, "-o", "name");
    return true;
  } catch {
    return false;
  }
};

/** Resources of a stack's state besides the stack itself and providers; with `prefix`, only those of that package. */
function declaredResources(stack: string, prefix = ""): string[] {
  const exported = pulumi(["stack", "export", "--stack", stack]);
  const deployment = JSON.parse(exported.stdout) as { deployment?: { resources?: { type: string }[] } };
  return (deployment.deployment?.resources ?? [])
    .map((r) => r.type)
    .filter((t) => t !== "pulumi:pulumi:Stack" && !t.startsWith("pulumi:providers:") && t.startsWith(prefix));
}

beforeAll(() => {
  requireEnv("KUBECONFIG");
  requireEnv("PULUMI_BACKEND_URL");
  // The API server is up: a refusal below is the program's, not a dead platform's.
  expect(kubectl("get", "--raw", "/readyz")).toBe("ok");
});

describe("a stack pointed at the wrong cluster fails before creating anything", () => {
  const stack = "wrong-cluster";
  beforeAll(() => selectStack(stack));
  afterAll(() => pulumi(["stack", "rm", stack, "--yes", "--force"]));

  it.each([
    [
      "a kubeconfig that does not exist",
      { kubeconfig: "/nonexistent/kubeconfig", context: "streamforge-local" },
      /streamforge:cluster\.kubeconfig: expected a readable kubeconfig file; found nothing at \/nonexistent\/kubeconfig/,
    ],
    [
      "a context the kubeconfig does not have",
      { kubeconfig: ".local/state/kube/kubeconfig", context: "prod-cluster" },
      /streamforge:cluster\.context: expected a context of .*kubeconfig \(streamforge-local\); found "prod-cluster"/,
    ],
  ])("%s", (_what, cluster, message) => {
    const file = variantConfig(stack, "wrong", (c) => (c["streamforge:cluster"] = cluster));
    const result = pulumi(["up", "--stack", stack, "--config-file", file, "--yes", "--skip-preview"]);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(message);
    expect(declaredResources(stack)).toEqual([]);
    expect(namespaceExists("kafka-wrong")).toBe(false);
  });

  it("a kubeconfig whose API server cannot be reached", () => {
    const kubeconfig = fs
      .readFileSync(requireEnv("KUBECONFIG"), "utf8")
      .replace(/server: https:\/\/127\.0\.0\.1:\d+/, "server: https://127.0.0.1:1");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "streamforge-kubeconfig-"));
    fs.writeFileSync(path.join(dir, "kubeconfig"), kubeconfig);
    const file = variantConfig(
      stack,
      "wrong",
      (c) => (c["streamforge:cluster"] = { kubeconfig: path.join(dir, "kubeconfig"), context: "streamforge-local" }),
    );
    const result = pulumi(["up", "--stack", stack, "--config-file", file, "--yes", "--skip-preview"], 300_000);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/127\.0\.0\.1:1/);
    // The program ran (its components are in the state), but no Kubernetes object was created.
    expect(declaredResources(stack)).toContain("streamforge:platform:Namespaces");
    expect(declaredResources(stack, "kubernetes:")).toEqual([]);
    expect(namespaceExists("kafka-wrong")).toBe(false);
  });
});

describe("a first pulumi up waits for Strimzi instead of racing it", () => {
  const stack = "await-strimzi";
  const kafkaNs = "kafka-await";
  const appsNs = "stf-await";

  afterAll(() => {
    pulumi(["destroy", "--stack", stack, "--yes", "--skip-preview"]);
    pulumi(["stack", "rm", stack, "--yes", "--force"]);
  });

  /** Plays Strimzi: sets the Ready condition on one CR, for its current generation. */
  const markReady = (kind: string, name: string, ns: string): void => {
    const generation = Number(kubectl("get", kind, name, "-n", ns, "-o", "jsonpath={.metadata.generation}"));
    const status = {
      observedGeneration: generation,
      conditions: [{ type: "Ready", status: "True", lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z") }],
    };
    kubectl("patch", kind, name, "-n", ns, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status }));
  };
  const names = (kind: string, ns: string): string[] =>
    kubectl("get", kind, "-n", ns, "-o", "name")
      .split("\n")
      .filter(Boolean)
      .map((n) => n.split("/")[1]!);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("creates topics and users only once the Kafka cluster is Ready, then waits for each of them", async () => {
    selectStack(stack);
    const file = variantConfig(stack, "await", (c) => {
      c["streamforge:strimzi"] = { install: false, awaitReady: true, readyTimeoutSeconds: { cluster: 300, entities: 120 } };
    });
    const started = Date.now();
    const up = spawn("pulumi", ["up", "--stack", stack, "--config-file", file, "--yes", "--skip-preview", "--non-interactive"], {
      cwd: PROJECT_ROOT,
      env: process.env,
    });
    let output = "";
    up.stdout.on("data", (d) => (output += String(d)));
    up.stderr.on("data", (d) => (output += String(d)));
    const exited = new Promise<number | null>((resolve) => up.on("exit", resolve));
    let exitCode: number | null | undefined;
    void exited.then((code) => (exitCode = code));

    // The Kafka CR appears; while it is not Ready, `up` goes on waiting and nothing that needs the cluster is created.
    for (let i = 0; i < 240 && !namespaceExists(kafkaNs); i++) await sleep(500);
    for (let i = 0; i < 240 && names("kafkas.kafka.strimzi.io", kafkaNs).length === 0; i++) await sleep(500);
    expect(names("kafkas.kafka.strimzi.io", kafkaNs)).toEqual(["k3"]);
    await sleep(8000);
    expect(exitCode).toBeUndefined();
    expect(names("kafkatopics.kafka.strimzi.io", kafkaNs)).toEqual([]);
    expect(names("kafkausers.kafka.strimzi.io", appsNs)).toEqual([]);

    // Strimzi would now write the cluster CA and report the cluster Ready.
    kubectl("create", "secret", "generic", "k3-cluster-ca-cert", "-n", kafkaNs, "--from-literal=ca.crt=test-cluster-ca");
    const readyAt = Date.now();
    markReady("kafkas.kafka.strimzi.io", "k3", kafkaNs);

    // Topics and users follow; each is waited for until Strimzi marks it Ready.
    const ready = new Set<string>();
    for (let i = 0; i < 600 && exitCode === undefined; i++) {
      for (const [kind, ns] of [
        ["kafkatopics.kafka.strimzi.io", kafkaNs],
        ["kafkausers.kafka.strimzi.io", appsNs],
      ] as const) {
        for (const name of names(kind, ns)) {
          if (ready.has(`${kind}/${name}`)) continue;
          markReady(kind, name, ns);
          ready.add(`${kind}/${name}`);
        }
      }
      await sleep(500);
    }
    const code = await exited;
    console.log(
      `pulumi up awaiting Strimzi: ${((Date.now() - started) / 1000).toFixed(1)} s in all, ${((Date.now() - readyAt) / 1000).toFixed(1)} s after the cluster was marked Ready`,
    );
    expect([code, output.slice(-1500)]).toEqual([0, expect.stringContaining("created")]);
    expect(ready.size).toBe(5 + 4); // the catalogue's topics and users
    // The cluster CA was carried over beside the users' credentials.
    expect(
      Buffer.from(kubectl("get", "secret", "k3-cluster-ca-cert", "-n", appsNs, "-o", "jsonpath={.data.ca\\.crt}"), "base64").toString(),
    ).toBe("test-cluster-ca");
  });
});
