/**
 * The Kafka CA syncer against the REAL API server: its Role and account as the stack renders them
 * (infra/kafka/ca-sync-spec.ts), its real program (operator/dist/ca-sync.js, what the CronJob runs
 * from the operator's image) run with the account's own token. Strimzi's CA is replaced in the
 * source Secret as Strimzi replaces a key (the new ca.crt, the old one under its dated name), and
 * the copy follows without a `pulumi up`; the token reaches nothing else, and its guard (a policy
 * whose parameter is the source Secret) refuses any certificate but the source's in the copy.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { podSecurityLabels } from "../../infra/kit/namespaces";
import { CA_SYNC, caSyncCronJob, caSyncGuard, caSyncGuardName, caSyncRbac } from "../../infra/kafka/ca-sync-spec";
import { PROJECT_ROOT } from "../../infra/render/render";
import { eventually, kubectl, kubectlWith, requireEnv, serviceAccountKubeconfig } from "./local-platform";

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
const OLD = b64("-----BEGIN CERTIFICATE-----\nold CA\n-----END CERTIFICATE-----\n");
const NEW = b64("-----BEGIN CERTIFICATE-----\nnew CA\n-----END CERTIFICATE-----\n");
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
const FORGED = b64("-----BEGIN CERTIFICATE-----\nthe attacker's CA\n-----END CERTIFICATE-----\n");
/** The syncer's token writes the copy itself (kubectl replace), as a stolen token would. */
const writeCopy = (data: Record<string, string>, ...flags: string[]) =>
  kubectlWith(syncer, secret(APPS, CA, data), "replace", ...flags, "-f", "-");

beforeAll(async () => {
  requireEnv("KUBECONFIG");
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
    secret(APPS, CA, { "ca.crt": OLD }),
    secret(APPS, "queue-manager", { password: b64("queue-manager's password") }),
  ];
  const applied = kubectlWith(undefined, { apiVersion: "v1", kind: "List", items: objects }, "apply", "-f", "-");
  if (!applied.ok) throw new Error(`kubectl apply failed: ${applied.output}`);
  syncer = serviceAccountKubeconfig(dir, KAFKA, CA_SYNC);
  if (!fs.existsSync(path.join(PROJECT_ROOT, "operator", "dist", "ca-sync.js")))
    throw new Error("operator/dist/ca-sync.js is missing: build the operator first (cd operator && npm run build)");
  // The policy is enforced once the API server's informers have it and its parameter: a forged write, tried (dry run) until refused.
  await eventually("the CA copy's guard enforced", () =>
    writeCopy({ "ca.crt": FORGED }, "--dry-run=server").output.includes(`'${GUARD}'`) ? true : undefined,
  );
}, 120_000);

afterAll(() => {
  kubectl("delete", "validatingadmissionpolicybinding", GUARD, "--ignore-not-found");
  kubectl("delete", "validatingadmissionpolicy", GUARD, "--ignore-not-found");
  for (const ns of [KAFKA, APPS]) kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the Kafka CA syncer", () => {
  it("leaves a current copy alone, then follows a replaced CA key without a pulumi up", () => {
    expect(syncOnce()).toEqual({
      status: 0,
      output: { msg: "ca copy current", source: spec.source, target: spec.target, added: [], changed: [], removed: [] },
    });
    // Strimzi replaces the key: the new certificate is ca.crt, the old one kept under its expiry (InternalCa.java L441-453).
    const dated = "ca-2027-01-05T10-00-00Z.crt";
    const replaced = secret(KAFKA, CA, { "ca.crt": NEW, [dated]: OLD, "ca.p12": b64("p12 2"), "ca.password": b64("store password") });
    expect(kubectlWith(undefined, replaced, "replace", "-f", "-").ok).toBe(true);
    expect(syncOnce()).toEqual({
      status: 0,
      output: { msg: "ca copy updated", source: spec.source, target: spec.target, added: [dated], changed: ["ca.crt"], removed: [] },
    });
    expect(dataOf(APPS, CA)).toEqual({ "ca.crt": NEW, [dated]: OLD });
    // Strimzi drops the old certificate once the brokers are rolled; the copy drops it too.
    expect(kubectlWith(undefined, secret(KAFKA, CA, { "ca.crt": NEW }), "replace", "-f", "-").ok).toBe(true);
    expect(syncOnce().output).toMatchObject({ msg: "ca copy updated", removed: [dated] });
    expect(dataOf(APPS, CA)).toEqual({ "ca.crt": NEW });
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

  it("writes with its token only the source's certificates into the copy: a CA of its own is refused by the guard", () => {
    const refused = (found: string) =>
      `ValidatingAdmissionPolicy '${GUARD}' with binding '${GUARD}' denied request: data: expected exactly the certificates of ${KAFKA}/${CA} (ca.crt); found ${found}`;
    const current = dataOf(APPS, CA);
    expect(current).toEqual({ "ca.crt": dataOf(KAFKA, CA)["ca.crt"] });
    expect(writeCopy({ "ca.crt": FORGED }).output).toContain(refused("ca.crt (not the source's)"));
    expect(writeCopy({ ...current, "extra.crt": FORGED }).output).toContain(refused("extra.crt (not the source's)"));
    expect(writeCopy({}).output).toContain(refused("ca.crt missing"));
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
