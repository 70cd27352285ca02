/**
 * Runs policies the way the Pulumi engine's analyzer does (@pulumi/policy 1.21.0 server.js, which
 * has no exported test harness: pulumi/pulumi-policy#445): props wrapped in `unknownCheckingProxy`,
 * `getConfig` returning the policy's config without `enforcementLevel`, `notApplicable` throwing,
 * a value unknown at preview turning the run into an advisory "can't run ... during preview".
 */
import {
  type Policy,
  type PolicyPackConfig,
  type PolicyResource,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
  UnknownValueError,
  unknownCheckingProxy,
} from "@pulumi/policy";
import type { DeclaredResource } from "../../infra/render/render";
import { GENERATED_PLACEHOLDER } from "../../infra/render/render";

/** The sentinel the engine sends for a string not known until deploy (@pulumi/policy proxy.js). */
export const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Values render shows for outputs computed at deploy time: at preview the engine sends them as unknowns. */
const DEPLOY_TIME = new Set([GENERATED_PLACEHOLDER, "[image digest at deploy]"]);

/** What a deploy-time placeholder is at `pulumi up`, once known (an image pushed and referenced by digest). */
const KNOWN_AT_UPDATE: Record<string, string> = {
  [GENERATED_PLACEHOLDER]: "generated-at-deploy",
  "[image digest at deploy]": `registry.example/image:1.0.0@sha256:${"0".repeat(64)}`,
};

export type Phase = "preview" | "update";

/** A rendered resource as the engine hands it to the analyzer: at preview, deploy-time values are unknowns. */
export function asAnalyzed(value: unknown, phase: Phase = "preview"): unknown {
  if (Array.isArray(value)) return value.map((v) => asAnalyzed(v, phase));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asAnalyzed(v, phase)]));
  if (typeof value !== "string" || !DEPLOY_TIME.has(value)) return value;
  return phase === "preview" ? UNKNOWN_STRING : KNOWN_AT_UPDATE[value];
}

class NotApplicable extends Error {}

export interface PolicyRun {
  readonly policy: string;
  readonly enforcementLevel: string;
  readonly resource: string;
  readonly violations: string[];
  /** The reason the policy said it does not apply. */
  readonly notApplicable?: string;
  /** Set when the engine would report "can't run policy during preview" (advisory). */
  readonly unknown?: string;
}

export interface RunOptions {
  readonly stack?: string;
  readonly project?: string;
  readonly config?: PolicyPackConfig;
  /** The stack's tags (`pulumi stack tag set`), as the engine's ConfigureStack call passes them. */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The policy's config as `getConfig` returns it: the schema's defaults (the engine fills them in,
 * pulumi v3.259.0 pkg/resource/analyzer/config.go:275-300 createConfigWithDefaults), then the
 * pack config's own values, without `enforcementLevel`.
 */
function configOf(policy: Policy, options: RunOptions): Record<string, unknown> {
  const defaults = Object.fromEntries(
    Object.entries(policy.configSchema?.properties ?? {})
      .filter(([, v]) => (v as { default?: unknown }).default !== undefined)
      .map(([k, v]) => [k, (v as { default?: unknown }).default]),
  );
  const configured = options.config?.[policy.name];
  const given = typeof configured === "object" ? (({ enforcementLevel: _level, ...rest }) => rest)(configured) : {};
  return { ...defaults, ...given };
}

const tagsOf = (options: RunOptions): ReadonlyMap<string, string> => new Map(Object.entries(options.tags ?? {}));

export function urnOf(type: string, name: string, options: RunOptions = {}): string {
  return `urn:pulumi:${options.stack ?? "dev"}::${options.project ?? "streamforge-platform"}::${type}::${name}`;
}

/**
 * A resource as the analyzer hands it to a policy: its inputs behind a proxy that throws on an
 * unknown value. The copy is made in this realm: under Jest, `structuredClone` returns objects of
 * the outer realm, which fail the proxy's `instanceof Object` and would go unchecked.
 */
function analyzedResource(resource: { type: string; name: string; inputs: Record<string, unknown> }, options: RunOptions) {
  const props = unknownCheckingProxy(JSON.parse(JSON.stringify(resource.inputs))) as Record<string, unknown>;
  const isType = (cls: unknown) => (cls as { __pulumiType?: string }).__pulumiType === resource.type;
  return {
    type: resource.type,
    props,
    urn: urnOf(resource.type, resource.name, options),
    name: resource.name,
    opts: {
      protect: false,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
    },
    isType,
    asType: (cls: unknown) => (isType(cls) ? (props as never) : undefined),
  };
}

/** The run's environment as every validation gets it: the stack's tags, the policy's config, the not-applicable escape. */
function runEnvironment(policy: Policy, options: RunOptions) {
  const config = configOf(policy, options);
  return {
    stackTags: tagsOf(options),
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason ?? "");
    },
  };
}

/** Runs the validations; a not-applicable or an unknown value ends the run as the analyzer reports it. */
async function settle(base: Omit<PolicyRun, "violations">, violations: string[], validate: () => Promise<void>): Promise<PolicyRun> {
  try {
    await validate();
  } catch (e) {
    if (e instanceof NotApplicable) return { ...base, violations, notApplicable: e.message };
    if (e instanceof UnknownValueError) return { ...base, violations, unknown: (e as Error).message };
    throw e;
  }
  return { ...base, violations };
}

/** One policy over one resource, as the analyzer's Analyze call runs it. */
export async function runResourcePolicy(
  policy: ResourceValidationPolicy,
  resource: { type: string; name: string; inputs: Record<string, unknown> },
  options: RunOptions = {},
): Promise<PolicyRun> {
  const violations: string[] = [];
  const base = {
    policy: policy.name,
    enforcementLevel: String(policy.enforcementLevel ?? "advisory"),
    resource: `${resource.type}::${resource.name}`,
  };
  const args: ResourceValidationArgs = { ...analyzedResource(resource, options), ...runEnvironment(policy, options) };
  const validations =
    policy.validateResource === undefined
      ? []
      : Array.isArray(policy.validateResource)
        ? policy.validateResource
        : [policy.validateResource];
  return settle(base, violations, async () => {
    for (const validate of validations) await validate(args, (message) => violations.push(message));
  });
}

/** Every policy over every declared resource, as a preview (or an update) would. */
export async function runAll(
  policies: readonly ResourceValidationPolicy[],
  resources: readonly DeclaredResource[],
  options: RunOptions & { phase?: Phase } = {},
): Promise<PolicyRun[]> {
  const runs: PolicyRun[] = [];
  for (const r of resources)
    for (const p of policies)
      runs.push(
        await runResourcePolicy(
          p,
          { type: r.type, name: r.name, inputs: asAnalyzed(r.inputs, options.phase) as Record<string, unknown> },
          options,
        ),
      );
  return runs;
}

/** One stack policy over the whole stack, as the analyzer's AnalyzeStack call runs it (server.js, analyzeStack). */
export async function runStackPolicy(
  policy: StackValidationPolicy,
  resources: readonly { type: string; name: string; inputs: Record<string, unknown> }[],
  options: RunOptions = {},
): Promise<PolicyRun> {
  const violations: string[] = [];
  const base = { policy: policy.name, enforcementLevel: String(policy.enforcementLevel ?? "advisory"), resource: "stack" };
  const policyResources = resources.map((r): PolicyResource => ({
    ...analyzedResource(r, options),
    dependencies: [],
    propertyDependencies: {},
  }));
  return settle(base, violations, async () => {
    await policy.validateStack({ resources: policyResources, ...runEnvironment(policy, options) }, (message, urn) =>
      violations.push(urn ? `${message} [${urn.split("::").pop()}]` : message),
    );
  });
}

/** Every stack policy over the stack, as a preview (or an update) would. */
export async function runAllStack(
  policies: readonly StackValidationPolicy[],
  resources: readonly DeclaredResource[],
  options: RunOptions & { phase?: Phase } = {},
): Promise<PolicyRun[]> {
  const analyzed = resources.map((r) => ({
    type: r.type,
    name: r.name,
    inputs: asAnalyzed(r.inputs, options.phase) as Record<string, unknown>,
  }));
  const runs: PolicyRun[] = [];
  for (const p of policies) runs.push(await runStackPolicy(p, analyzed, options));
  return runs;
}
