/**
 * A preview needs no write anywhere: the real Pulumi CLI previews a change of the `local` stack as
 * the stack's preview identity (`streamforge:apps.previewers`: a ServiceAccount's own token, with
 * only the Roles infra/kafka/previewers-spec.ts gives it) against the stack's backend mounted
 * read-only. The same identity is then tried as an attacker would: every write and every Secret
 * refused by the real API server, and an `up` refused by the read-only backend with the state unchanged.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { PROJECT_ROOT } from "../../infra/render/render";
import { copyWorkingTree, kubectl, kubectlApply, kubectlWith, pulumi, requireEnv, serviceAccountKubeconfig } from "./local-platform";

const NS = "streamforge-preview";
const SA = "previewer";
let dir: string;
let repo: string;
let readOnlyBackend: string;
let kubeconfig: string;

/** `pulumi <args>` in the copy, as the preview job runs it: the preview identity's kubeconfig, the backend read-only. */
function pulumiAsPreviewer(...args: string[]) {
  const r = spawnSync("pulumi", [...args, "--stack", "local", "--non-interactive", "--color", "never"], {
    cwd: repo,
    encoding: "utf8",
    env: { ...process.env, PULUMI_BACKEND_URL: `file://${readOnlyBackend}`, KUBECONFIG: kubeconfig },
    timeout: 900_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

beforeAll(() => {
  const backend = requireEnv("PULUMI_BACKEND_URL");
  if (!backend.startsWith("file://")) throw new Error(`expected the local platform's file backend; found ${backend}`);
  // The stack as the program declares it now, with its previewer Roles.
  const deploy = spawnSync("bash", [path.join(PROJECT_ROOT, "local", "platform.sh"), "deploy"], {
    encoding: "utf8",
    env: process.env,
    timeout: 900_000,
  });
  if (deploy.status !== 0) throw new Error(`deploying the local stack failed:\n${`${deploy.stdout}\n${deploy.stderr}`.slice(-3000)}`);

  dir = fs.mkdtempSync(path.join(os.tmpdir(), "streamforge-preview-identity-"));
  kubectlApply({
    apiVersion: "v1",
    kind: "List",
    items: [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: SA, namespace: NS } },
    ],
  });
  kubeconfig = serviceAccountKubeconfig(dir, NS, SA);

  // The backend, read-only: a bind mount remounted ro (root, as on these machines and in CI's privileged container).
  readOnlyBackend = path.join(dir, "backend");
  fs.mkdirSync(readOnlyBackend);
  for (const args of [
    ["--bind", new URL(backend).pathname, readOnlyBackend],
    ["-o", "remount,bind,ro", readOnlyBackend],
  ]) {
    const r = spawnSync("mount", args, { encoding: "utf8" });
    if (r.status !== 0)
      throw new Error(`mount ${args.join(" ")} failed (this test needs root to mount the backend read-only): ${r.stderr}`);
  }

  // The change a pull request makes, in a copy of the working tree whose stack names the previewer's kubeconfig.
  repo = path.join(dir, "repo");
  copyWorkingTree(repo);
  for (const link of ["node_modules", "operator/node_modules", ".local"])
    fs.symlinkSync(path.join(PROJECT_ROOT, link), path.join(repo, link));
  const file = path.join(repo, "Pulumi.local.yaml");
  const doc = parseDocument(fs.readFileSync(file, "utf8"));
  doc.setIn(["config", "streamforge:cluster"], { kubeconfig, context: SA });
  doc.setIn(["config", "streamforge:operator", "replicas"], 3);
  doc.setIn(["config", "streamforge:catalogue", "topics", "market-ticks"], { partitions: 3 });
  fs.writeFileSync(file, doc.toString());
});

afterAll(() => {
  if (readOnlyBackend) spawnSync("umount", [readOnlyBackend]);
  kubectl("delete", "namespace", NS, "--ignore-not-found", "--wait=false");
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("the preview identity previews the change: a new topic and a Deployment update, with the backend read-only", () => {
  const r = pulumiAsPreviewer("preview", "--diff");
  expect({ status: r.status, output: r.status === 0 ? "" : r.output.slice(-4000) }).toEqual({ status: 0, output: "" });
  expect(r.output).toMatch(/\+ kubernetes:kafka\.strimzi\.io\/v1:KafkaTopic: \(create\)/);
  expect(r.output).toMatch(/~ kubernetes:apps\/v1:Deployment: \(update\)[\s\S]*?replicas: 2 => 3/);
  // The program's live read ran as the previewer: the impact report comes from it (infra/kafka/area.ts).
  expect(r.output).toContain("Kafka impact:");
});

test("the same identity writes nothing and reads no Secret: each refusal is the API server's", () => {
  const as = (...args: string[]) => kubectlWith(kubeconfig, undefined, ...args);
  const refused = (r: { ok: boolean; output: string }, what: RegExp) =>
    expect(r).toEqual({ ok: false, output: expect.stringMatching(what) });
  const user = `User "system:serviceaccount:${NS}:${SA}"`;
  // What a preview reads is admitted.
  expect(as("get", "kafkatopics.kafka.strimzi.io", "-n", "kafka", "-o", "name")).toEqual({
    ok: true,
    output: expect.stringContaining("kafkatopic.kafka.strimzi.io/queue-events"),
  });
  expect(as("get", "kafkausers.kafka.strimzi.io", "-n", "stf", "-o", "name")).toEqual({
    ok: true,
    output: expect.stringContaining("kafkauser.kafka.strimzi.io/loaders"),
  });
  refused(as("get", "secrets", "-n", "stf"), new RegExp(`${user} cannot list resource "secrets"`));
  refused(as("get", "secret", "k3-cluster-ca-cert", "-n", "kafka"), new RegExp(`${user} cannot get resource "secrets"`));
  refused(
    as("scale", "deployment/streamforge-self-healing-operator", "-n", "stf", "--replicas", "0"),
    new RegExp(`${user} cannot (get|patch) resource "deployments`),
  );
  refused(as("delete", "kafkatopic", "queue-events", "-n", "kafka"), new RegExp(`${user} cannot delete resource "kafkatopics"`));
  refused(as("run", "x", "-n", "stf", "--image", "busybox"), new RegExp(`${user} cannot create resource "pods"`));
  refused(
    as("create", "token", "streamforge-self-healing-operator", "-n", "stf"),
    new RegExp(`${user} cannot create resource "serviceaccounts/token"`),
  );
});

test("an `up` as the preview job is refused by the read-only backend, and the state is unchanged", () => {
  const before = pulumi(["stack", "export", "--stack", "local"]).stdout;
  const r = pulumiAsPreviewer("up", "--yes", "--skip-preview");
  expect(r.status).not.toBe(0);
  expect(r.output).toMatch(/read-only file system/);
  expect(pulumi(["stack", "export", "--stack", "local"]).stdout).toBe(before);
});
