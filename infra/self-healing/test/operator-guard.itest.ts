/**
 * The operator's Job guard in the REAL API server. A ServiceAccount stands in for the operator's,
 * in a namespace of this test, with the Role the stack gives the operator (manifests.ts) on a
 * watched namespace of this test; requests are sent with its own token (TokenRequest). The
 * operator's whole relaunch, built by its own code (pendingAnnotations, replacementJob), gets
 * through: the claim, the replacement, the old Job's deletion. Forged Jobs and writes sent with
 * the same token are refused with the policy's messages; the same forged Job sent by the admin
 * is not the guard's business.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { queueManagerJob } from "../../../chaos/drill/traffic";
import { ANNOTATIONS, type JobManifest } from "../../../operator/src/core/jobs";
import { replacementJob } from "../../../operator/src/core/relaunch";
import { pendingAnnotations } from "../../../operator/src/core/resume";
import { GUARD_DEFAULTS, NOT_WORKER_JOB_SHAPE, WORKER_ENV, WORKER_JOB_SHAPE, operatorGuard } from "../guard";
import { OPERATOR_NAME } from "../manifests";
import { operatorRbac, pendingFor } from "./operator-kit";
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

const run = randomBytes(3).toString("hex");
const OPERATOR_NS = `op-guard-${run}`;
const WATCH = `stf-guard-${run}`;
const guard = operatorGuard({ operatorNamespace: OPERATOR_NS, serviceAccount: OPERATOR_NAME, watchNamespace: WATCH, ...GUARD_DEFAULTS });
const POLICY = guard.policy.metadata.name;
const rbac = operatorRbac(OPERATOR_NS, WATCH);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "operator-guard-"));
let operatorKubeconfig = "";

/** `kubectl <args>` with `input` on stdin, as the admin or with the operator's token; never throws. */
const kubectlAs = (who: "admin" | "operator", input: object | undefined, ...args: string[]) =>
  kubectlWith(who === "operator" ? operatorKubeconfig : undefined, input, ...args);
const create = (who: "admin" | "operator", job: object) => kubectlAs(who, job, "create", "-f", "-");
const dryRun = (who: "admin" | "operator", job: object) => kubectlAs(who, job, "create", "--dry-run=server", "-f", "-");
const patch = (name: string, body: object) =>
  kubectlAs("operator", undefined, "patch", "job", name, "-n", WATCH, "--type", "merge", "-p", JSON.stringify(body));
const read = (name: string): JobManifest =>
  JSON.parse(kubectlAs("operator", undefined, "get", "job", name, "-n", WATCH, "-o", "json").output);
const refusal = (message: string) => `ValidatingAdmissionPolicy '${POLICY}' with binding '${POLICY}' denied request: ${message}`;
/** A refused request's reason, from the policy's name on (kubectl prefixes it with the object's kind and name). */
const refused = (r: { ok: boolean; output: string }) =>
  r.ok ? `admitted: ${r.output}` : r.output.slice(Math.max(0, r.output.indexOf("ValidatingAdmissionPolicy ")));

/** The Kubernetes form of a queue-manager Job in the watched namespace. */
const launched = (queueId: string) => queueManagerJob(queueId, "loader-producer", WATCH);
/** The replacement the operator would create for a queue's Job (its own replacementJob), changed by `edit`. */
function forged(edit: (job: any) => void): any {
  const old = launched("q9") as JobManifest;
  const job: any = replacementJob({ old, ...pendingFor(old), queueId: "q9" });
  edit(job);
  return job;
}
const podOf = (job: any) => job.spec.template.spec;

let enforcedAfterMs = -1;

beforeAll(async () => {
  requireEnv("KUBECONFIG");
  for (const ns of [OPERATOR_NS, WATCH]) kubectl("create", "namespace", ns);
  kubectlApply({ apiVersion: "v1", kind: "List", items: rbac });

  // The stand-in operator's own credentials: a bound token (TokenRequest) on the admin's server and CA.
  operatorKubeconfig = serviceAccountKubeconfig(dir, OPERATOR_NS, OPERATOR_NAME, WATCH);

  kubectlApply({ apiVersion: "v1", kind: "List", items: [guard.policy, guard.binding] });
  const bad = forged((j) => (podOf(j).containers[0].securityContext = { privileged: true }));
  enforcedAfterMs = await untilEnforced(POLICY, () => dryRun("operator", bad));
  console.log(`the guard was enforced ${enforcedAfterMs} ms after kubectl apply returned`);
}, 120_000);

afterAll(() => {
  deletePolicies(POLICY);
  for (const ns of [OPERATOR_NS, WATCH]) kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the operator's Job guard in the real API server", () => {
  it("type-checks every expression against the Job schema", async () => {
    expect(await policyTypeWarnings(POLICY)).toEqual([]);
  });

  it("knows every field of a Job, its pods, containers and volumes in this API server's schema: a worker's or refused", () => {
    const schemas = JSON.parse(kubectl("get", "--raw", "/openapi/v3/apis/batch/v1")).components.schemas;
    const fields = (name: string) => Object.keys(schemas[name].properties).sort();
    for (const [part, schema] of [
      ["job", "io.k8s.api.batch.v1.JobSpec"],
      ["pod", "io.k8s.api.core.v1.PodSpec"],
      ["container", "io.k8s.api.core.v1.Container"],
      ["volume", "io.k8s.api.core.v1.Volume"],
    ] as const)
      expect([part, [...WORKER_JOB_SHAPE[part], ...NOT_WORKER_JOB_SHAPE[part]].sort()]).toEqual([part, fields(schema)]);
  });

  it("admits the operator's real relaunch: the claim, the replacement, the old Job's deletion", async () => {
    expect(enforcedAfterMs).toBeGreaterThanOrEqual(0);
    const original = launched("q1");
    expect(create("admin", original)).toEqual({ ok: true, output: `job.batch/${original.metadata.name} created` });
    const name = original.metadata.name;
    const pending = pendingFor(original);
    try {
      // The claim, as KubeJobs.annotateIfUnchanged sends it; the Job controller's status writes can
      // move the resourceVersion in between (409), after which the operator reads again and retries.
      let claim = { ok: false, output: "" };
      for (let i = 0; i < 20 && !claim.ok; i++) {
        const fresh = read(name);
        claim = patch(name, { metadata: { resourceVersion: fresh.metadata.resourceVersion, annotations: pendingAnnotations(pending) } });
        if (!claim.ok && !claim.output.includes("the object has been modified")) break;
      }
      expect(claim).toEqual({ ok: true, output: `job.batch/${name} patched` });

      const old = read(name);
      const replacement = replacementJob({ old, ...pending, queueId: pending.queueId }); // as the controller calls it
      expect(create("operator", replacement)).toEqual({ ok: true, output: `job.batch/${pending.name} created` });
      expect(kubectlAs("operator", undefined, "delete", "job", name, "-n", WATCH, "--cascade=background", "--wait=false")).toEqual({
        ok: true,
        output: `job.batch "${name}" deleted from ${WATCH} namespace`,
      });

      // The replacement is not claimed: the operator's token cannot delete it, nor rewrite it.
      const deleted = kubectlAs("operator", undefined, "delete", "job", pending.name, "-n", WATCH, "--wait=false");
      expect(refused(deleted)).toBe(
        refusal(
          `metadata.annotations[${ANNOTATIONS.supersededBy}]: expected on a Job the operator deletes (it claims a Job before replacing it); found none`,
        ),
      );
      const respec = patch(pending.name, { spec: { activeDeadlineSeconds: 1 } });
      expect(refused(respec)).toBe(refusal("spec: expected unchanged (the operator only annotates the Jobs it watches); found a change"));
      const relabel = patch(pending.name, { metadata: { labels: { team: "miners" } } });
      expect(refused(relabel)).toBe(
        refusal(
          "metadata.labels, ownerReferences, finalizers: expected unchanged (the operator only annotates the Jobs it watches); found a change",
        ),
      );
      const optOut = patch(pending.name, { metadata: { annotations: { [ANNOTATIONS.selfHealing]: "disabled" } } });
      expect(refused(optOut)).toBe(
        refusal(
          `metadata.annotations: expected changes to ${ANNOTATIONS.supersededBy}, ${ANNOTATIONS.pending}, ${ANNOTATIONS.gaveUp} only; found changes to ${ANNOTATIONS.selfHealing}`,
        ),
      );
      // Giving up on a Job is the operator's other patch.
      expect(patch(pending.name, { metadata: { annotations: { [ANNOTATIONS.gaveUp]: "3 relaunches in 1h" } } })).toEqual({
        ok: true,
        output: `job.batch/${pending.name} patched`,
      });
    } finally {
      kubectl("delete", "job", name, pending.name, "-n", WATCH, "--ignore-not-found", "--wait=false");
    }
  });

  it.each<[string, () => object, string]>([
    [
      "a Job without the relaunch annotations (queue-manager's own launch)",
      () => launched("q8"),
      "metadata.annotations: expected the operator's relaunch annotations (streamforge.io/relaunch-attempt, streamforge.io/relaunch-reason, streamforge.io/relaunched-from, streamforge.io/original-name, streamforge.io/relaunch-history, streamforge.io/relaunched-at); missing streamforge.io/relaunch-attempt, streamforge.io/relaunch-reason, streamforge.io/relaunched-from, streamforge.io/original-name, streamforge.io/relaunch-history, streamforge.io/relaunched-at",
    ],
    [
      "a privileged container",
      () => forged((j) => (podOf(j).containers[0].securityContext = { privileged: true })),
      "spec.template.spec.*containers[].securityContext.privileged: expected false or unset; found true in containers[loader-producer]",
    ],
    [
      "a privileged init container",
      () =>
        forged(
          (j) =>
            (podOf(j).initContainers = [
              { name: "setup", image: "ghcr.io/olehkondratow/streamforge-setup:1.0.0", securityContext: { privileged: true } },
            ]),
        ),
      "spec.template.spec.*containers[].securityContext.privileged: expected false or unset; found true in initContainers[setup]",
    ],
    [
      "privilege escalation",
      () => forged((j) => (podOf(j).containers[0].securityContext = { allowPrivilegeEscalation: true })),
      "spec.template.spec.*containers[].securityContext.allowPrivilegeEscalation: expected false or unset; found true in containers[loader-producer]",
    ],
    [
      "the host's network",
      () => forged((j) => (podOf(j).hostNetwork = true)),
      "spec.template.spec.hostNetwork, hostPID, hostIPC: expected false or unset; found true: hostNetwork",
    ],
    [
      "the host's PIDs and IPC",
      () => forged((j) => Object.assign(podOf(j), { hostPID: true, hostIPC: true })),
      "spec.template.spec.hostNetwork, hostPID, hostIPC: expected false or unset; found true: hostPID, hostIPC",
    ],
    [
      "a hostPath volume",
      () =>
        forged((j) => {
          podOf(j).volumes = [{ name: "root", hostPath: { path: "/" } }];
          podOf(j).containers[0].volumeMounts = [{ name: "root", mountPath: "/host" }];
        }),
      "spec.template.spec.volumes[].hostPath: expected no hostPath volume; found it in root",
    ],
    [
      "a foreign image",
      () => forged((j) => (podOf(j).containers[0].image = "docker.io/evil/miner:latest")),
      "spec.template.spec.*containers[].image: expected an image starting with ghcr.io/olehkondratow/streamforge-; found containers[loader-producer] docker.io/evil/miner:latest",
    ],
    [
      "a foreign ServiceAccount",
      () => forged((j) => (podOf(j).serviceAccountName = OPERATOR_NAME)),
      `spec.template.spec.serviceAccountName: expected one of default; found ${OPERATOR_NAME}`,
    ],
    [
      "a foreign ServiceAccount through the deprecated alias",
      () => forged((j) => (podOf(j).serviceAccount = "queue-manager")),
      "spec.template.spec.serviceAccountName: expected one of default; found queue-manager",
    ],
    [
      "a name that is not <original>-r<attempt>",
      () => forged((j) => (j.metadata.name = "miner")),
      "metadata.name and annotations[streamforge.io/relaunch-attempt]: expected a replacement named <original>-r<attempt>, attempt a whole number >= 1; found miner (attempt '1')",
    ],
    [
      "a command override",
      () => forged((j) => Object.assign(podOf(j).containers[0], { command: ["sh", "-c", "cat /var/run/secrets/kubernetes.io/*/token"] })),
      "spec.template.spec.containers[]: expected only a worker container's fields (name, image, imagePullPolicy, env, resources, volumeMounts, terminationMessagePath, terminationMessagePolicy, securityContext); found containers[loader-producer] command",
    ],
    [
      "env that loads code into the worker (NODE_OPTIONS, LD_PRELOAD)",
      () =>
        forged((j) =>
          podOf(j).containers[0].env.push(
            { name: "NODE_OPTIONS", value: "--import=data:text/javascript,1" },
            { name: "LD_PRELOAD", value: "/x.so" },
          ),
        ),
      `spec.template.spec.*containers[].env: expected only a worker's env (${WORKER_ENV.join(", ")}: streamforge:operator.guard.allowedEnv); found containers[loader-producer] NODE_OPTIONS LD_PRELOAD`,
    ],
    [
      "env from a Secret's keys, under a prefix",
      () => forged((j) => (podOf(j).containers[0].envFrom = [{ prefix: "NODE_OPTIONS", secretRef: { name: "loaders" } }])),
      "spec.template.spec.containers[]: expected only a worker container's fields (name, image, imagePullPolicy, env, resources, volumeMounts, terminationMessagePath, terminationMessagePolicy, securityContext); found containers[loader-producer] envFrom",
    ],
    [
      "a value that copies a Secret into what the worker publishes",
      () =>
        forged((j) =>
          podOf(j).containers[0].env.push(
            { name: "KAFKA_PASSWORD", valueFrom: { secretKeyRef: { name: "loaders", key: "password" } } },
            { name: "TELEMETRY_PRODUCER_ID", value: "x-$(KAFKA_PASSWORD)" },
          ),
        ),
      "spec.template.spec.*containers[].env[]: expected values without $(...) and valueFrom only as a secretKeyRef of a *PASSWORD; found containers[loader-producer] TELEMETRY_PRODUCER_ID",
    ],
    [
      "a pinned node and tolerations of everything",
      () => forged((j) => Object.assign(podOf(j), { nodeName: "control-plane-1", tolerations: [{ operator: "Exists" }] })),
      "spec.template.spec: expected only a worker pod's fields (containers, restartPolicy, terminationGracePeriodSeconds, dnsPolicy, securityContext, schedulerName, serviceAccountName, serviceAccount, automountServiceAccountToken, enableServiceLinks, volumes, imagePullSecrets); found nodeName, tolerations",
    ],
    [
      "a replacement that runs hundreds of pods",
      () => forged((j) => Object.assign(j.spec, { parallelism: 500, completions: 500 })),
      "spec.parallelism, completions: expected at most 1 each (a worker Job runs one pod); found 500, 500",
    ],
    [
      "a projected token",
      () =>
        forged((j) => {
          podOf(j).volumes = [{ name: "token", projected: { sources: [{ serviceAccountToken: { audience: "vault", path: "t" } }] } }];
        }),
      "spec.template.spec.volumes[]: expected only secret, configMap, emptyDir volumes; found token (projected)",
    ],
  ])("refuses %s sent with the operator's token, naming the rule", (_, job, message) => {
    const result = dryRun("operator", job());
    expect(refused(result)).toBe(refusal(message));
  });

  it("admits the unforged replacement with the operator's token (the control)", () => {
    const job = forged(() => {});
    expect(dryRun("operator", job)).toEqual({ ok: true, output: `job.batch/${job.metadata.name} created (server dry run)` });
  });

  it("leaves other users alone: the admin's forged Job is not the guard's business", () => {
    for (const job of [
      forged((j) => (podOf(j).containers[0].securityContext = { privileged: true })),
      forged((j) => Object.assign(podOf(j), { hostNetwork: true, volumes: [{ name: "root", hostPath: { path: "/" } }] })),
      launched("q7"),
    ])
      expect(dryRun("admin", job)).toEqual({ ok: true, output: `job.batch/${job.metadata.name} created (server dry run)` });
    // Nor an unclaimed Job's deletion by the admin.
    const original = launched("q6");
    expect(create("admin", original).ok).toBe(true);
    expect(kubectlAs("admin", undefined, "delete", "job", original.metadata.name, "-n", WATCH, "--wait=false").ok).toBe(true);
  });
});
