/**
 * The relaunch guard (operator/src/relaunch-guard.ts, built) as the REAL API server's validating
 * webhook: the API server calls it over TLS for each Job a stand-in for the operator's account
 * creates, and the guard reads the predecessor with a token of its own that may only get Jobs.
 * The operator's whole relaunch, built by its own code, gets through; a replacement of a Job that
 * does not exist, of one nobody claimed, or that differs from what the operator builds is refused,
 * each with the guard's reason. What a ValidatingAdmissionPolicy cannot judge (docs/security.md).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { queueManagerJob } from "../../../chaos/drill/traffic";
import { ANNOTATIONS, type JobManifest } from "../../../operator/src/core/jobs";
import { replacementJob } from "../../../operator/src/core/relaunch";
import { type PendingRelaunch, pendingAnnotations } from "../../../operator/src/core/resume";
import { PROJECT_ROOT } from "../../render/render";
import { OPERATOR_NAME } from "../manifests";
import { operatorRbac, pendingFor } from "./operator-kit";
import { RELAUNCH_GUARD_NAME, RELAUNCH_GUARD_WEBHOOK, relaunchGuardRole, relaunchGuardWebhook } from "../relaunch-guard-spec";
import {
  eventually,
  kubectl,
  kubectlApply,
  kubectlWith,
  requireEnv,
  serviceAccountKubeconfig,
} from "../../../test/integration/local-platform";
import { type Recorded, freePort, startRecorded } from "../../../test/integration/recorded-process";

const run = randomBytes(3).toString("hex");
const OPERATOR_NS = `op-relaunch-${run}`;
const WATCH = `stf-relaunch-${run}`;
const guardRole = relaunchGuardRole({ watchNamespace: WATCH });
const guardAccount = { metadata: { name: RELAUNCH_GUARD_NAME, namespace: OPERATOR_NS } };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "relaunch-guard-"));
let operatorKubeconfig = "";
let guard: Recorded | undefined;
let webhookName = "";

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
  for (const ns of [OPERATOR_NS, WATCH]) kubectl("create", "namespace", ns);
  kubectlApply({
    apiVersion: "v1",
    kind: "List",
    items: [
      ...operatorRbac(OPERATOR_NS, WATCH),
      { apiVersion: "v1", kind: "ServiceAccount", ...guardAccount },
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", ...guardRole },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: RELAUNCH_GUARD_NAME, namespace: WATCH },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: RELAUNCH_GUARD_NAME },
        subjects: [{ kind: "ServiceAccount", name: RELAUNCH_GUARD_NAME, namespace: OPERATOR_NS }],
      },
    ],
  });
  operatorKubeconfig = serviceAccountKubeconfig(dir, OPERATOR_NS, OPERATOR_NAME, WATCH);
  const guardKubeconfig = serviceAccountKubeconfig(dir, OPERATOR_NS, RELAUNCH_GUARD_NAME, WATCH);

  // A serving certificate for 127.0.0.1, its own CA: what the webhook configuration's caBundle trusts.
  const [cert, key] = [path.join(dir, "tls.crt"), path.join(dir, "tls.key")];
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=relaunch-guard",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  const port = await freePort();
  guard = await startRecorded(
    process.execPath,
    [path.join(PROJECT_ROOT, "operator", "dist", "relaunch-guard.js")],
    path.join(dir, "guard"),
    {
      env: {
        PATH: process.env.PATH,
        KUBECONFIG: guardKubeconfig,
        OPERATOR_USER: `system:serviceaccount:${OPERATOR_NS}:${OPERATOR_NAME}`,
        TLS_CERT_FILE: cert,
        TLS_KEY_FILE: key,
        LISTEN_HOST: "127.0.0.1",
        PORT: String(port),
      },
    },
  );
  await eventually("the relaunch guard serving", () =>
    guard!.logTail().includes('"msg":"Serving"') ? true : guard!.exited() ? undefined : undefined,
  );
  const webhook = relaunchGuardWebhook({
    operatorNamespace: OPERATOR_NS,
    serviceAccount: OPERATOR_NAME,
    watchNamespace: WATCH,
    clientConfig: { url: `https://127.0.0.1:${port}/validate`, caBundle: fs.readFileSync(cert).toString("base64") },
  });
  webhookName = webhook.metadata.name;
  kubectlApply(webhook);
  // The API server loads a webhook configuration on its own: a Job naming no predecessor that exists is refused once it has.
  const ghost = replacementOf(launched("q0"), pendingFor(launched("q0")));
  await eventually("the relaunch guard called", () =>
    refused(dryRun("operator", ghost)).startsWith("admission webhook ") ? true : undefined,
  );
}, 180_000);

afterAll(async () => {
  if (webhookName) kubectl("delete", "validatingwebhookconfiguration", webhookName, "--ignore-not-found");
  await guard?.stop();
  for (const ns of [OPERATOR_NS, WATCH]) kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the relaunch guard as the real API server's webhook", () => {
  it("admits the operator's real relaunch: the claim, the replacement, the old Job's deletion", () => {
    const { old, pending, replacement } = claimedPredecessor("q1");
    expect(create("operator", replacement)).toEqual({ ok: true, output: `job.batch/${pending.name} created` });
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
