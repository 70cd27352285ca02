/**
 * A stack is tied to its cluster and waits for Strimzi, under the real Pulumi CLI against the local
 * API server: a wrong kubeconfig or context fails before anything is created, naming the key; a
 * stack that awaits Strimzi does not create topics and users until the Kafka cluster reports
 * Ready (the test plays Strimzi: it marks the CRs Ready and writes the cluster CA as Strimzi would).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CA_BUNDLE_KEY } from "../../operator/src/core/ca-copy";
import { freePort } from "./recorded-process";
import {
  consistently,
  eventually,
  kubectl,
  localVariant,
  namespaceExists,
  pulumi,
  pulumiInBackground,
  requireEnv,
  selectStack,
} from "./local-platform";

/** The local stack with its own namespaces, changed by `edit`. */
const variantConfig = localVariant;

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

  it("a kubeconfig whose API server cannot be reached", async () => {
    // A port just released on the loopback: nothing listens there.
    const port = await freePort();
    const kubeconfig = fs
      .readFileSync(requireEnv("KUBECONFIG"), "utf8")
      .replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${port}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "streamforge-kubeconfig-"));
    fs.writeFileSync(path.join(dir, "kubeconfig"), kubeconfig);
    const file = variantConfig(
      stack,
      "wrong",
      (c) => (c["streamforge:cluster"] = { kubeconfig: path.join(dir, "kubeconfig"), context: "streamforge-local" }),
    );
    const result = pulumi(["up", "--stack", stack, "--config-file", file, "--yes", "--skip-preview"], 300_000);
    expect(result.status).not.toBe(0);
    // The program read the cluster's Kafka objects before declaring anything (infra/kafka/live.ts):
    // that read failed, naming the server, and nothing was declared, let alone created.
    expect(result.output).toMatch(
      new RegExp(
        `reading kafka\\w+ in namespace \\S+ from https://127\\.0\\.0\\.1:${port} failed: fetch failed \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)`,
      ),
    );
    // Its message alone, as a config error's: no stack of the program's frames.
    expect(result.output).not.toMatch(/^\s+at .*(infra|node_modules)\//m);
    expect(declaredResources(stack)).toEqual([]);
    expect(namespaceExists("kafka-wrong")).toBe(false);
  });
});

describe("a first pulumi up waits for Strimzi instead of racing it", () => {
  const stack = "await-strimzi";
  const kafkaNs = "kafka-await";
  const appsNs = "stf-await";

  afterAll(() => {
    // A failed destroy keeps the stack, so its objects stay tracked and the next run cleans them up.
    const destroyed = pulumi(["destroy", "--stack", stack, "--yes", "--skip-preview"]);
    if (destroyed.status === 0) pulumi(["stack", "rm", stack, "--yes", "--force"]);
    else console.log(`pulumi destroy --stack ${stack} failed; the stack is kept:\n${destroyed.output.slice(-2000)}`);
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

  it("creates topics and users only once the Kafka cluster is Ready, then waits for each of them", async () => {
    selectStack(stack);
    const file = variantConfig(stack, "await", (c) => {
      c["streamforge:strimzi"] = { install: false, awaitReady: true, readyTimeoutSeconds: { cluster: 300, entities: 120 } };
    });
    const started = Date.now();
    const up = pulumiInBackground(["up", "--stack", stack, "--config-file", file, "--yes", "--skip-preview"]);

    // The Kafka CR appears; while it is not Ready, `up` goes on waiting and nothing that needs the cluster is created.
    await eventually(
      "the Kafka CR",
      () => (namespaceExists(kafkaNs) && names("kafkas.kafka.strimzi.io", kafkaNs).length > 0) || undefined,
      120_000,
    );
    expect(names("kafkas.kafka.strimzi.io", kafkaNs)).toEqual(["k3"]);
    // For 8 s, with `up` still reporting as it waits: no topic or user before the cluster is Ready.
    await consistently(
      "nothing that needs the cluster is created while it is not Ready",
      8000,
      () => {
        if (!up.running()) return "pulumi up ended";
        const early = [...names("kafkatopics.kafka.strimzi.io", kafkaNs), ...names("kafkausers.kafka.strimzi.io", appsNs)];
        return early.length === 0 || `created already: ${early.join(", ")}`;
      },
      { what: "pulumi up's output", read: () => up.output().length },
    );

    // Strimzi would now write the cluster CA and report the cluster Ready.
    kubectl("create", "secret", "generic", "k3-cluster-ca-cert", "-n", kafkaNs, "--from-literal=ca.crt=test-cluster-ca");
    const readyAt = Date.now();
    markReady("kafkas.kafka.strimzi.io", "k3", kafkaNs);

    // Topics and users follow; each is waited for until Strimzi marks it Ready.
    const ready = new Set<string>();
    // Strimzi's part while `up` runs: each new topic and user marked Ready.
    await eventually(
      "pulumi up to return",
      () => {
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
        return up.running() ? undefined : true;
      },
      300_000,
      500,
    );
    const { code, output } = await up.done;
    console.log(
      `pulumi up awaiting Strimzi: ${((Date.now() - started) / 1000).toFixed(1)} s in all, ${((Date.now() - readyAt) / 1000).toFixed(1)} s after the cluster was marked Ready`,
    );
    expect([code, output.slice(-1500)]).toEqual([0, expect.stringContaining("created")]);
    expect(ready.size).toBe(5 + 4); // the catalogue's topics and users
    // The cluster CA was carried over beside the users' credentials, with the bundle the clients mount
    // (the certificate and the newlines that make its length a multiple of 3, operator/src/core/ca-copy.ts).
    const copy: Record<string, string> = JSON.parse(kubectl("get", "secret", "k3-cluster-ca-cert", "-n", appsNs, "-o", "json")).data;
    expect(Object.fromEntries(Object.entries(copy).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]))).toEqual({
      "ca.crt": "test-cluster-ca",
      [CA_BUNDLE_KEY]: "test-cluster-ca\n\n\n",
    });
  });
});
