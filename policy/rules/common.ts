/**
 * What the rules share: reading untyped resource inputs safely, naming a resource in a message,
 * finding the pod specs and containers of a workload, telling prod from the other stacks, and
 * turning a plain check into a `ResourceValidationPolicy`. Nothing here starts the policy server:
 * tests import the rule modules directly.
 */
import type {
  EnforcementLevel,
  PolicyConfigSchema,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";

/** A declared resource as a rule sees it: the engine's `type`, the logical name, the inputs. */
export interface Subject {
  readonly type: string;
  readonly name: string;
  readonly urn?: string;
  readonly props: unknown;
}

// ---- Untyped input access -------------------------------------------------------------------

export type Rec = Record<string, unknown>;

export function isRecord(value: unknown): value is Rec {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown): Rec {
  return isRecord(value) ? value : {};
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** `obj.a.b.c`, or undefined as soon as a step is missing. */
export function get(obj: unknown, ...path: string[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (!isRecord(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** How a value reads in "found ..." (short, JSON-like). */
export function shown(value: unknown): string {
  if (value === undefined) return "none";
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** A number written as a number or as its text (Kafka config, env values); NaN when neither. */
export function numeric(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.trim() !== "") return Number(value);
  return Number.NaN;
}

// ---- Naming ---------------------------------------------------------------------------------

/** `Deployment stf/queue-manager (resource "qm-deployment")`: the object as Kubernetes knows it, and the Pulumi name. */
export function describe(subject: Subject): string {
  const kind = asString(get(subject.props, "kind")) ?? subject.type.split(":").pop() ?? subject.type;
  const name = asString(get(subject.props, "metadata", "name"));
  const namespace = asString(get(subject.props, "metadata", "namespace"));
  const object = name ? `${kind} ${namespace ? `${namespace}/` : ""}${name}` : kind;
  return `${object} (resource "${subject.name}")`;
}

// ---- Kubernetes types -----------------------------------------------------------------------

/** `kubernetes:apps/v1:Deployment` -> `{ group: "apps", version: "v1", kind: "Deployment" }`. */
export function kubernetesType(type: string): { group: string; version: string; kind: string } | undefined {
  const m = /^kubernetes:(?:([^:/]+)\/)?([^:/]+):([^:]+)$/.exec(type);
  if (!m) return undefined;
  const [, group = "core", version = "", kind = ""] = m;
  return { group, version, kind };
}

export function isKind(type: string, group: string, kind: string): boolean {
  const t = kubernetesType(type);
  return t !== undefined && t.group === group && t.kind === kind;
}

/** Where each workload kind keeps its pod spec. */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  "core/Pod": ["spec"],
  "apps/Deployment": ["spec", "template", "spec"],
  "apps/StatefulSet": ["spec", "template", "spec"],
  "apps/DaemonSet": ["spec", "template", "spec"],
  "apps/ReplicaSet": ["spec", "template", "spec"],
  "batch/Job": ["spec", "template", "spec"],
  "batch/CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
  "argoproj.io/Rollout": ["spec", "template", "spec"],
};

/** True for the types whose inputs carry a pod template (Deployment, Job, CronJob, Rollout, ...). */
export function isWorkload(type: string): boolean {
  const t = kubernetesType(type);
  return t !== undefined && `${t.group}/${t.kind}` in POD_SPEC_PATHS;
}

export interface PodSpecAt {
  readonly path: string;
  readonly spec: Rec;
}

/** The workload's pod spec and where it sits; undefined when it has none (e.g. a Rollout with a workloadRef). */
export function podSpecOf(subject: Subject): PodSpecAt | undefined {
  const t = kubernetesType(subject.type);
  const path = t && POD_SPEC_PATHS[`${t.group}/${t.kind}`];
  if (!path) return undefined;
  const spec = get(subject.props, ...path);
  return isRecord(spec) ? { path: path.join("."), spec } : undefined;
}

export interface ContainerAt {
  /** `spec.template.spec.containers[0]` */
  readonly path: string;
  readonly name: string;
  readonly container: Rec;
}

/**
 * Containers and init containers of a pod spec, with their paths; with `ephemeral`, also the
 * ephemeral containers (`kubectl debug` adds them to a Pod; Pod Security admission checks them).
 */
export function containersOf(pod: PodSpecAt, options: { ephemeral?: boolean } = {}): ContainerAt[] {
  const out: ContainerAt[] = [];
  for (const field of ["initContainers", "containers", ...(options.ephemeral ? ["ephemeralContainers"] : [])]) {
    asArray(pod.spec[field]).forEach((c, i) => {
      const container = asRecord(c);
      out.push({ path: `${pod.path}.${field}[${i}]`, name: asString(container.name) ?? `#${i}`, container });
    });
  }
  return out;
}

/** `Deployment stf/x (resource "y"), container "operator" (spec.template.spec.containers[0])` */
export function describeContainer(subject: Subject, c: ContainerAt): string {
  return `${describe(subject)}, container "${c.name}" (${c.path})`;
}

// ---- Environment ----------------------------------------------------------------------------

/**
 * Is this a production stack? A policy pack cannot read the program's config
 * (`streamforge:environment`; @pulumi/policy 1.21.0 server.js `configureStack` keeps only the
 * tags), so the stack says it in a stack tag of the same name, or the pack's config says it in
 * `environment`. Fail closed: production when either says `prod`, when neither says anything,
 * or when one says something that is not an environment; `stack-environment-declared` reports
 * the last two.
 */
export const ENVIRONMENT_TAG = "streamforge:environment";
export const ENVIRONMENTS = ["local", "dev", "prod"] as const;

export interface EnvironmentConfig {
  readonly environment?: string;
}

export const ENVIRONMENT_CONFIG_SCHEMA: PolicyConfigSchema["properties"] = {
  environment: {
    type: "string",
    description: `The stack's environment (${ENVIRONMENTS.join(", ")}); \`prod\` turns on the production rules. Default: the stack tag "${ENVIRONMENT_TAG}".`,
  },
};

export interface Environment {
  readonly production: boolean;
  /** Why the environment is not declared properly (then `production` is true). */
  readonly problem?: string;
}

export function environmentOf(tags: ReadonlyMap<string, string>, config: EnvironmentConfig): Environment {
  const declared = [
    { source: `the stack tag "${ENVIRONMENT_TAG}"`, value: tags.get(ENVIRONMENT_TAG) },
    { source: 'the policy config\'s "environment"', value: config.environment },
  ].filter((d): d is { source: string; value: string } => d.value !== undefined);
  const expected = `expected the stack tag "${ENVIRONMENT_TAG}" (pulumi stack tag set ${ENVIRONMENT_TAG} <${ENVIRONMENTS.join("|")}>) or "environment" in the policy pack's config`;
  if (declared.length === 0) return { production: true, problem: `${expected}; found neither, so the production rules apply` };
  const unknown = declared.filter((d) => !(ENVIRONMENTS as readonly string[]).includes(d.value));
  if (unknown.length > 0)
    return {
      production: true,
      problem: `${unknown.map((d) => d.source).join(" and ")}: expected one of ${ENVIRONMENTS.join(", ")}; found ${unknown.map((d) => shown(d.value)).join(" and ")}, so the production rules apply`,
    };
  return { production: declared.some((d) => d.value === "prod") };
}

// ---- Policies from plain checks -------------------------------------------------------------

/** What a check gets besides the resource: the policy's config (without enforcementLevel) and the environment. */
export interface CheckContext<C extends object = Rec> {
  readonly config: C;
  readonly production: boolean;
}

/** What every rule of the pack has: its name and level, its own settings, and where it applies. */
interface PolicyHead {
  readonly name: string;
  readonly description: string;
  readonly enforcementLevel: Extract<EnforcementLevel, "mandatory" | "advisory">;
  /** The rule's own settings; the environment settings are added to every rule. */
  readonly configSchema?: PolicyConfigSchema;
  /** Only in production stacks. */
  readonly productionOnly?: boolean;
}

export interface RuleDefinition<C extends object = Rec> extends PolicyHead {
  /** The resources the rule looks at; others are reported as not applicable. */
  readonly appliesTo: (type: string) => boolean;
  /** What the rule applies to, for the not-applicable reason. */
  readonly scope: string;
  /** The violations: one message each, naming the resource, the field, what was expected and what was found. */
  readonly check: (subject: Subject, context: CheckContext<C>) => string[];
}

/** A rule: its plain check (for tests) and the policy the pack registers. */
export interface Rule<C extends object = Rec> extends RuleDefinition<C> {
  readonly policy: ResourceValidationPolicy;
}

function policyHead(def: PolicyHead) {
  return {
    name: def.name,
    description: def.description,
    enforcementLevel: def.enforcementLevel,
    // Every rule takes the environment settings, so one pack config can say which stacks are production.
    configSchema: {
      ...def.configSchema,
      properties: { ...ENVIRONMENT_CONFIG_SCHEMA, ...def.configSchema?.properties },
    },
  };
}

/** The rule's config and environment for one run; a production-only rule is not applicable elsewhere. */
function contextOf<C extends object>(
  def: PolicyHead,
  args: { getConfig<T extends object>(): T; stackTags: ReadonlyMap<string, string>; notApplicable(reason?: string): never },
): CheckContext<C> {
  const config = args.getConfig<C>();
  const { production } = environmentOf(args.stackTags, config);
  if (def.productionOnly && !production) args.notApplicable("applies to production stacks only");
  return { config, production };
}

export function defineRule<C extends object = Rec>(def: RuleDefinition<C>): Rule<C> {
  const policy: ResourceValidationPolicy = {
    ...policyHead(def),
    validateResource: (args: ResourceValidationArgs, reportViolation) => {
      if (!def.appliesTo(args.type)) args.notApplicable(`applies to ${def.scope}`);
      const context = contextOf<C>(def, args);
      for (const message of def.check({ type: args.type, name: args.name, urn: args.urn, props: args.props }, context))
        reportViolation(message);
    },
  };
  return { ...def, policy };
}

/** A violation of a stack rule: the message, and the resource it is about when there is one. */
export interface StackViolation {
  readonly message: string;
  readonly urn?: string;
}

export interface StackRuleDefinition<C extends object = Rec> extends PolicyHead {
  /** The violations over every resource of the stack (rules that count across resources), and the stack's tags. */
  readonly check: (
    resources: readonly Subject[],
    context: CheckContext<C> & { readonly stackTags: ReadonlyMap<string, string> },
  ) => StackViolation[];
}

export interface StackRule<C extends object = Rec> extends StackRuleDefinition<C> {
  readonly policy: StackValidationPolicy;
}

export function defineStackRule<C extends object = Rec>(def: StackRuleDefinition<C>): StackRule<C> {
  const policy: StackValidationPolicy = {
    ...policyHead(def),
    validateStack: (args: StackValidationArgs, reportViolation) => {
      const context = contextOf<C>(def, args);
      const subjects = args.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.props }));
      for (const v of def.check(subjects, { ...context, stackTags: args.stackTags })) reportViolation(v.message, v.urn);
    },
  };
  return { ...def, policy };
}
