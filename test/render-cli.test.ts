/** The render command as a reviewer runs it: a real process writing real files. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { PROJECT_ROOT, knownStacks } from "../infra/render/render";

function render(...args: string[]) {
  const result = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", "infra/render/cli.ts", ...args], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: "" },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "render-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("npm run render", () => {
  it("writes manifests, Helm releases, Kafka admin resources and outputs for dev", () => {
    const out = path.join(tmp, "dev");
    const { code, stdout } = render("--stack", "dev", "--out", out);
    expect(code).toBe(0);
    expect(stdout).toMatch(/stack dev: \d+ Kubernetes objects, 2 Helm releases/);
    const docs = parseAllDocuments(fs.readFileSync(path.join(out, "manifests.yaml"), "utf8")).map((d) => d.toJS());
    expect(docs.map((d) => d.kind)).toEqual(
      expect.arrayContaining(["Namespace", "ConfigMap", "KafkaNodePool", "Kafka", "KafkaTopic", "KafkaUser"]),
    );
    const releases = parseAllDocuments(fs.readFileSync(path.join(out, "helm-releases.yaml"), "utf8"))[0]!.toJS();
    expect(releases).toEqual([
      expect.objectContaining({ name: "argo-rollouts", version: "2.41.0" }),
      expect.objectContaining({ name: "strimzi-cluster-operator", version: "1.2.0" }),
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(out, "outputs.json"), "utf8")).kafkaBootstrapTls).toBe("k3-kafka-bootstrap.kafka:9093");
  });

  it("is byte-for-byte stable between runs", () => {
    const a = path.join(tmp, "a");
    const b = path.join(tmp, "b");
    expect(render("--stack", "local-kafka-api", "--out", a).code).toBe(0);
    expect(render("--stack", "local-kafka-api", "--out", b).code).toBe(0);
    for (const f of ["manifests.yaml", "helm-releases.yaml", "kafka-api.yaml", "outputs.json"]) {
      expect(fs.readFileSync(path.join(a, f), "utf8")).toBe(fs.readFileSync(path.join(b, f), "utf8"));
    }
  });

  it("never writes a secret value", () => {
    const out = path.join(tmp, "local-secrets");
    expect(render("--stack", "local-kafka-api", "--out", out).code).toBe(0);
    const manifests = fs.readFileSync(path.join(out, "manifests.yaml"), "utf8");
    const secrets = parseAllDocuments(manifests)
      .map((d) => d.toJS())
      .filter((d) => d.kind === "Secret");
    expect(secrets.length).toBeGreaterThan(0);
    // Every Secret with data holds it masked; the relaunch guard's is declared empty (the guard fills it).
    const empty = secrets.filter((s) => s.stringData === undefined && s.data === undefined).map((s) => s.metadata.name);
    expect(empty).toEqual(["streamforge-relaunch-guard-tls"]);
    for (const s of secrets.filter((s) => !empty.includes(s.metadata.name)))
      expect(Object.values(s.stringData)).toEqual(["[secret]", "[secret]"]);
  });

  it("fails with exit 2 and names the stacks it knows for an unknown stack", () => {
    const { code, stderr } = render("--stack", "staging", "--out", path.join(tmp, "x"));
    expect(code).toBe(2);
    expect(stderr).toMatch(/Unknown stack "staging".*Known stacks: dev, local, local-kafka-api, prod/);
    expect(fs.existsSync(path.join(tmp, "x"))).toBe(false);
  });

  it("fails with exit 2 and the key's full name for invalid config, writing nothing", () => {
    const project = path.join(tmp, "project");
    fs.mkdirSync(project);
    fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
    const dev = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8");
    fs.writeFileSync(path.join(project, "Pulumi.broken.yaml"), dev.replace("replicas: 1", "replicas: 0"));
    const { code, stderr } = render("--stack", "broken", "--out", path.join(tmp, "y"), "--project", project);
    expect(code).toBe(2);
    expect(stderr).toContain("streamforge:kafka.nodePools[0].replicas: expected a number >= 1; found 0 (number)");
    expect(fs.existsSync(path.join(tmp, "y"))).toBe(false);
  });

  it("fails with exit 2 and usage when an argument is missing", () => {
    const { code, stderr } = render("--stack", "dev");
    expect(code).toBe(2);
    expect(stderr).toMatch(/usage: npm run render -- --stack <name> --out <dir>/);
  });
});

describe("knownStacks", () => {
  it("lists the stacks that name their environment, not the salt-only files `pulumi stack init` leaves for --config-file stacks", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "known-stacks-"));
    fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: streamforge\n");
    fs.writeFileSync(path.join(root, "Pulumi.prod.yaml"), "config:\n  streamforge:environment: prod\n");
    fs.writeFileSync(path.join(root, "Pulumi.rollouts-e2e.yaml"), "encryptionsalt: v1:abc\n");
    expect(knownStacks(root)).toEqual(["prod"]);
    fs.rmSync(root, { recursive: true, force: true });
  });
});
