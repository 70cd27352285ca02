/** The local platform's tools for the integration tiers: the real Pulumi CLI, kubectl, stack variants, Prometheus targets. */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { PROJECT_ROOT } from "../../infra/render/render";
import { kubectl, kubectlWith } from "../../operator/testkit/kubectl";
import { eventually } from "../../operator/testkit/wait";

// The test kit (operator/testkit: waits, kubectl, Prometheus) that every test imports, also from here.
export { GiveUp, consistently, eventually, pause } from "../../operator/testkit/wait";
export { kubectl, kubectlApply, kubectlAsync, kubectlWith } from "../../operator/testkit/kubectl";
export { prometheusApi, promQuery, promSeriesCount } from "../../operator/testkit/prometheus";

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `The integration tier needs ${name}: run it through scripts/test.sh, or \`npm run local -- up\` and eval "$(npm run --silent local -- env)"`,
    );
  return value;
}

/** Runs `pulumi <args>` in the project (`env` added to this process's); stdout and stderr together in `output`. */
export function pulumi(
  args: string[],
  timeout = 600_000,
  env: NodeJS.ProcessEnv = {},
): { status: number | null; stdout: string; output: string } {
  // A stack export holds every object's inputs and outputs (the dashboards alone are over 1 MiB, Node's default).
  const result = spawnSync("pulumi", [...args, "--non-interactive"], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, output: `${result.stdout}\n${result.stderr}` };
}

/** Selects a stack of the local backend, creating it when it does not exist yet. */
export function selectStack(stack: string): void {
  if (pulumi(["stack", "select", stack]).status !== 0) {
    const init = pulumi(["stack", "init", stack]);
    if (init.status !== 0) throw new Error(`pulumi stack init ${stack} failed:\n${init.output}`);
  }
}

/** A new, empty stack of a fixture program (a folder of test/fixtures): one an interrupted run left is removed first. */
export function freshFixtureStack(fixture: string, stack: string): void {
  if (pulumi(["--cwd", fixture, "stack", "select", stack]).status === 0)
    pulumi(["--cwd", fixture, "stack", "rm", stack, "--yes", "--force"]);
  const init = pulumi(["--cwd", fixture, "stack", "init", stack]);
  if (init.status !== 0) throw new Error(`pulumi stack init ${stack} (${path.basename(fixture)}) failed:\n${init.output}`);
}

/**
 * A stack config file written to a temporary folder (passed with `--config-file`), so a test
 * varies a stack without touching the committed Pulumi.<stack>.yaml.
 */
export function configFile(name: string, doc: { config: Record<string, unknown>; encryptionsalt?: string }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "streamforge-stack-"));
  const file = path.join(dir, `Pulumi.${name}.yaml`);
  fs.writeFileSync(file, stringify(doc));
  return file;
}

export function namespaceExists(ns: string): boolean {
  try {
    kubectl("get", "namespace", ns, "-o", "name");
    return true;
  } catch {
    return false;
  }
}

/** A committed local stack file: the local stack's unless another is named. */
export function localStackFile(file = "Pulumi.local.yaml"): { config: Record<string, any>; encryptionsalt: string } {
  return parseYaml(fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8")) as {
    config: Record<string, any>;
    encryptionsalt: string;
  };
}

/**
 * The local stack with namespaces of its own (`kafka-<suffix>`, `stf-<suffix>`, so it cannot touch
 * the local stack's objects), and without the areas whose objects have fixed names: the
 * self-healing operator, chaos (its namespace, guard and schedule) and observability (the Rollouts
 * controller's PodMonitor), its Kafka objects unprotected so `pulumi destroy` can remove them; changed by `edit`; written as a `--config-file` for stack `name`.
 * Sharing one object would let a variant's destroy delete the local stack's.
 */
export function localVariant(name: string, suffix: string, edit: (config: Record<string, any>) => void): string {
  const local = localStackFile();
  const config = structuredClone(local.config);
  config["streamforge:kafka"].namespace = `kafka-${suffix}`;
  // Its own apps namespace; the local stack's deployers (the admin that runs these tests' `up`).
  config["streamforge:apps"] = { ...config["streamforge:apps"], namespace: `stf-${suffix}` };
  delete config["streamforge:operator"];
  delete config["streamforge:operatorRegistryPassword"];
  delete config["streamforge:observability"];
  delete config["streamforge:chaos"];
  // A throwaway stack confirms up front that its Kafka objects may go with it (infra/kafka/data-safety.ts).
  config["streamforge:retire"] = { stack: "delete" };
  edit(config);
  return configFile(name, { config, encryptionsalt: local.encryptionsalt });
}

/** `pulumi <args>` in the background: `done` resolves with its exit code and output; `running()` until then; `output()` so far. */
export function pulumiInBackground(args: string[]): {
  done: Promise<{ code: number | null; output: string }>;
  running: () => boolean;
  output: () => string;
} {
  const child = spawn("pulumi", [...args, "--non-interactive"], { cwd: PROJECT_ROOT, env: process.env });
  let output = "";
  child.stdout.on("data", (d) => (output += String(d)));
  child.stderr.on("data", (d) => (output += String(d)));
  let code: number | null | undefined;
  const done = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on("exit", (c) => {
      code = c;
      resolve({ code: c, output });
    }),
  );
  return { done, running: () => code === undefined, output: () => output };
}

/** Tells the local Prometheus to scrape these targets (file-based discovery), replacing the file at once. */
export function writeScrapeTargets(file: string, targets: readonly { targets: string[]; labels: Record<string, string> }[]): void {
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(targets));
  fs.renameSync(`${file}.tmp`, file);
}

/**
 * Copies the working tree as it is (tracked and new files, not ignored ones) into `dest`, except
 * new stack files: `pulumi stack init` of another test's stack, running in the other lane
 * (docs/testing.md), writes one at the root for as long as that stack lives.
 */
export function copyWorkingTree(dest: string): void {
  const git = (...args: string[]) => spawnSync("git", ["-C", PROJECT_ROOT, ...args, "-z"], { encoding: "utf8" }).stdout.split("\0");
  const tracked = new Set(git("ls-files", "-c"));
  const files = git("ls-files", "-co", "--exclude-standard")
    .filter((f) => tracked.has(f) || !/^Pulumi\.[^/]+\.yaml$/.test(f))
    .filter((f) => f !== "" && fs.existsSync(path.join(PROJECT_ROOT, f)) && fs.statSync(path.join(PROJECT_ROOT, f)).isFile());
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    fs.copyFileSync(path.join(PROJECT_ROOT, f), path.join(dest, f));
  }
}

/**
 * A kubeconfig (written into `dir`) that authenticates as the ServiceAccount `namespace/name` with
 * its own bound token (TokenRequest, 1 h) on the admin's server and CA; checked with `auth whoami`.
 */
export function serviceAccountKubeconfig(dir: string, namespace: string, name: string, contextNamespace = namespace): string {
  const token = kubectl("create", "token", name, "-n", namespace, "--duration", "1h").trim();
  const admin = JSON.parse(kubectl("config", "view", "--raw", "--minify", "-o", "json"));
  const cluster = admin.clusters[0].cluster;
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "local", cluster: { server: cluster.server, "certificate-authority-data": cluster["certificate-authority-data"] } }],
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: "local", user: name, namespace: contextNamespace } }],
    "current-context": name,
  };
  const file = path.join(dir, `${namespace}-${name}.kubeconfig`);
  fs.writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  const whoami = kubectlWith(file, undefined, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}");
  if (whoami.output !== `system:serviceaccount:${namespace}:${name}`)
    throw new Error(`the token of ${namespace}/${name} is not its own: ${whoami.output}`);
  return file;
}

/** The type-checking warnings the API server reports for a ValidatingAdmissionPolicy, once it has checked it. */
export async function policyTypeWarnings(name: string): Promise<unknown[]> {
  const status = await eventually(`${name} checked`, () => {
    const s = JSON.parse(kubectl("get", "validatingadmissionpolicy", name, "-o", "json")).status ?? {};
    return s.observedGeneration === 1 ? s : undefined;
  });
  return status.typeChecking?.expressionWarnings ?? [];
}

/**
 * Waits until the API server enforces the ValidatingAdmissionPolicy `policy`: `attempt`, a request
 * it refuses, is sent again until its refusal names the policy. The API server loads each policy
 * on its own, a moment after `kubectl apply` returns. Resolves with how long that took (ms).
 */
export async function untilEnforced(policy: string, attempt: () => { readonly output: string }): Promise<number> {
  const start = Date.now();
  // A binding whose parameter the API server has not loaded yet refuses too ("failed to configure binding"): not yet enforced.
  await eventually(`${policy} enforced`, () => {
    const { output } = attempt();
    return output.includes(`ValidatingAdmissionPolicy '${policy}'`) && !output.includes("failed to configure") ? true : undefined;
  });
  return Date.now() - start;
}

/** Deletes these ValidatingAdmissionPolicies and their bindings (each binding is named after its policy). */
export function deletePolicies(...names: string[]): void {
  kubectl("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", ...names, "--ignore-not-found");
}
