/**
 * The REAL Argo Rollouts controller process (local/rollouts.sh's v1.10.2 build) running as the
 * stack's controller account with only the stack's RBAC (rollouts/spec.ts `controllerRbac`) and
 * under the stack's guard (rollouts/controller-guard.ts), drives queue-manager's canary on a stack
 * of its own: the canary is promoted, a failing one is aborted, and the controller's log holds no
 * request refused by RBAC or by the guard.
 *
 * The local platform runs its own controller as the admin, cluster-wide. Two controllers on one
 * Rollout would fight, so this one runs with `--instance-id` and the stack sets
 * `rollouts.controller.instanceId`, which labels the Rollout and its AnalysisTemplates: the
 * platform's controller lists those kinds with "no instance-id label" and this one with "this
 * instance-id" (argo-rollouts v1.10.2 utils/controller/controller.go L287-299, applied to the
 * informers in cmd/rollouts-controller/main.go L170-195). The platform's log shows it never
 * reconciled this Rollout or its AnalysisRuns.
 *
 * The RBAC and the guard are what `ArgoRolloutsController` declares (the same functions), applied
 * here: the local stack does not install the controller (`controller.install: false`: no chart
 * repository or CRD download here), so its `up` creates neither. The account's token comes from
 * the TokenRequest API (`kubectl create token`), in a kubeconfig for the local API server with
 * the admin's server and CA. Leader election stays on, as in the chart's two replicas
 * (argo-helm argo-rollouts-2.41.0 values.yaml L105; the binary's default, controller/controller.go
 * L87-88): its Lease is written with the same token.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { committedConfig } from "../../test/helpers";
import { GiveUp, eventually, kubectl, kubectlWith, requireEnv, serviceAccountKubeconfig } from "../../test/integration/local-platform";
import { type Recorded, freePort, startRecorded } from "../../test/integration/recorded-process";
import { ROLLOUTS_RELEASE } from "../component";
import { stackControllerGuard } from "../controller-guard";
import { controllerRbac } from "../spec";
import { CanaryStack } from "./canary-stack";

// A suffix of its own where several checkouts share the local platform and its Pulumi backend.
const SUFFIX = process.env.ROLLOUTS_RBAC_SUFFIX ?? "rbac";
const INSTANCE = `streamforge-${SUFFIX}`;
/**
 * The controller's namespace, in the stack's config too: the stack's guards name the controller's
 * account from it (`system:serviceaccount:<namespace>:argo-rollouts`, infra/cluster/area.ts), and
 * the apps namespace's workloads guard lets only that account (or a deployer) make queue-manager's
 * ReplicaSets.
 */
const CTRL = `argo-rollouts-${SUFFIX}`;
const SA = ROLLOUTS_RELEASE;

// A pause after 100% keeps the full weight visible before promotion (as in canary.itest.ts).
const stack = new CanaryStack(`rollouts-rbac-${SUFFIX}`, SUFFIX, (rollouts) => {
  rollouts.controller = { ...rollouts.controller, namespace: CTRL, instanceId: INSTANCE };
  rollouts.steps = [...rollouts.steps, { pause: { duration: "5s" } }];
});
const APPS = stack.apps;
const rollouts = committedConfig("local").rollouts!;
const rbac = controllerRbac({ ...rollouts, controller: { ...rollouts.controller, namespace: CTRL } }, SA);
const guard = stackControllerGuard(CTRL, SA, APPS);
const rbacApi = { apiVersion: "rbac.authorization.k8s.io/v1" };
// Cluster-scoped names of this run's own (the stack names them after the account); rules and subjects as declared.
const clusterRoleName = `${SA}-${SUFFIX}`;
const clusterObjects = [
  { ...rbacApi, kind: "ClusterRole", ...rbac.clusterRole, metadata: { ...rbac.clusterRole.metadata, name: clusterRoleName } },
  {
    ...rbacApi,
    kind: "ClusterRoleBinding",
    ...rbac.clusterRoleBinding,
    metadata: { ...rbac.clusterRoleBinding.metadata, name: clusterRoleName },
    roleRef: { ...rbac.clusterRoleBinding.roleRef, name: clusterRoleName },
  },
  guard.scope.policy,
  guard.scope.binding,
  guard.replicaSets.policy,
  guard.replicaSets.binding,
];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "argo-rbac-"));
let controller: Recorded | undefined;
/** The `pulumi up` in flight: a test that gave up on it still leaves it holding the stack's lock. */
let inFlight: ReturnType<CanaryStack["up"]> | undefined;
const up = (...args: Parameters<CanaryStack["up"]>) => (inFlight = stack.up(...args));
/** Where the platform's controller log stood when this test began. */
let platformLogFrom = 0;

/** The log lines of a controller that show it reconciled a Rollout or an AnalysisRun in the apps namespace (rollout/controller.go L398-417, analysis/controller.go L178-192: logged only for an object its informers hold). */
function reconciledHere(log: string): string[] {
  return log
    .split("\n")
    .filter((l) => new RegExp(`\\bnamespace=${APPS}(\\s|$)`).test(l))
    .filter((l) => l.includes('msg="Started syncing rollout"') || l.includes('msg="Reconciliation completed"'));
}

/** Requests refused by RBAC (`forbidden`) or by an admission policy (`denied request`). */
const refusals = (log: string) => log.split("\n").filter((l) => /forbidden|denied request/i.test(l));

const ownLog = () => fs.readFileSync(controller!.logFile, "utf8");

async function startController(): Promise<Recorded> {
  const kubeconfig = serviceAccountKubeconfig(dir, CTRL, SA);
  const [metricsPort, healthzPort] = [await freePort(), await freePort()];
  const stateDir = path.join(path.dirname(requireEnv("ARGO_ROLLOUTS_LOG")), "scoped", `${SUFFIX}-${process.pid}`);
  fs.mkdirSync(stateDir, { recursive: true });
  // Only its own kubeconfig: no admin KUBECONFIG in its environment.
  const env: NodeJS.ProcessEnv = { ...process.env, POD_NAMESPACE: CTRL };
  delete env.KUBECONFIG;
  const started = await startRecorded(
    requireEnv("ARGO_ROLLOUTS_CONTROLLER"),
    [
      `--kubeconfig=${kubeconfig}`,
      `--instance-id=${INSTANCE}`,
      `--metricsPort=${metricsPort}`,
      `--healthzPort=${healthzPort}`,
      "--loglevel=info",
    ],
    path.join(stateDir, "rollouts-controller"),
    { env },
  );
  // healthz answers at once; the workers start once it leads and its informers have synced.
  await eventually(
    "the controller's rollout and analysis workers started",
    async () => {
      if (started.exited()) throw new GiveUp(`it exited:\n${started.logTail()}`);
      const healthz = await fetch(`http://127.0.0.1:${healthzPort}/healthz`).catch(() => undefined);
      const log = fs.readFileSync(started.logFile, "utf8");
      return healthz?.status === 200 && log.includes("Started rollout workers") && /Started \d+ analysis workers/.test(log)
        ? true
        : undefined;
    },
    90_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${started.logTail()}`);
  });
  return started;
}

beforeAll(async () => {
  platformLogFrom = fs.statSync(requireEnv("ARGO_ROLLOUTS_LOG")).size;
  await stack.start();
  kubectl("create", "namespace", CTRL);
  const objects = [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: SA, namespace: CTRL } },
    ...clusterObjects,
    { ...rbacApi, kind: "Role", ...rbac.role },
    { ...rbacApi, kind: "RoleBinding", ...rbac.roleBinding },
  ];
  const applied = kubectlWith(undefined, { apiVersion: "v1", kind: "List", items: objects }, "apply", "-f", "-");
  if (!applied.ok) throw new Error(`kubectl apply failed: ${applied.output}`);
  controller = await startController();
}, 180_000);

afterAll(async () => {
  try {
    await inFlight?.done;
    await stack.stop();
  } finally {
    await controller?.stop();
    for (const o of clusterObjects) kubectlWith(undefined, o, "delete", "--ignore-not-found", "-f", "-");
    kubectl("delete", "namespace", CTRL, "--ignore-not-found", "--wait=false");
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);

describe("the real Argo Rollouts controller with only the stack's RBAC and guard", () => {
  let stable = "";

  it("leads with the account's token: its Lease is held", () => {
    // The lock is named after the instance (controller/controller.go L116-121), in its own namespace.
    const lease = JSON.parse(kubectl("get", "lease", `argo-rollouts-controller-lock-${INSTANCE}`, "-n", CTRL, "-o", "json"));
    expect(lease.spec.holderIdentity).toEqual(expect.any(String));
  });

  it("first deploy: the Rollout comes up Healthy", async () => {
    const first = await up("1.0.0", { enabled: true, timeoutSeconds: 120 }).done;
    if (first.code !== 0) console.log(`pulumi up failed:\n${first.output.slice(-3000)}`);
    expect(first.code).toBe(0);
    const s = stack.status();
    expect(s.phase).toBe("Healthy");
    stable = s.stableRS!;
    await stack.syncMonitors();
    stack.serve(stable, "healthy");
    expect(stack.weights()).toEqual([100, 0]);
  });

  it("a healthy canary is promoted through every weight, and `pulumi up` succeeds", async () => {
    const run = up("2.0.0", { enabled: true, timeoutSeconds: 300 });
    const canary = await stack.canaryHash(stable);
    stack.serve(canary, "healthy");
    const seen = await stack.canaryWeightsWhile(run);
    const result = await run.done;
    expect([result.code, result.output.slice(-800)]).toEqual([0, expect.any(String)]);
    expect(seen.filter((w) => w > 0)).toEqual([10, 25, 50, 100]);
    const s = stack.status();
    expect([s.phase, s.stableRS]).toEqual(["Healthy", canary]);
    expect(stack.weights()).toEqual([100, 0]);
    stable = canary;
  });

  it("a failing canary is aborted by its analysis: weights back to stable, `pulumi up` fails", async () => {
    const run = up("3.0.0", { enabled: true, timeoutSeconds: 300 });
    const canary = await stack.canaryHash(stable);
    stack.serve(canary, "failing");
    await eventually("pulumi up to return", () => (run.running() ? undefined : true), 600_000);
    const result = await run.done;
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(`Rollout ${APPS}/queue-manager was aborted`);
    const s = stack.status();
    expect([s.abort, s.phase, s.stableRS]).toEqual([true, "Degraded", stable]);
    expect(stack.weights()).toEqual([100, 0]);
  });

  it("this controller reconciled the Rollout and its AnalysisRuns; the platform's did not", () => {
    const platformLog = fs.readFileSync(requireEnv("ARGO_ROLLOUTS_LOG")).subarray(platformLogFrom).toString("utf8");
    const own = reconciledHere(ownLog());
    expect(own.some((l) => l.includes("rollout=queue-manager"))).toBe(true);
    expect(own.some((l) => l.includes("analysisrun="))).toBe(true);
    expect(reconciledHere(platformLog)).toEqual([]);
  });

  it("its log holds no request refused by RBAC or by the guard", () => {
    expect(refusals(ownLog())).toEqual([]);
  });
});
