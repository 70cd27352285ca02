/**
 * The Argo Rollouts controller's guard (rollouts/controller-guard.ts) in the REAL API server, tried
 * with the token of an account holding the chart's own cluster-wide rules (argo-helm
 * argo-rollouts-2.41.0 charts/argo-rollouts/templates/_helpers.tpl L116-271, restated below): the
 * ReplicaSet the real controller made for a Rollout is admitted when sent with that token, and so
 * are the Services and Lease it writes; a ReplicaSet of another template, or in another namespace,
 * a Deployment update and a Job are refused with the policies' messages.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  deletePolicies,
  eventually,
  kubectl,
  kubectlWith,
  policyTypeWarnings,
  requireEnv,
  serviceAccountKubeconfig,
  untilEnforced,
  kubectlApply,
} from "../../test/integration/local-platform";
import { controllerGuard, controllerGuardNames } from "../controller-guard";
import { controllerRbac } from "../spec";
import { committedConfig } from "../../test/helpers";

const run = randomBytes(3).toString("hex");
const APPS = `argo-guard-${run}`;
const CTRL = `argo-guard-ctrl-${run}`;
const OTHER = `argo-guard-other-${run}`;
const SA = "argo-rollouts";
const NAMES = controllerGuardNames(`streamforge-${APPS}`);
const guard = controllerGuard({
  controllerNamespace: CTRL,
  controllerServiceAccount: SA,
  appsNamespace: APPS,
  rolloutName: "queue-manager",
  namePrefix: `streamforge-${APPS}`,
});
const IMAGE = "ghcr.io/olehkondratow/streamforge-queue-manager:1.0.0";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "argo-guard-"));
let token = "";
/** An account holding the stack's own RBAC for the controller (rollouts/spec.ts controllerRbac) instead of the chart's. */
const STACK_SA = "argo-rollouts-stack";
const stackRbac = controllerRbac(
  { ...committedConfig("dev").rollouts!, controller: { ...committedConfig("dev").rollouts!.controller, namespace: CTRL } },
  STACK_SA,
);
let stackToken = "";
const as = (input: object | undefined, ...args: string[]) => kubectlWith(token, input, ...args);
const dryRun = (object: object) => as(object, "create", "--dry-run=server", "-f", "-");
const refusedBy = (policy: string) => `ValidatingAdmissionPolicy '${policy}' with binding '${policy}' denied request: `;
const verbs = (...v: string[]) => v;

/** The chart's controller rules (the parts this test exercises are all of them that write). */
const CHART_RULES = [
  {
    apiGroups: ["argoproj.io"],
    resources: ["rollouts", "rollouts/status", "rollouts/finalizers"],
    verbs: verbs("get", "list", "watch", "update", "patch"),
  },
  {
    apiGroups: ["argoproj.io"],
    resources: ["analysisruns", "analysisruns/finalizers", "experiments", "experiments/finalizers"],
    verbs: verbs("create", "get", "list", "watch", "update", "patch", "delete"),
  },
  { apiGroups: ["argoproj.io"], resources: ["analysistemplates", "clusteranalysistemplates"], verbs: verbs("get", "list", "watch") },
  { apiGroups: ["apps"], resources: ["replicasets"], verbs: verbs("create", "get", "list", "watch", "update", "patch", "delete") },
  { apiGroups: ["", "apps"], resources: ["deployments", "podtemplates"], verbs: verbs("get", "list", "watch", "update") },
  { apiGroups: [""], resources: ["services"], verbs: verbs("get", "list", "watch", "patch", "create", "delete") },
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: verbs("create", "get", "update") },
  { apiGroups: [""], resources: ["secrets", "configmaps"], verbs: verbs("get", "list", "watch") },
  { apiGroups: [""], resources: ["pods"], verbs: verbs("list", "update", "watch") },
  { apiGroups: [""], resources: ["pods/eviction"], verbs: verbs("create") },
  { apiGroups: [""], resources: ["events"], verbs: verbs("create", "update", "patch") },
  {
    apiGroups: ["networking.k8s.io", "extensions"],
    resources: ["ingresses"],
    verbs: verbs("create", "get", "list", "watch", "update", "patch"),
  },
  { apiGroups: ["batch"], resources: ["jobs"], verbs: verbs("create", "get", "list", "watch", "update", "patch", "delete") },
];

const template = {
  metadata: { labels: { "app.kubernetes.io/name": "queue-manager" } },
  spec: { serviceAccountName: "queue-manager", containers: [{ name: "queue-manager", image: IMAGE, ports: [{ containerPort: 8080 }] }] },
};
const rolloutObject = {
  apiVersion: "argoproj.io/v1alpha1",
  kind: "Rollout",
  metadata: { name: "queue-manager", namespace: APPS },
  spec: {
    replicas: 1,
    selector: { matchLabels: { "app.kubernetes.io/name": "queue-manager" } },
    template,
    strategy: { canary: { steps: [{ setWeight: 50 }, { pause: { duration: "1s" } }] } },
  },
};

/** The ReplicaSet the real controller made, as a new object to send again. */
let controllersReplicaSet: any;

beforeAll(async () => {
  requireEnv("KUBECONFIG");
  for (const ns of [APPS, CTRL, OTHER]) kubectl("create", "namespace", ns);
  const clusterRole = `argo-guard-${run}`;
  const objects = [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: SA, namespace: CTRL } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "queue-manager", namespace: APPS } },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: clusterRole }, rules: CHART_RULES },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: clusterRole },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
      subjects: [{ kind: "ServiceAccount", name: SA, namespace: CTRL }],
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "victim", namespace: APPS },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: "v" } },
        template: { metadata: { labels: { app: "v" } }, spec: { containers: [{ name: "c", image: "x" }] } },
      },
    },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: STACK_SA, namespace: CTRL } },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", ...stackRbac.clusterRole },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", ...stackRbac.clusterRoleBinding },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", ...stackRbac.role },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", ...stackRbac.roleBinding },
    rolloutObject,
    guard.scope.policy,
    guard.scope.binding,
    guard.replicaSets.policy,
    guard.replicaSets.binding,
  ];
  kubectlApply({ apiVersion: "v1", kind: "List", items: objects });
  token = serviceAccountKubeconfig(dir, CTRL, SA);
  stackToken = serviceAccountKubeconfig(dir, CTRL, STACK_SA);
  // The real controller (the local platform's, cluster-wide) reconciles the Rollout into a ReplicaSet.
  const rs = await eventually(
    "the controller's ReplicaSet",
    () => JSON.parse(kubectl("get", "replicasets", "-n", APPS, "-l", "app.kubernetes.io/name=queue-manager", "-o", "json")).items[0],
    120_000,
  );
  controllersReplicaSet = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: `${rs.metadata.name}-again`, namespace: APPS, labels: rs.metadata.labels, annotations: rs.metadata.annotations },
    spec: { ...rs.spec, selector: rs.spec.selector },
  };
  await untilEnforced(NAMES.scope, () =>
    dryRun({ ...controllersReplicaSet, metadata: { ...controllersReplicaSet.metadata, namespace: OTHER } }),
  );
  // The API server loads each policy on its own: the ReplicaSet guard may come a moment after the
  // scope guard (a fresh-clone run once saw a foreign image admitted just after the wait above).
  const foreign = structuredClone(controllersReplicaSet);
  foreign.spec.template.spec.containers[0].image = "docker.io/library/alpine:3";
  await untilEnforced(NAMES.replicaSets, () => dryRun(foreign));
}, 240_000);

afterAll(() => {
  deletePolicies(NAMES.scope, NAMES.replicaSets);
  kubectl("delete", "clusterrolebinding,clusterrole", `argo-guard-${run}`, STACK_SA, "--ignore-not-found");
  for (const ns of [APPS, CTRL, OTHER]) kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the Argo Rollouts controller's token, with the chart's cluster-wide rules", () => {
  it("type-checks every expression against the real schemas", async () => {
    for (const policy of [NAMES.scope, NAMES.replicaSets]) expect([policy, await policyTypeWarnings(policy)]).toEqual([policy, []]);
  });

  it("admits what the controller does for the Rollout: its ReplicaSet, a Service, its Lease", () => {
    expect(dryRun(controllersReplicaSet)).toEqual({
      ok: true,
      output: `replicaset.apps/${controllersReplicaSet.metadata.name} created (server dry run)`,
    });
    // Scaling the ReplicaSet it made (an update of replicas, the pod spec as it was) is admitted.
    const real = JSON.parse(
      kubectl("get", "replicaset", controllersReplicaSet.metadata.name.replace(/-again$/, ""), "-n", APPS, "-o", "json"),
    );
    real.spec.replicas = 0;
    expect(as(real, "replace", "--dry-run=server", "-f", "-")).toEqual({
      ok: true,
      output: `replicaset.apps/${real.metadata.name} replaced (server dry run)`,
    });
    const service = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "queue-manager-canary", namespace: APPS },
      spec: { ports: [{ port: 8080 }] },
    };
    expect(dryRun(service).ok).toBe(true);
    const lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "argo-rollouts-controller-lock", namespace: CTRL },
    };
    expect(dryRun(lease).ok).toBe(true);
  });

  it("refuses a ReplicaSet of another image or account, and one in a namespace it does not serve", () => {
    const other = structuredClone(controllersReplicaSet);
    other.spec.template.spec.containers[0].image = "docker.io/library/alpine:3";
    other.spec.template.spec.containers[0].command = ["sh", "-c", "cat /var/run/secrets/kubernetes.io/serviceaccount/token"];
    const refused = dryRun(other).output;
    expect(refused).toContain(
      `${refusedBy(NAMES.replicaSets)}spec.template: expected the pod template of the Rollout ${APPS}/queue-manager (containers queue-manager ${IMAGE} `,
    );
    expect(refused).toContain(
      "found queue-manager docker.io/library/alpine:3 sh -c cat /var/run/secrets/kubernetes.io/serviceaccount/token",
    );
    // queue-manager's own image and command, with a command of its own elsewhere (an attacker's review):
    // a postStart hook, an exec probe, an env var that loads code, a volume over its code, a label of its own.
    const variants: [string, (t: any) => void][] = [
      ["a postStart hook", (t) => (t.spec.containers[0].lifecycle = { postStart: { exec: { command: ["sh", "-c", "wget http://x/"] } } })],
      ["an exec probe", (t) => (t.spec.containers[0].livenessProbe = { exec: { command: ["sh", "-c", "id"] } })],
      ["NODE_OPTIONS", (t) => t.spec.containers[0].env.push({ name: "NODE_OPTIONS", value: "--import=data:text/javascript,x" })],
      [
        "a ConfigMap over its code",
        (t) => {
          t.spec.volumes.push({ name: "code", configMap: { name: "evil" } });
          t.spec.containers[0].volumeMounts.push({ name: "code", mountPath: "/app" });
        },
      ],
      // A label the Rollout's template lacks (the selector still matches): another workload's NetworkPolicy or PodMonitor would select it.
      ["a label of its own", (t) => (t.metadata.labels["app.kubernetes.io/component"] = "operator")],
    ];
    for (const [what, edit] of variants) {
      const rs = structuredClone(controllersReplicaSet);
      rs.spec.template.spec.containers[0].env ??= [];
      rs.spec.template.spec.volumes ??= [];
      rs.spec.template.spec.containers[0].volumeMounts ??= [];
      edit(rs.spec.template);
      expect([what, dryRun(rs).output]).toEqual([
        what,
        expect.stringContaining(`${refusedBy(NAMES.replicaSets)}spec.template: expected the pod template`),
      ]);
    }
    // Its own labels choose the Rollout that adopts it: only its template's.
    const relabelled = structuredClone(controllersReplicaSet);
    relabelled.metadata.labels = { ...relabelled.metadata.labels, extra: "x" };
    expect(dryRun(relabelled).output).toContain(
      `${refusedBy(NAMES.replicaSets)}metadata.labels: expected a ReplicaSet's labels to be its template's; found extra`,
    );
    const elsewhere = { ...controllersReplicaSet, metadata: { ...controllersReplicaSet.metadata, namespace: OTHER } };
    expect(dryRun(elsewhere).output).toContain(
      `${refusedBy(NAMES.scope)}expected the Argo Rollouts controller to write only in the namespaces it serves (${[APPS, CTRL].sort().join(", ")}); found CREATE apps/replicasets ${controllersReplicaSet.metadata.name} in ${OTHER}`,
    );
  });

  it("refuses a rewrite of the Rollout it is checked against, and a ReplicaSet in its own namespace (an attacker's review, finding 4)", () => {
    const patched = as(
      undefined,
      "patch",
      "rollout",
      "queue-manager",
      "-n",
      APPS,
      "--type=json",
      "-p",
      '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"alpine:3"}]',
    );
    expect(patched.output).toContain(
      `${refusedBy(NAMES.scope)}expected the Argo Rollouts controller to leave a Rollout's template, selector, strategy, workloadRef as declared; found a change to queue-manager`,
    );
    // What it does write: an annotation (its revision), admitted.
    expect(as(undefined, "annotate", "rollout", "queue-manager", "-n", APPS, "rollout.argoproj.io/revision=9", "--overwrite").ok).toBe(
      true,
    );
    const inOwn = { ...controllersReplicaSet, metadata: { ...controllersReplicaSet.metadata, namespace: CTRL } };
    expect(dryRun(inOwn).output).toContain(
      `${refusedBy(NAMES.scope)}expected no ReplicaSet or pod written by the Argo Rollouts controller in its own namespace (${CTRL}); found CREATE apps/replicasets`,
    );
  });

  it("refuses a change of a pod's spec: a worker's image swapped would run with that worker's credentials (an attacker's review)", async () => {
    const job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "worker", namespace: APPS },
      spec: {
        template: { metadata: { labels: { app: "worker" } }, spec: { restartPolicy: "Never", containers: [{ name: "c", image: "x" }] } },
      },
    };
    expect(kubectlWith(undefined, job, "create", "-f", "-").ok).toBe(true);
    const pod = await eventually(
      "the worker's pod",
      () => JSON.parse(kubectl("get", "pods", "-n", APPS, "-l", "app=worker", "-o", "json")).items[0],
    );
    const swapped = { ...pod, spec: { ...pod.spec, containers: [{ ...pod.spec.containers[0], image: "evil:1" }] } };
    expect(as(swapped, "replace", "-f", "-").output).toContain(
      `${refusedBy(NAMES.scope)}expected the Argo Rollouts controller to change a pod's metadata only; found a change of the spec of ${pod.metadata.name}`,
    );
    // Its labels (ephemeral metadata, written by update: the chart grants no patch on pods), admitted.
    // kwok updates the pod's status meanwhile: a replace that loses that race is a conflict, tried again.
    const relabelled = await eventually("the pod relabelled", () => {
      const current = JSON.parse(kubectl("get", "pod", pod.metadata.name, "-n", APPS, "-o", "json"));
      const r = as(
        { ...current, metadata: { ...current.metadata, labels: { ...current.metadata.labels, role: "canary" } } },
        "replace",
        "-f",
        "-",
      );
      return r.output.includes("the object has been modified") ? undefined : r;
    });
    expect(relabelled).toEqual({ ok: true, output: `pod/${pod.metadata.name} replaced` });
  });

  it("refuses what the chart grants and the canary never needs: a Deployment update, a Job", () => {
    // The chart grants update (not patch) on Deployments: a replace with a new image.
    const victim = JSON.parse(kubectl("get", "deployment", "victim", "-n", APPS, "-o", "json"));
    victim.spec.template.spec.containers[0].image = "evil:1";
    expect(as(victim, "replace", "-f", "-").output).toContain(
      `${refusedBy(NAMES.scope)}expected no Deployment, pod template, Job or Ingress written by the Argo Rollouts controller (no workloadRef, Job metric or ingress router here); found UPDATE apps/deployments victim`,
    );
    const exposed = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "qm-exposed", namespace: APPS },
      spec: { type: "NodePort", selector: { "app.kubernetes.io/name": "queue-manager" }, ports: [{ port: 8080 }] },
    };
    expect(dryRun(exposed).output).toContain(`${refusedBy(NAMES.scope)}expected only ClusterIP Services without external IPs`);
    const job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "j", namespace: APPS },
      spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "x" }] } } },
    };
    expect(dryRun(job).output).toContain(`${refusedBy(NAMES.scope)}expected no Deployment`);
  });
});

describe("the Argo Rollouts controller's token, with the stack's own RBAC (rollouts/spec.ts controllerRbac)", () => {
  const asStack = (input: object | undefined, ...args: string[]) => kubectlWith(stackToken, input, ...args);
  const user = `system:serviceaccount:${CTRL}:${STACK_SA}`;

  it("may still do what the controller does for the Rollout: its ReplicaSet, a Service, its Lease, its notification Secret", () => {
    expect(asStack(controllersReplicaSet, "create", "--dry-run=server", "-f", "-")).toEqual({
      ok: true,
      output: `replicaset.apps/${controllersReplicaSet.metadata.name} created (server dry run)`,
    });
    const service = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "qm-stack", namespace: APPS },
      spec: { ports: [{ port: 8080 }] },
    };
    expect(asStack(service, "create", "--dry-run=server", "-f", "-").ok).toBe(true);
    const lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "argo-rollouts-controller-lock", namespace: CTRL },
    };
    expect(asStack(lease, "create", "--dry-run=server", "-f", "-").ok).toBe(true);
    // Its informers' lists, cluster-wide, as the controller starts them.
    for (const resource of ["rollouts.argoproj.io", "replicasets", "services", "jobs", "ingresses.networking.k8s.io", "deployments"])
      expect([resource, asStack(undefined, "get", resource, "-A", "-o", "name").ok]).toEqual([resource, true]);
    // Its notification Secret, in its own namespace (absent here: NotFound, not Forbidden).
    expect(asStack(undefined, "get", "secret", "argo-rollouts-notification-secret", "-n", CTRL).output).toContain("NotFound");
  });

  it("reads no Secret outside its namespace, and cannot write what the canary never needs", () => {
    expect(asStack(undefined, "get", "secrets", "-n", APPS).output).toContain(
      `User "${user}" cannot list resource "secrets" in API group "" in the namespace "${APPS}"`,
    );
    expect(asStack(undefined, "get", "secrets", "-A").output).toContain(
      `User "${user}" cannot list resource "secrets" in API group "" at the cluster scope`,
    );
    const victim = JSON.parse(kubectl("get", "deployment", "victim", "-n", APPS, "-o", "json"));
    victim.spec.template.spec.containers[0].image = "evil:1";
    expect(asStack(victim, "replace", "-f", "-").output).toContain(
      `User "${user}" cannot update resource "deployments" in API group "apps"`,
    );
    const job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "j", namespace: APPS },
      spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "x" }] } } },
    };
    expect(asStack(job, "create", "--dry-run=server", "-f", "-").output).toContain(
      `User "${user}" cannot create resource "jobs" in API group "batch"`,
    );
  });
});
