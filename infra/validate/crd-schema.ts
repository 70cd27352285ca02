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
    served.validate ??= new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(toJsonSchema(served.schema));
    if (!served.validate(obj)) {
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
    // CEL sees plain JSON, as the API server does (and cel-js accepts only this realm's objects).
    const json = JSON.parse(JSON.stringify(obj)) as unknown;
    issues.push(...celIssues(served.schema, json, "").map((m) => issue(m.path, m.message)));
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

/** Evaluates `x-kubernetes-validations` rules wherever the object has a value for the schema node. */
function celIssues(schema: Schema, value: unknown, at: string): { path: string; message: string }[] {
  if (value === undefined || value === null) return [];
  const problems: { path: string; message: string }[] = [];
  for (const rule of (schema["x-kubernetes-validations"] ?? []) as CelRule[]) {
    // Transition rules compare with the stored object; a new object has none.
    if (rule.rule.includes("oldSelf")) continue;
    try {
      if (evaluateCel(rule.rule, { self: value }) !== true)
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
