/**
 * No secret travels as plain configuration. A policy pack cannot see whether a stack's config value
 * is `secure:` (the engine hands it the values decrypted), so the rule looks where plain config ends
 * up in the cluster, readable by anyone who can read the object:
 * - ConfigMap `data`;
 * - container env entries with a literal `value` (a Secret belongs in `valueFrom.secretKeyRef`);
 * - Helm release `values`.
 * A value is secret-looking when its key is (password, secret, token, api key, private key,
 * credentials) and it is a non-empty literal, or when the value itself is (a PEM private key, an
 * AWS access key id, a GitHub or Slack token, credentials in a URL). Keys naming an existing Secret
 * (`existingSecret...`) are references. Kubernetes Secrets themselves are not checked.
 */
import {
  type Subject,
  asArray,
  asRecord,
  asString,
  containersOf,
  defineRule,
  describe,
  describeContainer,
  isKind,
  isRecord,
  isWorkload,
  podSpecOf,
} from "./common";

/** The key's last word: `KAFKA_PASSWORD`, `apiKey`, `db.password`, `clientSecret`; not `secretName`, `tokenPath`, `passwordFile`. */
const SECRET_KEY =
  /(^|[^a-z0-9]|[a-z0-9](?=[A-Z]))(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|secret[_-]?key|private[_-]?key|credentials?)$/i;

const SECRET_VALUES: readonly [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a PEM private key"],
  [/\bAKIA[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/, "a GitHub token"],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/, "a Slack token"],
  [/[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, "credentials in a URL"],
];

/** Helm's convention for naming a Secret that already exists: `existingSecret`, `existingSecretKey`. */
const REFERENCE_KEY = /^existing/i;

export function secretKeyName(key: string): boolean {
  return SECRET_KEY.test(key) && !REFERENCE_KEY.test(key);
}

/** Why `value` under `key` looks like a secret, or undefined. */
export function secretLooking(key: string, value: unknown): string | undefined {
  if (typeof value !== "string" || value.trim() === "") return undefined;
  if (secretKeyName(key)) return `a literal value under the secret-looking key "${key}"`;
  return SECRET_VALUES.find(([re]) => re.test(value))?.[1];
}

/** Walks plain data (Helm values) and reports every secret-looking leaf with its path. */
function walk(value: unknown, path: string, visit: (path: string, key: string, value: unknown) => void, key = ""): void {
  if (Array.isArray(value)) asArray(value).forEach((v, i) => walk(v, `${path}[${i}]`, visit, key));
  else if (isRecord(value)) for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, visit, k);
  else visit(path, key, value);
}

const EXPECT = "expected a reference to a Kubernetes Secret (or a secret config value kept out of plain objects)";

export function plainSecretViolations(subject: Subject): string[] {
  const where = describe(subject);
  const out: string[] = [];
  if (isKind(subject.type, "core", "ConfigMap")) {
    for (const [key, value] of Object.entries(asRecord(asRecord(subject.props).data))) {
      const why = secretLooking(key, value);
      if (why) out.push(`${where}: data["${key}"]: ${EXPECT}; found ${why}`);
    }
  } else if (isWorkload(subject.type)) {
    const pod = podSpecOf(subject);
    for (const c of pod ? containersOf(pod) : [])
      asArray(c.container.env).forEach((e, i) => {
        const env = asRecord(e);
        const name = asString(env.name) ?? "";
        const why = secretLooking(name, env.value);
        if (why) out.push(`${describeContainer(subject, c)}: env[${i}] ${name}.value: expected valueFrom.secretKeyRef; found ${why}`);
      });
  } else if (subject.type === "kubernetes:helm.sh/v3:Release" || subject.type === "kubernetes:helm.sh/v4:Chart") {
    walk(asRecord(subject.props).values, "values", (path, key, value) => {
      const why = secretLooking(key, value);
      if (why) out.push(`${where}: ${path}: ${EXPECT}; found ${why}`);
    });
  }
  return out;
}

export const noPlainSecrets = defineRule({
  name: "no-plain-secrets",
  description: "No secret-looking value in plain configuration: ConfigMaps, container env literals, Helm values.",
  enforcementLevel: "mandatory",
  appliesTo: (type) =>
    isKind(type, "core", "ConfigMap") ||
    isWorkload(type) ||
    type === "kubernetes:helm.sh/v3:Release" ||
    type === "kubernetes:helm.sh/v4:Chart",
  scope: "ConfigMaps, workloads' container env, Helm releases",
  check: plainSecretViolations,
});

export const configSecretRules = [noPlainSecrets];
