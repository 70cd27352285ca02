/**
 * What every area's config module is made of: the `ConfigArea` shape, the error that names each
 * bad key by its full name (`streamforge:kafka.nodePools[0].replicas`), and the field schemas
 * several areas share. Areas define their keys here-shaped; infra/config.ts composes them.
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { StackError } from "./errors";

export const CONFIG_NAMESPACE = "streamforge";

/** One problem with the stack configuration, located by the key's full name. */
export interface ConfigProblem {
  readonly key: string;
  readonly message: string;
}

/** The stack configuration's problems, each under its key's full name (a StackError: its message alone is printed). */
export class ConfigError extends StackError {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      "ConfigError",
      `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n"),
    );
  }
}

/**
 * One area's top-level `streamforge:*` keys. `secrets` name keys whose values must be Pulumi
 * secrets: they reach the program as `pulumi.Output<string>` and never in plain text.
 * `rules` check relations between the area's own keys; rules spanning areas live in infra/config.ts.
 */
export interface ConfigArea<Keys extends Record<string, z.ZodType> = Record<string, z.ZodType>, Secret extends string = string> {
  readonly keys: Keys;
  readonly secrets: readonly Secret[];
  readonly rules?: (config: AreaConfig<ConfigArea<Keys, Secret>>) => ConfigProblem[];
}

/** The typed config an area hands to the program, derived from its schemas (distributes over a union of areas). */
export type AreaConfig<A> = A extends { readonly keys: Record<string, z.ZodType>; readonly secrets: readonly string[] }
  ? {
      readonly [K in keyof A["keys"]]: K extends A["secrets"][number] ? pulumi.Output<string> | undefined : z.output<A["keys"][K]>;
    }
  : never;

/** Declares an area with its key and secret types inferred. */
export function defineArea<Keys extends Record<string, z.ZodType>, Secret extends Extract<keyof Keys, string> = never>(
  area: ConfigArea<Keys, Secret>,
): ConfigArea<Keys, Secret> {
  return area;
}

/**
 * A secret's schema: any non-empty text, present or not, taken exactly as set with
 * `pulumi config set --secret` (digits, `true` or JSON-looking text are text too: infra/config.ts
 * never decodes a secret). Whether it is needed is checked by the area's rules.
 */
export const secretText = z.string().min(1).optional();

/**
 * What kind of value a secret key holds, never the value nor any part of it (not even its
 * length): config errors end up in CI logs and preview comments.
 */
export function secretKind(input: unknown): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "string") return input === "" ? "empty text" : "text";
  return typeof input === "object" ? "an object" : `a ${typeof input}`;
}

/** `streamforge:kafka` + ["nodePools", 0, "replicas"] -> `streamforge:kafka.nodePools[0].replicas` */
export function keyName(topKey: string, path: readonly PropertyKey[] = []): string {
  let name = `${CONFIG_NAMESPACE}:${topKey}`;
  for (const segment of path) {
    name += typeof segment === "number" ? `[${segment}]` : `.${String(segment)}`;
  }
  return name;
}

/** A problem builder for rules: `problem("kafka", ["nodePools"], "...")`. */
export function problem(topKey: string, path: readonly PropertyKey[], message: string): ConfigProblem {
  return { key: keyName(topKey, path), message };
}

function describeFound(input: unknown): string {
  if (input === undefined) return "nothing (the key is missing)";
  const text = JSON.stringify(input);
  const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return `${shown} (${Array.isArray(input) ? "array" : input === null ? "null" : typeof input})`;
}

/** A zod issue of one top-level key as a problem that names the full key. */
export function issueToProblem(topKey: string, issue: z.core.$ZodIssue): ConfigProblem {
  if (issue.code === "unrecognized_keys") {
    return {
      key: keyName(topKey, [...issue.path, issue.keys[0] ?? ""]),
      message: `unknown key${issue.keys.length > 1 ? "s " + issue.keys.join(", ") : ""}; check the spelling against Pulumi.yaml`,
    };
  }
  if (issue.code === "invalid_union" && issue.discriminator !== undefined) {
    // A discriminated union whose `type` matched no shape; zod's path already ends at the
    // discriminator, its input is the whole object.
    const input = issue.input as Record<string, unknown> | undefined;
    return {
      key: keyName(topKey, issue.path),
      message: `expected ${issue.message}; found ${describeFound(input?.[issue.discriminator])}`,
    };
  }
  // A refinement that already says what it expected and found (the operator's contract does) is used as it is.
  if (issue.code === "custom" && issue.message.startsWith("expected ")) return { key: keyName(topKey, issue.path), message: issue.message };
  const found = "input" in issue ? describeFound(issue.input) : undefined;
  const expected = `expected ${describeExpected(issue)}`;
  return {
    key: keyName(topKey, issue.path),
    message: found === undefined ? expected : `${expected}; found ${found}`,
  };
}

function describeExpected(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.expected === "int" ? "an integer" : `a value of type ${issue.expected}`;
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_small":
    case "too_big": {
      const op = issue.code === "too_small" ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
      const bound = String(issue.code === "too_small" ? issue.minimum : issue.maximum);
      if (issue.origin === "array") return `a list with ${op} ${bound} item(s)`;
      if (issue.origin === "string") return `a text of ${op} ${bound} character(s)`;
      return `a number ${op} ${bound}`;
    }
    default:
      return issue.message;
  }
}

export const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "a lowercase DNS label (a-z, 0-9 and '-', at most 63)");

/** A DNS subdomain, as Kubernetes names most objects (PriorityClasses among them). */
export const dnsSubdomain = z
  .string()
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    "a lowercase DNS subdomain (labels of a-z, 0-9 and '-' joined by '.', at most 253)",
  );

export const quantity = z.string().regex(/^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/, "a Kubernetes quantity such as 500m or 2Gi");

/** A Helm chart version, exactly: charts are pinned. */
export const chartVersion = z.string().regex(/^\d+\.\d+\.\d+$/, "an exact chart version such as 1.2.0");

/** A container image reference: optional registry (with port), path, tag and digest. */
export const imageReference = z
  .string()
  .regex(
    /^(?:[a-z0-9.-]+(?::\d{1,5})?\/)?[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::\w[\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/,
    "an image reference such as registry:5000/name:tag or name@sha256:...",
  );

/** An IPv4 CIDR such as 10.0.0.1/32. */
export const ipv4Cidr = z
  .string()
  .regex(/^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)\/(3[0-2]|[12]?\d)$/, "an IPv4 CIDR such as 10.0.0.1/32");

export const resourcesSchema = z.strictObject({
  requests: z.strictObject({ cpu: quantity, memory: quantity }),
  limits: z.strictObject({ cpu: quantity.optional(), memory: quantity }),
});
