/**
 * Litmus' operator as the stack installs it (chaos/litmus-operator.ts: its ServiceAccount, Role and
 * binding), in the REAL API server, tried with its own token in a privileged namespace of this
 * test: every call chaos-operator 3.18.0 makes is admitted (its cache's lists and watches, the
 * runner pod as it builds it, engine and result updates, its own pods and Jobs deleted by chaosUID,
 * events, its leader Lease); what the litmus-core chart's Role would also have let it do (read
 * ConfigMaps, logs, Services; exec; write Deployments or experiments) is refused by its Role; and
 * what its Role must allow but only in one shape (a pod in the privileged namespace, a pod's
 * deletion) is held by the guard, refused with the policy's message. Its Deployment is admitted
 * by a restricted namespace without a warning.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { podSecurityLabels } from "../../infra/kit/namespaces";
import { committedConfig } from "../../test/helpers";
import {
  deletePolicies,
  kubectl,
  kubectlWith,
  policyTypeWarnings,
  requireEnv,
  serviceAccountKubeconfig,
  untilEnforced,
  kubectlApply,
} from "../../test/integration/local-platform";
import { WORKER_POD_PATTERN } from "../guard";
import { LEADER_LEASE, LITMUS_OPERATOR, litmusOperatorObjects } from "../litmus-operator";
import { litmusOperatorGuard, litmusOperatorGuardName } from "../operator-guard";
import { EXPERIMENT_SECURITY_CONTEXT, LITMUS_API_VERSION, chaosExperiment } from "../spec";

const run = randomBytes(3).toString("hex");
const CHAOS = `litmus-op-${run}`;
const RESTRICTED = `litmus-op-r-${run}`;
const OPERATOR = LITMUS_OPERATOR;
const chaos = { ...committedConfig("dev").chaos!, namespace: CHAOS };
const operator = litmusOperatorObjects(chaos);
const APPS = "stf";
const guard = litmusOperatorGuard({
  chaosNamespace: CHAOS,
  operatorServiceAccount: OPERATOR,
  chaosRunnerImage: chaos.chaosRunnerImage,
  targets: [{ namespace: APPS, podPattern: WORKER_POD_PATTERN }],
  priorityClasses: chaos.priorityClasses,
  namePrefix: `streamforge-${CHAOS}`,
});
const POLICY = litmusOperatorGuardName(`streamforge-${CHAOS}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "litmus-op-"));
let token = "";
const as = (input: object | undefined, ...args: string[]) => kubectlWith(token, input, ...args);
const dryRun = (object: object) => as(object, "create", "--dry-run=server", "-f", "-");
const REFUSED = `ValidatingAdmissionPolicy '${POLICY}' with binding '${POLICY}' denied request: `;
const NOT_OPERATOR_WORK =
  "expected only what chaos-operator 3.18.0 does (create runner pods, update engines (engineState only to stop, or unset to active) and results (never their verdict), delete its own pods and Jobs by chaosUID, events); found ";

/** What RBAC answers a request its Role does not grant. */
const forbidden = (verb: string, resource: string, group = "") =>
  `User "system:serviceaccount:${CHAOS}:${OPERATOR}" cannot ${verb} resource "${resource}" in API group "${group}" in the namespace "${CHAOS}"`;

/** The runner pod as chaos-operator 3.18.0 builds it (controllers/chaosengine_controller.go L170-244). */
const runnerPod = (edit: (spec: any) => void = () => {}) => {
  const spec: any = {
    serviceAccountName: "chaos-pod-delete",
    restartPolicy: "OnFailure",
    // The experiment's securityContext (chaos/spec.ts EXPERIMENT_SECURITY_CONTEXT, L205-236).
    securityContext: EXPERIMENT_SECURITY_CONTEXT.podSecurityContext,
    containers: [
      {
        name: "chaos-runner",
        image: chaos.chaosRunnerImage,
        imagePullPolicy: "IfNotPresent",
        env: [
          { name: "CHAOSENGINE", value: "e1" },
          { name: "TARGETS", value: `pod:${APPS}:[q1-loader-producer-abcde]` },
          { name: "EXPERIMENT_LIST", value: "pod-delete" },
          { name: "CHAOS_SVC_ACC", value: "chaos-pod-delete" },
          { name: "CLIENT_UUID", value: "" },
          { name: "CHAOS_NAMESPACE", value: CHAOS },
        ],
        securityContext: EXPERIMENT_SECURITY_CONTEXT.containerSecurityContext,
      },
    ],
  };
  edit(spec);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "e1-runner", namespace: CHAOS, labels: { app: "e1", chaosUID: "u1", "app.kubernetes.io/part-of": "litmus" } },
    spec,
  };
};

beforeAll(async () => {
  requireEnv("KUBECONFIG");
  for (const [ns, level] of [
    [CHAOS, "privileged"],
    [RESTRICTED, "restricted"],
  ] as const) {
    kubectl("create", "namespace", ns);
    kubectl("label", "namespace", ns, ...Object.entries(podSecurityLabels(level)).map(([k, v]) => `${k}=${v}`));
  }
  const engine = {
    apiVersion: LITMUS_API_VERSION,
    kind: "ChaosEngine",
    metadata: { name: "e1", namespace: CHAOS },
    spec: { engineState: "stop", chaosServiceAccount: "chaos-pod-delete", experiments: [{ name: "pod-delete" }] },
  };
  const bare = (name: string, labels: Record<string, string>) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: CHAOS, labels },
    spec: { containers: [{ name: "c", image: "registry.local/x:1" }] },
  });
  const objects = [
    operator.serviceAccount,
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "chaos-pod-delete", namespace: CHAOS } },
    operator.role,
    operator.binding,
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: CHAOS }, data: { k: "v" } },
    {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "e1-pod-delete", namespace: CHAOS, labels: { chaosUID: "u1" } },
      spec: { suspend: true, template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "registry.local/x:1" }] } } },
    },
    chaosExperiment("pod-delete", chaos),
    engine,
    {
      apiVersion: LITMUS_API_VERSION,
      kind: "ChaosResult",
      metadata: { name: "e1-pod-delete", namespace: CHAOS, labels: { chaosUID: "u1" } },
      spec: { engine: "e1", experiment: "pod-delete" },
    },
    bare("e1-helper-abcde", { chaosUID: "u1" }),
    bare("chaos-exporter-abcde", { app: "chaos-exporter" }),
    guard.policy,
    guard.binding,
  ];
  kubectlApply({ apiVersion: "v1", kind: "List", items: objects });
  token = serviceAccountKubeconfig(dir, CHAOS, OPERATOR);
  await untilEnforced(POLICY, () => dryRun(runnerPod((s) => (s.containers[0].image = "docker.io/library/alpine:3"))));
}, 120_000);

afterAll(() => {
  deletePolicies(POLICY);
  for (const ns of [CHAOS, RESTRICTED]) kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("Litmus' operator, with its own token, Role and guard", () => {
  it("type-checks every expression against the real schemas", async () => {
    expect(await policyTypeWarnings(POLICY)).toEqual([]);
  });

  it("does what chaos-operator does: reads its cache, the runner pod, engine and result updates, its own pods and Jobs deleted, events, its Lease", () => {
    // The manager's cache lists and watches what the controller reads (main.go L95; Get L173 L273, List L748, Owns(Pod) L861).
    for (const kind of ["chaosengines", "chaosexperiments", "chaosresults", "pods"]) {
      expect([kind, as(undefined, "get", kind, "-n", CHAOS, "-o", "name").ok]).toEqual([kind, true]);
      expect([kind, as(undefined, "auth", "can-i", "watch", kind, "-n", CHAOS).output]).toEqual([kind, "yes"]);
    }
    const runner = dryRun(runnerPod());
    expect({ ok: runner.ok, output: runner.output.split("\n")[0] }).toEqual({ ok: true, output: "pod/e1-runner created (server dry run)" });
    expect(as(undefined, "annotate", "chaosengine", "e1", "-n", CHAOS, "litmuschaos.io/test=1")).toEqual({
      ok: true,
      output: "chaosengine.litmuschaos.io/e1 annotated",
    });
    // updateChaosResult (L758-762): an update (not a patch) of its annotations and target history.
    const result = JSON.parse(as(undefined, "get", "chaosresult", "e1-pod-delete", "-n", CHAOS, "-o", "json").output);
    result.metadata.annotations = { "litmuschaos.io/targets": "1" };
    expect(as(result, "replace", "-f", "-")).toEqual({ ok: true, output: "chaosresult.litmuschaos.io/e1-pod-delete replaced" });
    expect(as(undefined, "delete", "pod", "e1-helper-abcde", "-n", CHAOS, "--wait=false")).toEqual({
      ok: true,
      output: `pod "e1-helper-abcde" deleted from ${CHAOS} namespace`,
    });
    const event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "e1.1", namespace: CHAOS },
      involvedObject: { kind: "ChaosEngine", name: "e1", namespace: CHAOS },
      reason: "ChaosEngineInitialized",
      message: "test",
    };
    expect(dryRun(event).ok).toBe(true);
    // forceRemoveChaosResources (L376-391): a collection delete of its Jobs and pods by chaosUID, in the background.
    const jobs = as(
      undefined,
      "delete",
      "--raw",
      `/apis/batch/v1/namespaces/${CHAOS}/jobs?labelSelector=chaosUID%3Du1&propagationPolicy=Background`,
    );
    expect({ ok: jobs.ok, deleted: JSON.parse(jobs.output).items.map((j: any) => j.metadata.name) }).toEqual({
      ok: true,
      deleted: ["e1-pod-delete"],
    });
    // Leader election (main.go L93-94; controller-runtime v0.14.6 leases): create, get, update.
    const lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: LEADER_LEASE, namespace: CHAOS },
      spec: { holderIdentity: "chaos-operator-1", leaseDurationSeconds: 15 },
    };
    expect(as(lease, "create", "-f", "-")).toEqual({ ok: true, output: "lease.coordination.k8s.io/chaos-operator.lock created" });
    const held = JSON.parse(as(undefined, "get", "lease", "chaos-operator.lock", "-n", CHAOS, "-o", "json").output);
    held.spec.holderIdentity = "chaos-operator-2";
    expect(as(held, "replace", "-f", "-")).toEqual({ ok: true, output: "lease.coordination.k8s.io/chaos-operator.lock replaced" });
    // Another Lease it may not read or take over: only its own is named in its Role.
    expect(as(undefined, "get", "lease", "kube-controller-manager", "-n", CHAOS).output).toContain(
      forbidden("get", "leases", "coordination.k8s.io"),
    );
  });

  it("is refused by its Role what the chart's Role granted and it never does: ConfigMaps, logs, Services, exec, Deployments, experiments, Secrets", () => {
    expect(as(undefined, "get", "configmap", "c", "-n", CHAOS).output).toContain(forbidden("get", "configmaps"));
    expect(as(undefined, "get", "secrets", "-n", CHAOS).output).toContain(forbidden("list", "secrets"));
    expect(as(undefined, "get", "services", "-n", CHAOS).output).toContain(forbidden("list", "services"));
    expect(as(undefined, "get", "deployments", "-n", CHAOS).output).toContain(forbidden("list", "deployments", "apps"));
    expect(as(undefined, "logs", "chaos-exporter-abcde", "-n", CHAOS).output).toContain(forbidden("get", "pods/log"));
    expect(as(undefined, "exec", "chaos-exporter-abcde", "-n", CHAOS, "--", "true").output).toContain(forbidden("create", "pods/exec"));
    expect(as(undefined, "annotate", "chaosexperiment", "pod-delete", "-n", CHAOS, "x=1").output).toContain(
      forbidden("patch", "chaosexperiments", "litmuschaos.io"),
    );
    expect(as(undefined, "label", "pod", "chaos-exporter-abcde", "-n", CHAOS, "x=1").output).toContain(forbidden("patch", "pods"));
  });

  it("runs as a Deployment a restricted namespace admits without a warning", () => {
    const deployment = { ...operator.deployment, metadata: { ...operator.deployment.metadata, namespace: RESTRICTED } };
    expect(kubectlWith(undefined, deployment, "create", "--dry-run=server", "-f", "-")).toEqual({
      ok: true,
      output: `deployment.apps/${OPERATOR} created (server dry run)`,
    });
  });

  it("is refused by the guard what its Role allows in one shape only: any pod but the runner, any deletion but its own pods'", () => {
    const privileged = dryRun(runnerPod((s) => Object.assign(s, { hostPID: true, nodeName: "node-1" })));
    expect(privileged.output).toContain(
      `${REFUSED}pods: expected the runner pod as chaos-operator builds it (one chaos-runner container of ${chaos.chaosRunnerImage}, named after its engine, its env as the engine gives it: this namespace, a fault's account and that fault, targets among the scenarios' pods; no command, no root, nothing of the host, no priority class beyond streamforge:chaos.priorityClasses); found chaos-runner ${chaos.chaosRunnerImage} as chaos-pod-delete`,
    );
    const ownAccount = dryRun(runnerPod((s) => (s.serviceAccountName = OPERATOR)));
    expect(ownAccount.output).toContain(`${REFUSED}pods: expected the runner pod`);
    // A command of its own as a fault's account, tolerating every taint, as root (the review's finding 3).
    const shell = dryRun(
      runnerPod((s) => {
        s.containers[0].command = ["/bin/bash", "-c", "cat /var/run/secrets/kubernetes.io/serviceaccount/token; sleep 1d"];
        s.tolerations = [{ operator: "Exists" }];
        s.securityContext = { runAsUser: 0 };
      }),
    );
    expect(shell.output).toContain(`${REFUSED}pods: expected the runner pod`);
    // A class that would preempt the brokers: the API server's Priority admission resolves it, the guard refuses it.
    const preempting = dryRun(runnerPod((s) => (s.priorityClassName = "system-node-critical")));
    expect(preempting.output).toContain(`${REFUSED}pods: expected the runner pod`);
    const otherImage = dryRun(runnerPod((s) => (s.containers[0].image = "docker.io/library/alpine:3")));
    expect(otherImage.output).toContain(`found chaos-runner docker.io/library/alpine:3 as chaos-pod-delete`);
    // Its runner aimed at what no scenario targets, or at another fault than its account's.
    const aimed = dryRun(
      runnerPod(
        (spec) => (spec.containers[0].env.find((e: any) => e.name === "TARGETS").value = `pod:${APPS}:[queue-manager-7d9f8-abcde]`),
      ),
    );
    expect(aimed.output).toContain(`${REFUSED}pods: expected the runner pod`);
    const otherFault = dryRun(
      runnerPod((spec) => (spec.containers[0].env.find((e: any) => e.name === "EXPERIMENT_LIST").value = "pod-network-latency")),
    );
    expect(otherFault.output).toContain(`${REFUSED}pods: expected the runner pod`);
    // Starting a stopped engine is the scheduler's or a person's, never the operator's (it sets active only from unset).
    expect(
      as(undefined, "patch", "chaosengine", "e1", "-n", CHAOS, "--type", "merge", "-p", '{"spec":{"engineState":"active"}}').output,
    ).toContain(`${REFUSED}${NOT_OPERATOR_WORK}UPDATE litmuschaos.io/chaosengines e1`);
    // A result's verdict is the experiment's, never the operator's.
    const verdict = JSON.parse(as(undefined, "get", "chaosresult", "e1-pod-delete", "-n", CHAOS, "-o", "json").output);
    verdict.status = { ...verdict.status, experimentStatus: { ...verdict.status?.experimentStatus, verdict: "Pass" } };
    expect(as(verdict, "replace", "-f", "-").output).toContain(
      `${REFUSED}${NOT_OPERATOR_WORK}UPDATE litmuschaos.io/chaosresults e1-pod-delete`,
    );
    expect(as(undefined, "delete", "pod", "chaos-exporter-abcde", "-n", CHAOS).output).toContain(
      `${REFUSED}${NOT_OPERATOR_WORK}DELETE pods chaos-exporter-abcde`,
    );
  });
});
