/**
 * Offline render: runs the program under Pulumi's mock runtime (no cluster, no CLI, no network)
 * and collects what a stack declares: Kubernetes objects, Helm releases, Kafka admin-API
 * resources and the stack outputs. Reviewers diff it; schema checks and tests read it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { CONFIG_NAMESPACE, type PlatformConfig, decodeRawConfig, loadPlatformConfig, parsePlatformConfig } from "../config";
import { createPlatform } from "../platform";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** Shown in place of values Pulumi would encrypt or generate at deploy time. */
export const SECRET_PLACEHOLDER = "[secret]";
export const GENERATED_PLACEHOLDER = "[generated at deploy]";

/** Outputs providers compute at deploy time, shown as placeholders offline. */
const DEPLOY_TIME_OUTPUTS: Readonly<Record<string, Record<string, string>>> = {
  "random:index/randomPassword:RandomPassword": { result: GENERATED_PLACEHOLDER },
  "docker-build:index:Image": { ref: "[image digest at deploy]", digest: "[image digest at deploy]" },
};

export interface DeclaredResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  /** Reference (`urn::id`) of the explicit provider, when one was passed. */
  readonly provider?: string;
  /** The options that keep it (infra/kafka/data-safety.ts), when set. */
  readonly protect?: boolean;
  readonly retainOnDelete?: boolean;
  /** The URNs it waits for (its `dependsOn` and the resources its inputs come from), when any. */
  readonly dependsOn?: readonly string[];
  /** The names of the transforms its options carry (they run on what the engine registers beneath it), when any. */
  readonly transforms?: readonly string[];
}

export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [k: string]: unknown };
  readonly [k: string]: unknown;
}

export interface HelmRelease {
  readonly name: string;
  readonly chart: string;
  readonly version: string;
  readonly namespace: string;
  readonly values: unknown;
}

export interface RenderResult {
  readonly stack: string;
  readonly manifests: KubernetesObject[];
  readonly helmReleases: HelmRelease[];
  /** Resources of @pulumi/kafka (topics, ACLs, SCRAM credentials, provider), secrets redacted. */
  readonly kafkaApi: DeclaredResource[];
  readonly outputs: Record<string, unknown>;
  /** Every resource the program registered, for tests. */
  readonly resources: DeclaredResource[];
  /** The warnings the program logged (pulumi.log.warn), as a preview would show them. */
  readonly warnings: string[];
}

export class UnknownStackError extends Error {
  constructor(stack: string, known: readonly string[]) {
    super(`Unknown stack "${stack}": no Pulumi.${stack}.yaml in ${PROJECT_ROOT}. Known stacks: ${known.join(", ")}`);
    this.name = "UnknownStackError";
  }
}

/**
 * The stacks whose settings live in the project: each `Pulumi.<stack>.yaml` that names its
 * environment. `pulumi stack init` writes a file holding only an encryption salt for a stack whose
 * settings come from `--config-file` (the integration tests' temporary stacks): those are not listed.
 */
export function knownStacks(root = PROJECT_ROOT): string[] {
  return fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .filter((s) => stackDocument(path.join(root, `Pulumi.${s}.yaml`)).config?.[`${CONFIG_NAMESPACE}:environment`] !== undefined)
    .sort();
}

interface StackDocument {
  readonly config?: Readonly<Record<string, unknown>>;
}

const parsedStackFiles = new Map<string, { readonly stamp: string; readonly doc: StackDocument }>();

/**
 * A stack file, parsed once per process however often the stacks are listed and read (every
 * test lists them, then renders each): parsed again only when the file changed since.
 */
function stackDocument(file: string): StackDocument {
  const stat = fs.statSync(file);
  const stamp = `${stat.mtimeMs}:${stat.size}`;
  const cached = parsedStackFiles.get(file);
  if (cached?.stamp === stamp) return cached.doc;
  const doc = (parseYaml(fs.readFileSync(file, "utf8")) ?? {}) as StackDocument;
  parsedStackFiles.set(file, { stamp, doc });
  return doc;
}

export function projectName(root = PROJECT_ROOT): string {
  const project = parseYaml(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { name?: unknown };
  if (typeof project.name !== "string") throw new Error("Pulumi.yaml has no project name");
  return project.name;
}

/**
 * Reads a stack file the way the Pulumi CLI hands config to a program: plain values as text,
 * structured values as JSON text, `secure:` values (undecryptable offline) as a placeholder.
 */
export function readStackConfig(stack: string, root = PROJECT_ROOT): { config: Record<string, string>; secretKeys: string[] } {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new UnknownStackError(stack, knownStacks(root));
  const doc = stackDocument(file);
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    const fullKey = key.includes(":") ? key : `${CONFIG_NAMESPACE}:${key}`;
    if (value !== null && typeof value === "object" && "secure" in value) {
      config[fullKey] = SECRET_PLACEHOLDER;
      secretKeys.push(fullKey);
    } else {
      config[fullKey] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return { config, secretKeys };
}

/** A committed stack's raw `streamforge:*` values and the keys it holds as secrets (namespace stripped), read offline. */
export function readStackValues(stack: string, root = PROJECT_ROOT): { raw: Record<string, unknown>; secretKeys: Set<string> } {
  const { config, secretKeys } = readStackConfig(stack, root);
  const prefix = `${CONFIG_NAMESPACE}:`;
  return {
    raw: decodeRawConfig(config),
    secretKeys: new Set(secretKeys.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length))),
  };
}

/** A committed stack's validated config, read offline (secret values are placeholders). */
export function parseCommittedStack(stack: string, root = PROJECT_ROOT): PlatformConfig {
  const { raw, secretKeys } = readStackValues(stack, root);
  return parsePlatformConfig(raw, secretKeys);
}

const KIND_ORDER = [
  "Namespace",
  "ServiceAccount",
  "Role",
  "RoleBinding",
  "ConfigMap",
  "Secret",
  "KafkaNodePool",
  "Kafka",
  "KafkaTopic",
  "KafkaUser",
  "Deployment",
  "PodDisruptionBudget",
  "NetworkPolicy",
  "Service",
  "AnalysisTemplate",
  "VirtualService",
  "HTTPRoute",
  "PodMonitor",
  "Rollout",
  "HorizontalPodAutoscaler",
];

function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i === -1 ? KIND_ORDER.length : i;
}

/** Stable order: by kind (dependencies first), then namespace, then name. */
export function sortManifests(objects: KubernetesObject[]): KubernetesObject[] {
  return [...objects].sort(
    (a, b) =>
      kindRank(a.kind) - kindRank(b.kind) ||
      a.kind.localeCompare(b.kind) ||
      (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") ||
      a.metadata.name.localeCompare(b.metadata.name),
  );
}

/** Secret payloads never reach a rendered file. */
function redactSecret(obj: KubernetesObject): KubernetesObject {
  if (obj.kind !== "Secret") return obj;
  const redact = (data: unknown): unknown =>
    data && typeof data === "object" ? Object.fromEntries(Object.keys(data).map((k) => [k, SECRET_PLACEHOLDER])) : data;
  return { ...obj, ...(obj.data ? { data: redact(obj.data) } : {}), ...(obj.stringData ? { stringData: redact(obj.stringData) } : {}) };
}

const SECRET_INPUTS = new Set(["password", "saslPassword", "clientKey", "clientKeyPassphrase"]);

function redactInputs(inputs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, SECRET_INPUTS.has(k) && v !== undefined ? SECRET_PLACEHOLDER : v]));
}

/** Drops keys whose value is undefined, and Pulumi's internal markers, so output is plain data. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    // A secret that crossed the mock boundary: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value }
    if ("4dabf18193072939515e22adb298388d" in record) return plain(record.value);
    return Object.fromEntries(
      Object.entries(record)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, plain(v)]),
    );
  }
  return value;
}

async function resolveOutputs(outputs: Record<string, unknown>): Promise<Record<string, unknown>> {
  const resolved: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(outputs)) {
    resolved[key] = pulumi.Output.isInstance(value) ? await new Promise((resolve) => value.apply(resolve)) : value;
  }
  return resolved;
}

/**
 * Runs `program` under Pulumi's mock runtime with the given config and returns every resource
 * it registered and its resolved outputs. Used by render and by the wiring tests.
 */
/** What runUnderMocks reads of a registration request (Pulumi's RegisterResourceRequest protobuf). */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  hasProtect?(): boolean;
  getProtect(): boolean;
  hasRetainondelete?(): boolean;
  getRetainondelete(): boolean;
  getDependenciesList?(): string[];
}

export async function runUnderMocks(
  options: { project: string; stack: string; config: Record<string, string>; secretKeys?: string[] },
  program: () => Record<string, unknown> | void,
): Promise<{ resources: DeclaredResource[]; outputs: Record<string, unknown>; warnings: string[] }> {
  const resources: DeclaredResource[] = [];
  // The options that keep data and the dependencies, by type and name (the mocks' arguments do not carry them).
  const keep = new Map<string, Pick<DeclaredResource, "protect" | "retainOnDelete" | "dependsOn">>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = plain(args.inputs) as Record<string, unknown>;
        const transforms = (args.transforms ?? []).map((t) => t.name);
        resources.push({
          type: args.type,
          name: args.name,
          inputs,
          ...(args.provider ? { provider: args.provider } : {}),
          ...(transforms.length > 0 ? { transforms } : {}),
          ...keep.get(`${args.type}::${args.name}`),
        });
        const state = { ...inputs, ...DEPLOY_TIME_OUTPUTS[args.type] };
        return { id: `${args.name}-id`, state };
      },
      call: () => ({}),
    },
    options.project,
    options.stack,
    true,
    // A self-managed backend's organization (the program names its stack by it: kafka/data-safety.ts stackIdentity).
    "organization",
  );
  pulumi.runtime.setAllConfig(options.config, options.secretKeys ?? []);
  // The mock monitor sees the raw registration request; the mocks' arguments lack its options.
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: RegisterRequest, cb: unknown) => unknown };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    const dependsOn = req.getDependenciesList?.() ?? [];
    const kept = {
      ...(req.hasProtect?.() ? { protect: req.getProtect() } : {}),
      ...(req.hasRetainondelete?.() ? { retainOnDelete: req.getRetainondelete() } : {}),
      ...(dependsOn.length > 0 ? { dependsOn } : {}),
    };
    if (Object.keys(kept).length > 0) keep.set(`${req.getType()}::${req.getName()}`, kept);
    return register(req, cb);
  };
  // Without an engine, pulumi.log.warn writes to console.warn (@pulumi/pulumi log/index.js):
  // keep the program's warnings as the engine would show them, once, instead.
  const warnings: string[] = [];
  const consoleWarn = console.warn;
  console.warn = (...args: unknown[]) => {
    const line = args.map(String).join(" ");
    if (line.startsWith(RUNTIME_WARNING)) warnings.push(line.slice(RUNTIME_WARNING.length));
    else consoleWarn(...args);
  };
  try {
    const outputs = await resolveOutputs(program() ?? {});
    // Resource registrations are asynchronous: wait until the mock monitor has seen them all.
    await pulumi.runtime.disconnect();
    return { resources, outputs, warnings };
  } finally {
    console.warn = consoleWarn;
  }
}

const RUNTIME_WARNING = "warning: [runtime] ";

export interface RenderOptions {
  /** The project directory (default: this repository). */
  readonly root?: string;
  /** Changes the stack's decoded `streamforge:*` values before the program sees them (tests' variants). */
  readonly edit?: (raw: Record<string, unknown>) => void;
}

/** Runs the program for `stack` under mocks and returns what it declares. */
export async function renderStack(stack: string, options: RenderOptions = {}): Promise<RenderResult> {
  const root = options.root ?? PROJECT_ROOT;
  const read = readStackConfig(stack, root);
  const { secretKeys } = read;
  let config = read.config;
  if (options.edit) {
    const raw = decodeRawConfig(config);
    options.edit(raw);
    config = Object.fromEntries(
      Object.entries(raw).map(([k, v]) => [`${CONFIG_NAMESPACE}:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
    );
  }
  const { resources, outputs, warnings } = await runUnderMocks({ project: projectName(root), stack, config, secretKeys }, () =>
    createPlatform(loadPlatformConfig()),
  );

  const manifests = sortManifests(
    resources
      .filter(
        (r) => r.type.startsWith("kubernetes:") && typeof r.inputs.apiVersion === "string" && !r.type.startsWith("kubernetes:helm.sh/"),
      )
      .map((r) => redactSecret(r.inputs as unknown as KubernetesObject)),
  );
  const helmReleases = resources
    .filter((r) => r.type === "kubernetes:helm.sh/v3:Release")
    .map((r) => ({
      name: String(r.inputs.name),
      chart: String(r.inputs.chart),
      version: String(r.inputs.version),
      namespace: String(r.inputs.namespace),
      values: r.inputs.values ?? {},
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const kafkaApi = resources
    .filter((r) => r.type.startsWith("kafka:") || r.type === "pulumi:providers:kafka")
    .map((r) => ({ type: r.type, name: r.name, inputs: redactInputs(r.inputs) }))
    .sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
  return { stack, manifests, helmReleases, kafkaApi, outputs, resources, warnings };
}
