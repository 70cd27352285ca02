/**
 * The Kafka CA syncer against the REAL API server: its Role and account as the stack renders them
 * (infra/kafka/ca-sync-spec.ts), its real program (operator/dist/ca-sync.js, what the CronJob runs
 * from the operator's image) run with the account's own token. Strimzi's CA is replaced in the
 * source Secret as Strimzi replaces a key (a new ca.crt, the old one kept under its dated name),
 * with the local broker's real CA as the old one, still presented by the brokers: the copy's bundle
 * follows without a `pulumi up`, and clients reading it (kafkajs as the operator configures it,
 * OpenSSL as librdkafka and Python load a CA file) keep trusting the broker, where `ca.crt` alone
 * does not. The token reaches nothing else, and its guard (a policy whose parameter is the source
 * Secret) refuses any certificate but the source's in the copy and in its bundle.
 */
import { spawnSync } from "node:child_process";
import { X509Certificate, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { kafkaTls } from "../../../operator/src/adapters/kafka-source";
import { CA_BUNDLE_KEY, caBundle } from "../../../operator/src/core/ca-copy";
import { podSecurityLabels } from "../../kit/namespaces";
import { CA_SYNC, caSyncCronJob, caSyncGuard, caSyncGuardName, caSyncRbac } from "../ca-sync-spec";
import { PROJECT_ROOT } from "../../render/render";
import {
  deletePolicies,
  kubectl,
  kubectlWith,
  policyTypeWarnings,
  requireEnv,
  serviceAccountKubeconfig,
  untilEnforced,
  kubectlApply,
} from "../../../test/integration/local-platform";
import { selfSignedCertificate } from "../../../test/helpers";

const run = randomBytes(3).toString("hex");
const KAFKA = `ca-kafka-${run}`;
const APPS = `ca-apps-${run}`;
const CA = "k3-cluster-ca-cert";
const spec = {
  source: { namespace: KAFKA, name: CA },
  target: { namespace: APPS, name: CA },
  image: "registry.local/streamforge/operator:1",
};
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ca-sync-"));
let syncer = "";

const b64 = (s: string) => Buffer.from(s).toString("base64");
/** The old CA: the local broker's, whose certificate the brokers present until Strimzi rolls them. */
let OLD = "";
/** The CA Strimzi's key replacement makes, and an attacker's: self-signed CAs of their own (base64 PEM). */
let NEW = "";
let FORGED = "";

const newCa = (name: string): string => Buffer.from(selfSignedCertificate(name)).toString("base64");

/** The SHA-256 fingerprints of the certificates in a base64 PEM file, each parsed by Node's X.509 reader. */
const fingerprints = (file: string): string[] =>
  (
    Buffer.from(file, "base64")
      .toString()
      .match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []
  ).map((pem) => new X509Certificate(pem).fingerprint256);

/** The copy's keys as files, as the kubelet lays out the clients' Secret volume. */
function mounted(data: Record<string, string>): string {
  const files = fs.mkdtempSync(path.join(dir, "mount-"));
  for (const [key, value] of Object.entries(data)) fs.writeFileSync(path.join(files, key), Buffer.from(value, "base64"));
  return files;
}

/** kafkajs with the operator's own TLS options (kafkaTls, from KAFKA_CA_PATH) asks the real broker for its cluster over TLS and SCRAM. */
async function kafkajsTrusts(caPath: string): Promise<string> {
  const kafka = new Kafka({
    clientId: "ca-sync-itest",
    brokers: [requireEnv("KAFKA_SASL_SSL_BOOTSTRAP_SERVERS")],
    ssl: kafkaTls(true, caPath),
    sasl: { mechanism: "scram-sha-512", username: requireEnv("KAFKA_ADMIN_USER"), password: requireEnv("KAFKA_ADMIN_PASSWORD") },
    retry: { retries: 0 },
    connectionTimeout: 10_000,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return "trusted";
  } catch (err) {
    return (err as Error).message;
  } finally {
    await admin.disconnect();
  }
}

/**
 * OpenSSL's own reading of a CA file, the one librdkafka's `ssl.ca.location` (SSL_CTX_load_verify_locations,
 * librdkafka v2.15.0 src/rdkafka_ssl.c L1249-1262) and Python's `ssl` make: the broker's chain verified against it.
 */
function opensslTrusts(caPath: string): string {
  const r = spawnSync(
    "openssl",
    ["s_client", "-connect", requireEnv("KAFKA_SASL_SSL_BOOTSTRAP_SERVERS"), "-CAfile", caPath, "-verify_return_error", "-brief"],
    {
      input: "",
      encoding: "utf8",
      timeout: 30_000,
    },
  );
  return r.status === 0 ? "trusted" : (/verify error:[^\n]*/.exec(r.stderr)?.[0] ?? r.stderr.trim());
}
const secret = (namespace: string, name: string, data: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace },
  data,
});
const dataOf = (namespace: string, name: string) => JSON.parse(kubectl("get", "secret", name, "-n", namespace, "-o", "json")).data;

/** One run of the syncer's program with its own token, as the CronJob's container runs it. */
function syncOnce(target = `${APPS}/${CA}`): { status: number | null; output: any } {
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, "operator", "dist", "ca-sync.js")], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, KUBECONFIG: syncer, CA_SOURCE: `${KAFKA}/${CA}`, CA_TARGET: target },
    timeout: 60_000,
  });
  return { status: r.status, output: r.stdout.trim() === "" ? r.stderr : JSON.parse(r.stdout) };
}

const GUARD = caSyncGuardName(spec);
/** The syncer's token writes the copy itself (kubectl replace), as a stolen token would. */
const writeCopy = (data: Record<string, string>, ...flags: string[]) =>
  kubectlWith(syncer, secret(APPS, CA, data), "replace", ...flags, "-f", "-");

beforeAll(async () => {
  requireEnv("KUBECONFIG");
  OLD = fs.readFileSync(requireEnv("KAFKA_CA_PATH")).toString("base64");
  NEW = newCa("Strimzi's new cluster CA");
  FORGED = newCa("the attacker's CA");
  for (const ns of [KAFKA, APPS]) kubectl("create", "namespace", ns);
  kubectl("label", "namespace", KAFKA, ...Object.entries(podSecurityLabels("restricted")).map(([k, v]) => `${k}=${v}`));
  const rbac = caSyncRbac(spec);
  const guard = caSyncGuard(spec);
  const objects = [
    guard.policy,
    guard.binding,
    rbac.serviceAccount,
    ...rbac.roles.flatMap((r) => [r.role, r.binding]),
    // Strimzi's two CA Secrets (the certificate, and the key nobody else may read) and the copy `up` made.
    secret(KAFKA, CA, { "ca.crt": OLD, "ca.p12": b64("p12"), "ca.password": b64("store password") }),
    secret(KAFKA, "k3-cluster-ca", { "ca.key": b64("-----BEGIN PRIVATE KEY-----") }),
    // The copy as `up` made it before it carried the bundle.
    secret(APPS, CA, { "ca.crt": OLD }),
    secret(APPS, "queue-manager", { password: b64("queue-manager's password") }),
  ];
  kubectlApply({ apiVersion: "v1", kind: "List", items: objects });
  syncer = serviceAccountKubeconfig(dir, KAFKA, CA_SYNC);
  if (!fs.existsSync(path.join(PROJECT_ROOT, "operator", "dist", "ca-sync.js")))
    throw new Error("operator/dist/ca-sync.js is missing: build the operator first (cd operator && npm run build)");
  // The policy is enforced once the API server's informers have it and its parameter: a forged write, tried (dry run) until refused.
  await untilEnforced(GUARD, () => writeCopy({ "ca.crt": FORGED }, "--dry-run=server"));
}, 120_000);

afterAll(() => {
  deletePolicies(GUARD);
  for (const ns of [KAFKA, APPS]) kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the Kafka CA syncer", () => {
  it("follows a replaced CA key without a pulumi up: the bundle holds both CAs, and clients reading it keep trusting the brokers", async () => {
    // The first run adds the bundle to a copy made before it (the runbook's upgrade), then leaves it alone.
    expect(syncOnce()).toEqual({
      status: 0,
      output: { msg: "ca copy updated", source: spec.source, target: spec.target, added: [CA_BUNDLE_KEY], changed: [], removed: [] },
    });
    expect(syncOnce()).toEqual({
      status: 0,
      output: { msg: "ca copy current", source: spec.source, target: spec.target, added: [], changed: [], removed: [] },
    });
    // Strimzi replaces the key: the new certificate is ca.crt, the old one kept under its expiry (InternalCa.java L442-455).
    const dated = "ca-2027-01-05T10-00-00Z.crt";
    const replaced = secret(KAFKA, CA, { "ca.crt": NEW, [dated]: OLD, "ca.p12": b64("p12 2"), "ca.password": b64("store password") });
    expect(kubectlWith(undefined, replaced, "replace", "-f", "-").ok).toBe(true);
    expect(syncOnce()).toEqual({
      status: 0,
      output: {
        msg: "ca copy updated",
        source: spec.source,
        target: spec.target,
        added: [dated],
        changed: [CA_BUNDLE_KEY, "ca.crt"],
        removed: [],
      },
    });
    const copy = dataOf(APPS, CA);
    expect(Object.keys(copy).sort()).toEqual([dated, CA_BUNDLE_KEY, "ca.crt"]);
    expect([fingerprints(copy["ca.crt"]), fingerprints(copy[dated])]).toEqual([fingerprints(NEW), fingerprints(OLD)]);
    expect(fingerprints(copy[CA_BUNDLE_KEY])).toEqual([...fingerprints(OLD), ...fingerprints(NEW)]);
    // The brokers, not rolled yet, present the old CA's certificate: the bundle is trusted, ca.crt alone is not.
    const files = mounted(copy);
    expect(await kafkajsTrusts(path.join(files, CA_BUNDLE_KEY))).toBe("trusted");
    expect(opensslTrusts(path.join(files, CA_BUNDLE_KEY))).toBe("trusted");
    expect(await kafkajsTrusts(path.join(files, "ca.crt"))).toMatch(/self-signed certificate in certificate chain/);
    expect(opensslTrusts(path.join(files, "ca.crt"))).toBe("verify error:num=19:self-signed certificate in certificate chain");
    // Strimzi drops the old certificate once the brokers are rolled; the copy and its bundle drop it too.
    expect(kubectlWith(undefined, secret(KAFKA, CA, { "ca.crt": NEW }), "replace", "-f", "-").ok).toBe(true);
    expect(syncOnce().output).toMatchObject({ msg: "ca copy updated", added: [], changed: [CA_BUNDLE_KEY], removed: [dated] });
    const after = dataOf(APPS, CA);
    expect([Object.keys(after).sort(), fingerprints(after["ca.crt"]), fingerprints(after[CA_BUNDLE_KEY])]).toEqual([
      [CA_BUNDLE_KEY, "ca.crt"],
      fingerprints(NEW),
      fingerprints(NEW),
    ]);
    // The local broker was not rolled to the new CA: the bundle no longer trusts it.
    expect(opensslTrusts(path.join(mounted(after), CA_BUNDLE_KEY))).toBe(
      "verify error:num=19:self-signed certificate in certificate chain",
    );
  });

  it("reaches nothing else with its token: the CA key, other Secrets, a copy of its choosing", () => {
    const user = `system:serviceaccount:${KAFKA}:${CA_SYNC}`;
    const as = (...args: string[]) => kubectlWith(syncer, undefined, ...args).output;
    expect(as("get", "secret", "k3-cluster-ca", "-n", KAFKA)).toContain(
      `secrets "k3-cluster-ca" is forbidden: User "${user}" cannot get resource "secrets" in API group "" in the namespace "${KAFKA}"`,
    );
    expect(as("get", "secrets", "-n", KAFKA)).toContain(`cannot list resource "secrets" in API group "" in the namespace "${KAFKA}"`);
    expect(as("get", "secret", "queue-manager", "-n", APPS)).toContain(
      `cannot get resource "secrets" in API group "" in the namespace "${APPS}"`,
    );
    const forged = syncOnce(`${APPS}/queue-manager`);
    expect(forged.status).toBe(1);
    expect(forged.output).toMatchObject({ msg: "ca sync failed", step: "read copy", status: 403 });
    expect(dataOf(APPS, "queue-manager")).toEqual({ password: b64("queue-manager's password") });
  });

  it("writes with its token only the source's certificates and their bundle: a CA of its own is refused by the guard", async () => {
    // The API server type-checked the policy against the Secret's schema without a warning.
    expect(await policyTypeWarnings(GUARD)).toEqual([]);
    const refused = (found: string) =>
      `ValidatingAdmissionPolicy '${GUARD}' with binding '${GUARD}' denied request: data: expected exactly the certificates of ${KAFKA}/${CA} (ca.crt) and their bundle ${CA_BUNDLE_KEY}; found ${found}`;
    const current = dataOf(APPS, CA);
    expect(Object.keys(current).sort()).toEqual([CA_BUNDLE_KEY, "ca.crt"]);
    expect(writeCopy({ ...current, "ca.crt": FORGED }).output).toContain(refused("ca.crt (not the source's)"));
    expect(writeCopy({ ...current, "extra.crt": FORGED }).output).toContain(refused("extra.crt (not the source's)"));
    // The bundle is what the clients read: the attacker's CA appended to it, or in place of the source's, is refused.
    const appended = Buffer.concat([Buffer.from(current[CA_BUNDLE_KEY], "base64"), Buffer.from(FORGED, "base64")]).toString("base64");
    expect(writeCopy({ ...current, [CA_BUNDLE_KEY]: appended }).output).toContain(refused(`${CA_BUNDLE_KEY} (not the source's)`));
    expect(writeCopy({ ...current, [CA_BUNDLE_KEY]: caBundle({ "ca.crt": FORGED }) }).output).toContain(
      refused(`${CA_BUNDLE_KEY} (not the source's)`),
    );
    expect(writeCopy({ "ca.crt": current["ca.crt"] }).output).toContain(refused(`${CA_BUNDLE_KEY} missing`));
    expect(writeCopy({}).output).toContain(refused(`ca.crt missing, ${CA_BUNDLE_KEY} missing`));
    expect(dataOf(APPS, CA)).toEqual(current);
    // Nor can it take the copy away: an owner the garbage collector would follow, or immutable.
    const dangling = {
      ...secret(APPS, CA, current),
      metadata: {
        ...secret(APPS, CA, current).metadata,
        ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "gone", uid: "00000000-0000-0000-0000-000000000001" }],
      },
    };
    expect(kubectlWith(syncer, dangling, "replace", "-f", "-").output).toContain(
      `ValidatingAdmissionPolicy '${GUARD}' with binding '${GUARD}' denied request: metadata.ownerReferences, metadata.finalizers, immutable: expected them as they were (the copy's lifetime is Pulumi's); found a change to ${CA}`,
    );
    expect(kubectlWith(syncer, { ...secret(APPS, CA, current), immutable: true }, "replace", "-f", "-").output).toContain(
      `denied request: metadata.ownerReferences`,
    );
    // The source's own certificates are admitted: what the syncer writes.
    expect(writeCopy(current).output).toBe(`secret/${CA} replaced`);
    // Pulumi (the admin) still creates and updates the copy as the stack declares it: the guard is the syncer's only.
    expect(kubectlWith(undefined, secret(APPS, CA, current), "replace", "--dry-run=server", "-f", "-").ok).toBe(true);
  });

  it("runs as a CronJob the restricted Kafka namespace admits without a warning", () => {
    const result = kubectlWith(undefined, caSyncCronJob(spec), "create", "--dry-run=server", "-f", "-");
    expect(result).toEqual({ ok: true, output: `cronjob.batch/${CA_SYNC} created (server dry run)` });
  });
});
