/**
 * The relaunch guard (operator/src/relaunch-guard.ts, built) as the REAL API server's validating
 * webhook: the API server calls it over TLS for each Job a stand-in for the operator's account
 * creates, and the guard reads the predecessor with a token of its own that may only get Jobs.
 * The operator's whole relaunch, built by its own code, gets through; a replacement of a Job that
 * does not exist, of one nobody claimed, or that differs from what the operator builds is refused,
 * each with the guard's reason. What a ValidatingAdmissionPolicy cannot judge (docs/security.md).
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { queueManagerJob } from "../../../chaos/drill/traffic";
import { ANNOTATIONS, type JobManifest } from "../../../operator/src/core/jobs";
import { replacementJob } from "../../../operator/src/core/relaunch";
import { type PendingRelaunch, pendingAnnotations } from "../../../operator/src/core/resume";
import { PROJECT_ROOT } from "../../render/render";
import { committedConfig } from "../../../test/helpers";
import { OPERATOR_NAME } from "../manifests";
import { operatorRbac, pendingFor } from "./operator-kit";
import {
  RELAUNCH_GUARD_CERT_SECRET,
  RELAUNCH_GUARD_NAME,
  RELAUNCH_GUARD_WEBHOOK,
  relaunchGuardCaOnly,
  relaunchGuardCaOnlyName,
  relaunchGuardRbac,
  relaunchGuardSettings,
  relaunchGuardWebhook,
} from "../relaunch-guard-spec";
import { issueServingCert } from "../../../operator/src/adapters/issue-cert";
import { pemCertificates, servingCertData, servingCertOf } from "../../../operator/src/core/serving-cert";
import {
  eventually,
  kubectl,
  untilEnforced,
  kubectlApply,
  deletePolicies,
  kubectlWith,
  policyTypeWarnings,
  requireEnv,
  serviceAccountKubeconfig,
} from "../../../test/integration/local-platform";
import { type Recorded, freePort, startRecorded } from "../../../test/integration/recorded-process";

const run = randomBytes(3).toString("hex");
const OPERATOR_NS = `op-relaunch-${run}`;
const WATCH = `stf-relaunch-${run}`;
/** The guard's own namespace, apart from the operator's and the Jobs' (where people hold `edit`). */
const GUARD_NS = `guard-relaunch-${run}`;
const at = { operatorNamespace: OPERATOR_NS, guardNamespace: GUARD_NS, watchNamespace: WATCH };
const rbac = relaunchGuardRbac(at);
/** Who may change the configuration beyond its CA: the local stack's deployers, the admin this test applies as among them. */
const DEPLOYERS = committedConfig("local").apps.deployers!;
const caOnly = relaunchGuardCaOnly({ ...at, deployers: DEPLOYERS });
const CA_ONLY = relaunchGuardCaOnlyName(OPERATOR_NS);
const MOVED_GRANT = `relaunch-guard-moved-${run}`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "relaunch-guard-"));
let operatorKubeconfig = "";
let guardKubeconfig = "";
let editKubeconfig = "";
let guard: Recorded | undefined;
let webhook: ReturnType<typeof relaunchGuardWebhook> | undefined;

const kubectlAs = (who: "admin" | "operator", input: object | undefined, ...args: string[]) =>
  kubectlWith(who === "operator" ? operatorKubeconfig : undefined, input, ...args);
const create = (who: "admin" | "operator", job: object) => kubectlAs(who, job, "create", "-f", "-");
const dryRun = (who: "admin" | "operator", job: object) => kubectlAs(who, job, "create", "--dry-run=server", "-f", "-");
const read = (name: string): JobManifest =>
  JSON.parse(kubectlAs("operator", undefined, "get", "job", name, "-n", WATCH, "-o", "json").output);
const refused = (r: { ok: boolean; output: string }) =>
  r.ok ? `admitted: ${r.output}` : r.output.slice(Math.max(0, r.output.indexOf("admission webhook ")));
const refusal = (message: string) => `admission webhook "${RELAUNCH_GUARD_WEBHOOK}" denied the request: ${message}`;

const launched = (queueId: string) => queueManagerJob(queueId, "loader-producer", WATCH);
/** The replacement the operator builds from `old` for `pending` (controller.ts complete). */
const replacementOf = (old: JobManifest, pending: PendingRelaunch) => replacementJob({ old, ...pending, queueId: pending.queueId });
/** The claim, as the operator patches it (KubeJobs.annotateIfUnchanged, without the resourceVersion precondition). */
const claim = (name: string, pending: PendingRelaunch) =>
  kubectlAs(
    "operator",
    undefined,
    "patch",
    "job",
    name,
    "-n",
    WATCH,
    "--type",
    "merge",
    "-p",
    JSON.stringify({ metadata: { annotations: pendingAnnotations(pending) } }),
  );
/** A queue's Job, launched by the admin and claimed by the operator; its stored form and the replacement the operator builds from it. */
function claimedPredecessor(queueId: string): { old: JobManifest; pending: PendingRelaunch; replacement: any } {
  const job = launched(queueId);
  expect(create("admin", job).ok).toBe(true);
  const pending = pendingFor(read(job.metadata.name));
  expect(claim(job.metadata.name, pending).ok).toBe(true);
  const old = read(job.metadata.name);
  return { old, pending, replacement: replacementOf(old, pending) };
}

const GUARD_PROGRAM = path.join(PROJECT_ROOT, "operator", "dist", "relaunch-guard.js");

beforeAll(async () => {
  requireEnv("KUBECONFIG");
  if (!fs.existsSync(GUARD_PROGRAM))
    throw new Error(`${GUARD_PROGRAM} is missing: build the operator first (cd operator && npm run build)`);
  for (const ns of [OPERATOR_NS, WATCH, GUARD_NS]) kubectl("create", "namespace", ns);
  kubectlApply({
    apiVersion: "v1",
    kind: "List",
    items: [
      ...operatorRbac(OPERATOR_NS, WATCH),
      // A person with the cluster's own `edit` in the operator's and the watched namespace.
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "alice", namespace: OPERATOR_NS } },
      ...[OPERATOR_NS, WATCH].map((namespace) => ({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "alice-edit", namespace },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
        subjects: [{ kind: "ServiceAccount", name: "alice", namespace: OPERATOR_NS }],
      })),
      { apiVersion: "v1", kind: "ServiceAccount", ...rbac.serviceAccount },
      { apiVersion: "v1", kind: "Secret", ...rbac.certSecret },
      ...rbac.roles.flatMap(({ role, binding }) => [
        { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", ...role },
        { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", ...binding },
      ]),
      caOnly.policy,
      caOnly.binding,
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", ...rbac.clusterRole.role },
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", ...rbac.clusterRole.binding },
      // The same grant to an account of the guard's name in the operator's namespace, as a stack
      // moving the guard holds it until Pulumi updates the binding.
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: MOVED_GRANT },
        roleRef: rbac.clusterRole.binding.roleRef,
        subjects: [{ kind: "ServiceAccount", name: RELAUNCH_GUARD_NAME, namespace: OPERATOR_NS }],
      },
      // ...and delete on it, as a controller that manages webhook configurations might hold.
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: MOVED_GRANT },
        rules: [{ ...rbac.clusterRole.role.rules[0], verbs: ["delete"] }],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: `${MOVED_GRANT}-delete` },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: MOVED_GRANT },
        subjects: [{ kind: "ServiceAccount", name: RELAUNCH_GUARD_NAME, namespace: OPERATOR_NS }],
      },
    ],
  });
  operatorKubeconfig = serviceAccountKubeconfig(dir, OPERATOR_NS, OPERATOR_NAME, WATCH);
  guardKubeconfig = serviceAccountKubeconfig(dir, GUARD_NS, RELAUNCH_GUARD_NAME, WATCH);
  editKubeconfig = serviceAccountKubeconfig(dir, OPERATOR_NS, "alice", OPERATOR_NS);

  // The guard as the stack runs it, with its own token: it issues its certificate into the empty
  // Secret, then writes its CA into the configuration once that exists.
  const port = await freePort();
  const url = `https://127.0.0.1:${port}/validate`;
  guard = await startRecorded(process.execPath, [GUARD_PROGRAM], path.join(dir, "guard"), {
    env: {
      PATH: process.env.PATH,
      KUBECONFIG: guardKubeconfig,
      ...relaunchGuardSettings({ ...at, serviceAccount: OPERATOR_NAME, servingHosts: ["127.0.0.1"] }),
      SYNC_INTERVAL_MS: "1000",
      LISTEN_HOST: "127.0.0.1",
      PORT: String(port),
    },
  });
  await eventually("the relaunch guard serving", () =>
    guard!.logTail().includes('"msg":"Serving"') ? true : guard!.exited() ? undefined : undefined,
  );
  webhook = relaunchGuardWebhook({ ...at, serviceAccount: OPERATOR_NAME, clientConfig: { url } });
  kubectlApply(webhook);
  await guardCalled();
}, 180_000);

/** The API server loads a configuration on its own: a Job naming no predecessor that exists is refused by the guard once it has. */
async function guardCalled(): Promise<void> {
  const ghost = replacementOf(launched("q0"), pendingFor(launched("q0")));
  await eventually("the relaunch guard called", () =>
    refused(dryRun("operator", ghost)).startsWith(`admission webhook "${RELAUNCH_GUARD_WEBHOOK}" denied the request`) ? true : undefined,
  );
}

const guardLog = (): string => fs.readFileSync(guard!.logFile, "utf8");
const caBundleOf = (): string =>
  Buffer.from(
    kubectl("get", "validatingwebhookconfiguration", webhook!.metadata.name, "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}"),
    "base64",
  ).toString("utf8");
const heldCert = () => servingCertOf(JSON.parse(kubectl("get", "secret", RELAUNCH_GUARD_CERT_SECRET, "-n", GUARD_NS, "-o", "json")).data)!;

afterAll(async () => {
  if (webhook) kubectl("delete", "validatingwebhookconfiguration", webhook.metadata.name, "--ignore-not-found");
  await guard?.stop();
  kubectl("delete", "clusterrolebinding,clusterrole", rbac.clusterRole.role.metadata.name, "--ignore-not-found");
  kubectl("delete", "clusterrolebinding", MOVED_GRANT, `${MOVED_GRANT}-delete`, "--ignore-not-found");
  kubectl("delete", "clusterrole", MOVED_GRANT, "--ignore-not-found");
  deletePolicies(CA_ONLY);
  for (const ns of [OPERATOR_NS, WATCH, GUARD_NS]) kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the relaunch guard as the real API server's webhook", () => {
  it("admits the operator's real relaunch: the claim, the replacement, the old Job's deletion", () => {
    const { old, pending, replacement } = claimedPredecessor("q1");
    expect(create("operator", replacement)).toEqual({ ok: true, output: `job.batch/${pending.name} created` });
    // Judged, not skipped: the guard logged its verdict on this very Job.
    expect(guardLog()).toContain(`"job":"${pending.name}","msg":"Admitted a replacement"`);
    expect(kubectlAs("operator", undefined, "delete", "job", old.metadata.name, "-n", WATCH, "--wait=false").ok).toBe(true);
  });

  it("refuses, with the operator's token, a replacement of a Job that does not exist (or was just deleted after its claim)", () => {
    const { old, replacement } = claimedPredecessor("q2");
    expect(kubectlAs("admin", undefined, "delete", "job", old.metadata.name, "-n", WATCH, "--wait=true").ok).toBe(true);
    expect(refused(dryRun("operator", replacement))).toBe(
      refusal(
        `metadata.annotations[${ANNOTATIONS.relaunchedFrom}]: expected a Job that exists in ${WATCH}; found q2-loader-producer, which does not`,
      ),
    );
  });

  it("refuses a replacement of a Job nobody claimed", () => {
    const job = launched("q3");
    expect(create("admin", job).ok).toBe(true);
    const old = read(job.metadata.name);
    const pending = pendingFor(old);
    expect(refused(dryRun("operator", replacementOf(old, pending)))).toBe(
      refusal(
        `q3-loader-producer.metadata.annotations[${ANNOTATIONS.supersededBy}]: expected the predecessor claimed for q3-loader-producer-r1 before its replacement is created; found no claim`,
      ),
    );
  });

  it.each<[string, (j: any) => void, string]>([
    [
      "another image of the allowed registry",
      (j) => (j.spec.template.spec.containers[0].image = "ghcr.io/olehkondratow/streamforge-loader-producer:0.0.1"),
      "spec.template.spec.containers differ",
    ],
    ["another queue's work", (j) => (j.spec.template.spec.containers[0].env[0].value = "q9"), "spec.template.spec.containers differ"],
    [
      "a pod label of its own (another NetworkPolicy's peer)",
      (j) =>
        (j.spec.template.metadata = { ...j.spec.template.metadata, labels: { ...j.spec.template.metadata?.labels, app: "queue-manager" } }),
      "spec.template.metadata.labels.app differ",
    ],
    [
      "an annotation that opts it out of self-healing",
      (j) => (j.metadata.annotations[ANNOTATIONS.selfHealing] = "disabled"),
      `metadata.annotations[${ANNOTATIONS.selfHealing}] differ`,
    ],
  ])("refuses a replacement of a claimed Job with %s", (_, edit, why) => {
    const { replacement } = claimedPredecessor(`q${randomBytes(2).toString("hex")}`);
    edit(replacement);
    const from = replacement.metadata.annotations[ANNOTATIONS.relaunchedFrom];
    expect(refused(dryRun("operator", replacement))).toBe(refusal(`expected ${from}'s replacement as the operator builds it; ${why}`));
  });

  it("refuses a second copy of a worker under another name, even claimed for it", () => {
    const job = launched("q4");
    expect(create("admin", job).ok).toBe(true);
    const pending = { ...pendingFor(read(job.metadata.name)), name: "q5-loader-producer-r1" };
    expect(claim(job.metadata.name, pending).ok).toBe(true);
    const copy = replacementOf(read(job.metadata.name), pending);
    copy.metadata.name = pending.name;
    expect(refused(dryRun("operator", copy))).toBe(
      refusal(
        "metadata.name: expected q4-loader-producer-r1, the replacement's name for q4-loader-producer at attempt 1; found q5-loader-producer-r1",
      ),
    );
  });

  it("refuses a relaunch time in the future, which would spend the restart budget for good", () => {
    const { replacement } = claimedPredecessor("q6");
    const future = Math.round(Date.now() / 1000) + 86_400;
    replacement.metadata.annotations[ANNOTATIONS.history] = String(future);
    expect(refused(dryRun("operator", replacement))).toBe(
      refusal(
        `metadata.annotations[${ANNOTATIONS.history}]: expected this relaunch's time last, after q6-loader-producer was created and not in the future; found ${future}`,
      ),
    );
  });

  it("leaves other users alone: the admin's Job naming no predecessor is not its business", () => {
    const ghost = replacementOf(launched("q8"), pendingFor(launched("q8")));
    expect(dryRun("admin", ghost)).toEqual({ ok: true, output: `job.batch/${ghost.metadata.name} created (server dry run)` });
  });
});

describe("the relaunch guard's certificate and its own token", () => {
  const DAY = 86_400_000;
  const asGuard = (...args: string[]) => kubectlWith(guardKubeconfig, undefined, ...args);

  it("issued its certificate into the empty Secret and its CA into the configuration, with its own token", () => {
    const held = heldCert();
    expect(pemCertificates(held.ca)).toHaveLength(1);
    expect(caBundleOf()).toBe(held.ca);
    expect(guardLog()).toContain('"reason":"no certificate yet","msg":"Issued a serving certificate"');
  });

  it("its token may write only the CA into its configuration: no fail-open, no other URL, no wider rules, no owner", async () => {
    expect(await policyTypeWarnings(CA_ONLY)).toEqual([]);
    const name = webhook!.metadata.name;
    const patch = (ops: object[]) => asGuard("patch", "validatingwebhookconfiguration", name, "--type", "json", "-p", JSON.stringify(ops));
    const denied = (message: string) => `ValidatingAdmissionPolicy '${CA_ONLY}' with binding '${CA_ONLY}' denied request: ${message}`;
    const guardUser = `system:serviceaccount:${GUARD_NS}:${RELAUNCH_GUARD_NAME}`;
    const webhooks = (by = guardUser) =>
      `webhooks: expected only webhooks[].clientConfig.caBundle of ${name} to change but by the deployers; found another change by ${by}`;
    const failOpen = [{ op: "replace", path: "/webhooks/0/failurePolicy", value: "Ignore" }];
    await untilEnforced(CA_ONLY, () => patch(failOpen));
    expect(patch(failOpen).output).toContain(denied(webhooks()));
    expect(patch([{ op: "replace", path: "/webhooks/0/clientConfig/url", value: "https://198.51.100.7/validate" }]).output).toContain(
      denied(webhooks()),
    );
    expect(patch([{ op: "replace", path: "/webhooks/0/rules/0/resources", value: ["*"] }]).output).toContain(denied(webhooks()));
    expect(patch([{ op: "remove", path: "/webhooks/0/matchConditions" }]).output).toContain(denied(webhooks()));
    expect(patch([{ op: "add", path: "/webhooks/-", value: { ...webhook!.webhooks[0], name: "second.streamforge.io" } }]).output).toContain(
      denied(webhooks()),
    );
    // Not only the guard's account: anyone else granted patch on it (here an account of the guard's
    // name in another namespace, as the guard's was before it moved) is held to the CA too.
    const elsewhere = `system:serviceaccount:${OPERATOR_NS}:${RELAUNCH_GUARD_NAME}`;
    const asAdmin = (...flags: string[]) =>
      kubectlWith(
        undefined,
        undefined,
        "patch",
        "validatingwebhookconfiguration",
        name,
        ...flags,
        "--type",
        "json",
        "-p",
        JSON.stringify(failOpen),
      );
    expect(asAdmin("--as", elsewhere).output).toContain(denied(webhooks(elsewhere)));
    // Nor may it delete the configuration (to make it again otherwise).
    expect(
      kubectlWith(undefined, undefined, "delete", "validatingwebhookconfiguration", name, "--as", elsewhere, "--dry-run=server").output,
    ).toContain(denied(`metadata.name: expected only the deployers to create or delete ${name}; found a deletion by ${elsewhere}`));
    // The deployers change it (the admin applies as one): admitted, in a dry run.
    expect(asAdmin("--dry-run=server").output).toContain("patched");
    expect(kubectl("get", "validatingwebhookconfiguration", name, "-o", "jsonpath={.webhooks[0].failurePolicy}")).toBe("Fail"); // a dry run
    const owner = { apiVersion: "v1", kind: "ConfigMap", name: "gone", uid: "00000000-0000-0000-0000-000000000000" };
    expect(patch([{ op: "add", path: "/metadata/ownerReferences", value: [owner] }]).output).toContain(
      denied(
        `metadata: expected no label, annotation, owner or finalizer of ${name} to change but by the deployers (the relaunch guard may only write its CA); found a change by ${guardUser}`,
      ),
    );
    // Its one write: the same CA again (the renewal below writes a new one through this policy).
    const ca = Buffer.from(heldCert().ca).toString("base64");
    expect(patch([{ op: "replace", path: "/webhooks/0/clientConfig/caBundle", value: ca }]).output).toContain("patched");
  });

  it("renews a certificate near its end, keeps the previous CA trusted, and the API server keeps calling it", async () => {
    // Issued 300 days ago: 65 days left, inside the 90 days of renewal.
    const aging = issueServingCert(["127.0.0.1"], Date.now() - 300 * DAY);
    const data = servingCertData(aging);
    expect(
      kubectl("patch", "secret", RELAUNCH_GUARD_CERT_SECRET, "-n", GUARD_NS, "--type", "merge", "-p", JSON.stringify({ data })),
    ).toContain("patched");
    const renewed = await eventually("the renewal", () => {
      const held = heldCert();
      return held.cert !== aging.cert ? held : undefined;
    });
    expect(pemCertificates(renewed.ca)).toEqual([expect.any(String), pemCertificates(aging.ca)[0]]);
    expect(guardLog()).toMatch(/"reason":"expires [^"]+","msg":"Issued a serving certificate"/);
    await eventually("the renewed CA trusted", () => (caBundleOf() === renewed.ca ? true : undefined));
    await guardCalled();
  });

  it("trusts its CA again in a configuration the stack replaced", async () => {
    // Deleted as Pulumi deletes (foreground): the garbage collector's finalizer removal passes the CA-only rule.
    kubectl("delete", "validatingwebhookconfiguration", webhook!.metadata.name, "--cascade=foreground", "--wait=true", "--timeout=60s");
    kubectlApply(webhook!);
    await guardCalled();
    expect(caBundleOf()).toBe(heldCert().ca);
  });

  it("its token reads its Secret and configuration, and nothing else: no other Secret, no new configuration, no Job", () => {
    const user = `system:serviceaccount:${GUARD_NS}:${RELAUNCH_GUARD_NAME}`;
    expect(asGuard("get", "secret", RELAUNCH_GUARD_CERT_SECRET, "-n", GUARD_NS, "-o", "name").output).toBe(
      `secret/${RELAUNCH_GUARD_CERT_SECRET}`,
    );
    expect(asGuard("get", "validatingwebhookconfiguration", webhook!.metadata.name, "-o", "name").ok).toBe(true);
    const forbidden = (verb: string, resource: string, scope: string) =>
      `User "${user}" cannot ${verb} resource "${resource}" in API group "${resource === "secrets" ? "" : resource === "jobs" ? "batch" : "admissionregistration.k8s.io"}" ${scope}`;
    expect(asGuard("get", "secret", "self-healing-operator", "-n", OPERATOR_NS).output).toContain(
      forbidden("get", "secrets", `in the namespace "${OPERATOR_NS}"`),
    );
    expect(asGuard("get", "secrets", "-n", OPERATOR_NS).output).toContain(
      forbidden("list", "secrets", `in the namespace "${OPERATOR_NS}"`),
    );
    const rogue = { ...webhook!, metadata: { name: `rogue-${run}` } };
    expect(kubectlWith(guardKubeconfig, rogue, "create", "-f", "-").output).toContain(
      forbidden("create", "validatingwebhookconfigurations", "at the cluster scope"),
    );
    expect(asGuard("delete", "validatingwebhookconfiguration", webhook!.metadata.name).output).toContain(
      forbidden("delete", "validatingwebhookconfigurations", "at the cluster scope"),
    );
    expect(kubectlWith(guardKubeconfig, launched("q7"), "create", "-f", "-").output).toContain(
      forbidden("create", "jobs", `in the namespace "${WATCH}"`),
    );
  });
  it("a person with edit where the operator and its Jobs are neither reads the guard's key nor acts as its account", () => {
    const alice = `system:serviceaccount:${OPERATOR_NS}:alice`;
    const asEdit = (...args: string[]) => kubectlWith(editKubeconfig, undefined, ...args);
    // What edit gives there, shown working: the operator's namespace's Secrets, and its account.
    expect(asEdit("get", "secrets", "-n", OPERATOR_NS, "-o", "name").ok).toBe(true);
    expect(
      asEdit("auth", "can-i", "get", "jobs", "-n", WATCH, "--as", `system:serviceaccount:${OPERATOR_NS}:${OPERATOR_NAME}`).output,
    ).toBe("yes");
    // The guard's key, its account and a token of it are in a namespace where edit was never given.
    expect(asEdit("get", "secret", RELAUNCH_GUARD_CERT_SECRET, "-n", GUARD_NS).output).toContain(
      `User "${alice}" cannot get resource "secrets" in API group "" in the namespace "${GUARD_NS}"`,
    );
    expect(
      asEdit(
        "get",
        "secret",
        RELAUNCH_GUARD_CERT_SECRET,
        "-n",
        GUARD_NS,
        "--as",
        `system:serviceaccount:${GUARD_NS}:${RELAUNCH_GUARD_NAME}`,
      ).output,
    ).toContain(`User "${alice}" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "${GUARD_NS}"`);
    expect(asEdit("create", "token", RELAUNCH_GUARD_NAME, "-n", GUARD_NS).output).toContain(
      `User "${alice}" cannot create resource "serviceaccounts/token" in API group "" in the namespace "${GUARD_NS}"`,
    );
    expect(asEdit("get", "pods", "-n", GUARD_NS).output).toContain(
      `User "${alice}" cannot list resource "pods" in API group "" in the namespace "${GUARD_NS}"`,
    );
  });
});
