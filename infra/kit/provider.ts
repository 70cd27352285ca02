/**
 * The stack's explicit Kubernetes provider, and the check that the cluster it names exists in its
 * kubeconfig before anything is declared: a stack never deploys into whatever context is current.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ConfigError, problem } from "./config-kit";

/** `streamforge:cluster`: the cluster the stack's explicit Kubernetes provider talks to. */
export const clusterTargetSchema = z.strictObject({
  /** Path of the kubeconfig file (relative to the project directory); default: $KUBECONFIG or ~/.kube/config. */
  kubeconfig: z.string().min(1).optional(),
  /** Context of the kubeconfig to use; default: the kubeconfig's current-context (only with `kubeconfig`). */
  context: z.string().min(1).optional(),
});
export type ClusterTarget = z.output<typeof clusterTargetSchema>;

/** Shown offline (render) for what only the stack's kubeconfig can tell. */
export const FROM_KUBECONFIG_PLACEHOLDER = "[read from the kubeconfig at deploy]";

/** Where a stack deploys, as far as its kubeconfig tells it. */
export interface ResolvedCluster {
  /** The kubeconfig file read (absolute). */
  readonly kubeconfigPath: string;
  readonly context: string;
  /** The API server URL of that context's cluster. */
  readonly server: string;
}

/** The kubeconfig file a target means: its own path (relative to the project), else $KUBECONFIG's first file, else ~/.kube/config. */
export function kubeconfigPath(target: ClusterTarget, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (target.kubeconfig !== undefined) return path.resolve(cwd, target.kubeconfig.replace(/^~(?=\/|$)/, os.homedir()));
  const fromEnv = env.KUBECONFIG?.split(path.delimiter).find((p) => p.length > 0);
  return fromEnv ?? path.join(os.homedir(), ".kube", "config");
}

interface Kubeconfig {
  readonly "current-context"?: string;
  readonly contexts?: readonly { readonly name?: string; readonly context?: { readonly cluster?: string } }[];
  readonly clusters?: readonly { readonly name?: string; readonly cluster?: { readonly server?: string } }[];
}

/**
 * Finds the target's context and server in a kubeconfig's text (undefined: the file is missing).
 * Pure; throws a ConfigError naming `streamforge:cluster.*` and the file when it cannot.
 */
export function resolveCluster(target: ClusterTarget, file: string, text: string | undefined): ResolvedCluster {
  const key = target.kubeconfig !== undefined ? "kubeconfig" : "context";
  const fail = (message: string): never => {
    throw new ConfigError([problem("cluster", [key], message)]);
  };
  if (text === undefined) return fail(`expected a readable kubeconfig file; found nothing at ${file}`);
  let doc: Kubeconfig;
  try {
    doc = (parseYaml(text) ?? {}) as Kubeconfig;
  } catch (err) {
    return fail(`expected a kubeconfig (YAML); ${file} does not parse: ${(err as Error).message.split("\n")[0]}`);
  }
  const contexts = doc.contexts ?? [];
  const name = target.context ?? doc["current-context"];
  if (name === undefined || name === "")
    return fail(`expected streamforge:cluster.context, or a current-context in ${file}; found neither`);
  const context = contexts.find((c) => c.name === name);
  if (!context)
    throw new ConfigError([
      problem(
        "cluster",
        ["context"],
        `expected a context of ${file} (${contexts.map((c) => c.name).join(", ") || "it has none"}); found "${name}"`,
      ),
    ]);
  const server = doc.clusters?.find((c) => c.name === context.context?.cluster)?.cluster?.server;
  if (!server) return fail(`expected context "${name}" of ${file} to name a cluster with a server; found none`);
  return { kubeconfigPath: file, context: name, server };
}

/** Reads the target's kubeconfig and resolves it (the I/O edge of `resolveCluster`). */
export function readCluster(target: ClusterTarget): ResolvedCluster {
  const file = kubeconfigPath(target);
  let text: string | undefined;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    text = undefined;
  }
  return resolveCluster(target, file, text);
}

/** The explicit provider every component of the stack is given. */
export function clusterProvider(name: string, target: ClusterTarget): k8s.Provider {
  return new k8s.Provider(name, {
    // The path as configured: resolved by the provider in the project directory, so the state
    // does not change from one machine to the next.
    ...(target.kubeconfig !== undefined ? { kubeconfig: target.kubeconfig } : {}),
    ...(target.context !== undefined ? { context: target.context } : {}),
    // Never drop resources from the state because the cluster cannot be reached.
    deleteUnreachable: false,
  });
}
