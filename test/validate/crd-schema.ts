/**
 * Offline validation of custom resources against the upstream CRDs, as strictly as the API
 * server with `--validate=strict`: the `openAPIV3Schema` of the served version (unknown fields
 * are errors, `nullable`, `x-kubernetes-int-or-string` and `x-kubernetes-preserve-unknown-fields`
 * honoured), its CEL `x-kubernetes-validations` rules, and the object's metadata.
 *
 * The CRDs are read from ../shared/crds beside the repository or from $STREAMFORGE_CRDS_DIR;
 * they are never copied into this repository.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { evaluate as evaluateCel } from "@marcbachmann/cel-js";
import Ajv, { type ValidateFunction } from "ajv";
import { parseAllDocuments } from "yaml";

export const CRDS_DIR_ENV = "STREAMFORGE_CRDS_DIR";

/** The directory holding the upstream CRD YAML; throws naming both places it looked. */
export function crdsDir(): string {
  const fromEnv = process.env[CRDS_DIR_ENV];
  const dir = fromEnv ?? path.resolve(__dirname, "..", "..", "..", "shared", "crds");
  if (!fs.existsSync(dir)) throw new Error(`No CRD directory at ${dir}; set ${CRDS_DIR_ENV} to a directory holding the upstream CRD YAML`);
  return dir;
}

type Schema = Record<string, unknown>;

interface CelRule {
  readonly rule: string;
  readonly message?: string;
}

interface ServedVersion {
  readonly schema: Schema;
  validate?: ValidateFunction;
}

interface LoadedCrd {
  readonly group: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly versions: ReadonlyMap<string, ServedVersion>;
  readonly file: string;
}

export interface ValidationIssue {
  /** `Kind namespace/name` of the object. */
  readonly object: string;
  /** JSON pointer into the object, `/spec/kafka/listeners/0`. */
  readonly path: string;
  readonly message: string;
}

function listYamlFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listYamlFiles(path.join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [path.join(dir, e.name)] : []))
    .sort();
}

/**
 * OpenAPI v3 (Kubernetes structural schema) -> JSON Schema for ajv. Objects with declared
 * properties reject unknown ones unless the schema preserves unknown fields.
 */
export function toJsonSchema(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith("x-kubernetes-") || key === "nullable" || key === "example" || key === "description") continue;
    if (key === "properties") {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, toJsonSchema(v)]));
    } else if (key === "items" || (key === "additionalProperties" && typeof value === "object")) {
      out[key] = toJsonSchema(value as Schema);
    } else if (key === "allOf" || key === "anyOf" || key === "oneOf") {
      // Structural schemas use these for value constraints only; keep them, minus the type noise.
      out[key] = (value as Schema[]).map(toJsonSchema);
    } else if (key === "not") {
      out.not = toJsonSchema(value as Schema);
    } else if (key === "pattern" && typeof value === "string") {
      out.pattern = goPatternToJs(value);
    } else {
      out[key] = value;
    }
  }
  if (schema["x-kubernetes-int-or-string"] === true) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  if (schema.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  const preserves = schema["x-kubernetes-preserve-unknown-fields"] === true;
  if (out.type === "object" && out.properties && out.additionalProperties === undefined && !preserves) {
    out.additionalProperties = false;
  }
  return out;
}

/**
 * CRD patterns are Go (RE2) expressions; JavaScript has no inline `(?i)` flag (prometheus-operator's
 * `^(?i)(abort|warn)?$`): a leading one becomes case-insensitive letter classes.
 */
export function goPatternToJs(pattern: string): string {
  const m = /^(\^?)\(\?i\)(.*)$/s.exec(pattern);
  if (!m) return pattern;
  return (m[1] ?? "") + (m[2] ?? "").replace(/\\.|[a-zA-Z]/g, (c) => (c.length === 1 ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c));
}

export class CrdCatalog {
  private readonly crds = new Map<string, LoadedCrd>();

  private constructor() {}

  /** Loads every CustomResourceDefinition under `dir`. */
  static load(dir = crdsDir()): CrdCatalog {
    const catalog = new CrdCatalog();
    for (const file of listYamlFiles(dir)) {
      for (const doc of parseAllDocuments(fs.readFileSync(file, "utf8"))) {
        const crd = doc.toJS() as Schema | null;
        if (!crd || crd.kind !== "CustomResourceDefinition") continue;
        const spec = crd.spec as {
          group: string;
          scope: string;
          names: { kind: string };
          versions: { name: string; served: boolean; schema?: { openAPIV3Schema: Schema } }[];
        };
        const versions = new Map<string, ServedVersion>();
        for (const v of spec.versions) {
          if (v.served && v.schema) versions.set(v.name, { schema: v.schema.openAPIV3Schema });
        }
        catalog.crds.set(`${spec.group}/${spec.names.kind}`, {
          group: spec.group,
          kind: spec.names.kind,
          namespaced: spec.scope === "Namespaced",
          versions,
          file: path.relative(dir, file),
        });
      }
    }
    if (catalog.crds.size === 0) throw new Error(`No CustomResourceDefinitions found under ${dir}`);
    return catalog;
  }

  get size(): number {
    return this.crds.size;
  }

  /** Whether `apiVersion` belongs to an API group some loaded CRD defines. */
  coversGroup(apiVersion: string): boolean {
    const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
    return [...this.crds.values()].some((c) => c.group === group);
  }

  /** Validates one object; returns every problem found (empty when valid). */
  validate(obj: Record<string, unknown>): ValidationIssue[] {
    const text = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);
    const apiVersion = text(obj.apiVersion);
    const kind = text(obj.kind);
    const meta = (obj.metadata ?? {}) as Record<string, unknown>;
    const namespace = text(meta.namespace);
    const id = `${kind} ${namespace ? `${namespace}/` : ""}${text(meta.name, "<no name>")}`;
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) : ["", apiVersion];
    const crd = this.crds.get(`${group}/${kind}`);
    const issue = (p: string, message: string): ValidationIssue => ({ object: id, path: p, message });
    if (!crd) return [issue("/kind", `no CustomResourceDefinition for ${kind} in group "${group}"`)];
    const served = crd.versions.get(version ?? "");
    if (!served)
      return [
        issue(
          "/apiVersion",
          `${apiVersion} is not served by ${crd.file}; served: ${[...crd.versions.keys()].map((v) => `${group}/${v}`).join(", ")}`,
        ),
      ];

    const issues = validateMetadata(meta, crd.namespaced).map((m) => issue(m.path, m.message));
    served.validate ??= new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(
      withObjectRoot(toJsonSchema(served.schema)),
    );
    // The API server defaults before it validates: rules may rely on a defaulted field.
    const defaulted = applyDefaults(served.schema, JSON.parse(JSON.stringify(obj)) as unknown) as Record<string, unknown>;
    if (!served.validate(defaulted)) {
      for (const e of served.validate.errors ?? []) {
        const detail =
          e.keyword === "additionalProperties"
            ? `unknown field "${String((e.params as { additionalProperty: string }).additionalProperty)}"`
            : e.keyword === "enum"
              ? `${e.message ?? "invalid"}: ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`
              : (e.message ?? e.keyword);
        issues.push(issue(e.instancePath || "/", detail));
      }
    }
    // CEL sees plain JSON (cel-js accepts only this realm's objects), defaulted, as the API server does.
    issues.push(...celIssues(served.schema, defaulted, "").map((m) => issue(m.path, m.message)));
    return issues;
  }
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function validateMetadata(meta: Record<string, unknown>, namespaced: boolean): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const name = meta.name;
  if (typeof name !== "string" || name.length > 253 || !DNS_SUBDOMAIN.test(name))
    problems.push({ path: "/metadata/name", message: `must be a DNS subdomain name; found ${JSON.stringify(name)}` });
  if (namespaced && typeof meta.namespace !== "string")
    problems.push({ path: "/metadata/namespace", message: "a namespaced resource needs metadata.namespace" });
  if (!namespaced && meta.namespace !== undefined)
    problems.push({ path: "/metadata/namespace", message: "a cluster-scoped resource must not set metadata.namespace" });
  for (const [k, v] of Object.entries((meta.labels ?? {}) as Record<string, unknown>)) {
    if (typeof v !== "string" || v.length > 63 || !LABEL_VALUE.test(v))
      problems.push({ path: `/metadata/labels/${k}`, message: `invalid label value ${JSON.stringify(v)}` });
  }
  return problems;
}

/** Every object's root may carry apiVersion, kind and metadata, whether or not its CRD's schema lists them (Istio's do not). */
function withObjectRoot(schema: Schema): Schema {
  const properties = {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    metadata: { type: "object" },
    ...(schema.properties as Schema),
  };
  return { ...schema, properties };
}

/** Fills in the schema's `default`s where the value leaves a field out, as the API server's defaulting does. */
export function applyDefaults(schema: Schema, value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return schema.items ? value.map((v) => applyDefaults(schema.items as Schema, v)) : value;
  const obj = value as Record<string, unknown>;
  const props = schema.properties as Record<string, Schema> | undefined;
  for (const [k, sub] of Object.entries(props ?? {})) {
    // A JSON copy, not structuredClone: under Jest that would make another realm's objects, which cel-js refuses.
    if (obj[k] === undefined && sub.default !== undefined) obj[k] = JSON.parse(JSON.stringify(sub.default)) as unknown;
    if (obj[k] !== undefined) obj[k] = applyDefaults(sub, obj[k]);
  }
  const additional = schema.additionalProperties;
  if (additional && typeof additional === "object")
    for (const k of Object.keys(obj)) if (!props || !(k in props)) obj[k] = applyDefaults(additional as Schema, obj[k]);
  return obj;
}

/** CEL's reserved words, which Kubernetes escapes as `__word__` when a property is named so. */
const CEL_RESERVED = new Set(
  "true false null in as break const continue else for function if import let loop package namespace return var void while".split(" "),
);

/** A property's name as CEL rules see it (Kubernetes' escaping: `namespace` -> `__namespace__`, `a-b` -> `a__dash__b`). */
export function celPropertyName(name: string): string {
  if (CEL_RESERVED.has(name)) return `__${name}__`;
  return name.replace(/__/g, "__underscores__").replace(/\./g, "__dot__").replace(/-/g, "__dash__").replace(/\//g, "__slash__");
}

/** The value with its declared properties renamed as CEL sees them; map keys stay as they are. */
function celView(schema: Schema, value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return schema.items ? value.map((v) => celView(schema.items as Schema, v)) : value;
  const props = schema.properties as Record<string, Schema> | undefined;
  const additional = schema.additionalProperties as Schema | undefined;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) =>
      props && k in props
        ? [celPropertyName(k), celView(props[k]!, v)]
        : [k, additional && typeof additional === "object" ? celView(additional, v) : v],
    ),
  );
}

/**
 * cel-js refuses `has()` whose field is selected from an index (`has(self.matches[0].path)`),
 * which Kubernetes' CEL accepts. On JSON maps `has(x.f)` is `"f" in x`: rewrite those calls so.
 */
export function rewriteIndexedHas(rule: string): string {
  let out = "";
  let i = 0;
  while (i < rule.length) {
    const at = rule.indexOf("has(", i);
    if (at === -1 || (at > 0 && /[\w.]/.test(rule[at - 1]!))) {
      if (at === -1) return out + rule.slice(i);
      out += rule.slice(i, at + 4);
      i = at + 4;
      continue;
    }
    let depth = 1;
    let j = at + 4;
    let quote = "";
    for (; j < rule.length && depth > 0; j++) {
      const c = rule[j]!;
      if (quote) {
        if (c === quote && rule[j - 1] !== "\\") quote = "";
      } else if (c === "'" || c === '"') quote = c;
      else if (c === "(") depth++;
      else if (c === ")") depth--;
    }
    const inner = rewriteIndexedHas(rule.slice(at + 4, j - 1));
    const field = /^([\s\S]*)\.([A-Za-z_]\w*)$/.exec(inner);
    out += rule.slice(i, at) + (field && field[1]!.includes("[") ? `("${field[2]}" in ${field[1]})` : `has(${inner})`);
    i = j;
  }
  return out;
}

/** Evaluates `x-kubernetes-validations` rules wherever the object has a value for the schema node. */
function celIssues(schema: Schema, value: unknown, at: string): { path: string; message: string }[] {
  if (value === undefined || value === null) return [];
  const problems: { path: string; message: string }[] = [];
  for (const rule of (schema["x-kubernetes-validations"] ?? []) as CelRule[]) {
    // Transition rules compare with the stored object; a new object has none.
    if (rule.rule.includes("oldSelf")) continue;
    try {
      if (evaluateCel(rewriteIndexedHas(rule.rule), { self: celView(schema, value) }) !== true)
        problems.push({ path: at || "/", message: rule.message ?? `failed rule: ${rule.rule}` });
    } catch (err) {
      problems.push({ path: at || "/", message: `rule ${rule.rule} could not be evaluated: ${(err as Error).message}` });
    }
  }
  const props = schema.properties as Record<string, Schema> | undefined;
  if (props && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, sub] of Object.entries(props)) problems.push(...celIssues(sub, (value as Record<string, unknown>)[k], `${at}/${k}`));
  }
  const additional = schema.additionalProperties;
  if (additional && typeof additional === "object" && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (!props || !(k in props)) problems.push(...celIssues(additional as Schema, v, `${at}/${k}`));
    }
  }
  if (schema.items && Array.isArray(value)) {
    value.forEach((v, i) => problems.push(...celIssues(schema.items as Schema, v, `${at}/${i}`)));
  }
  return problems;
}
