/**
 * Litmus' operator's guard in the REAL API server, tried with the token of an account holding the
 * litmus-core chart's own namespaced Role (litmus-helm litmus-core-3.28.1
 * charts/litmus-core/templates/namespaced-role.yaml L8-19, restated below) in a privileged
 * namespace of this test: what chaos-operator 3.18.0 does is admitted (the runner pod as it builds
 * it, engine and result updates, deleting its own pods by chaosUID); what the chart's Role would
 * also let its token do (a privileged pod or Deployment, exec, rewriting an experiment, deleting
 * another pod) is refused with the policy's message.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { podSecurityLabels } from "../../infra/kit/namespaces";
import { committedConfig } from "../../test/helpers";
import {
  eventually,
  kubectl,
  kubectlWith,
  policyTypeWarnings,
  requireEnv,
  serviceAccountKubeconfig,
} from "../../test/integration/local-platform";
import { litmusOperatorGuard, litmusOperatorGuardName } from "../operator-guard";
import { EXPERIMENT_SECURITY_CONTEXT, LITMUS_API_VERSION, chaosExperiment } from "../spec";

const run = randomBytes(3).toString("hex");
const CHAOS = `litmus-op-${run}`;
const OPERATOR = "litmus-core";
const chaos = committedConfig("dev").chaos!;
const guard = litmusOperatorGuard({
  chaosNamespace: CHAOS,
  operatorServiceAccount: OPERATOR,
  chaosRunnerImage: chaos.chaosRunnerImage,
  namePrefix: `streamforge-${CHAOS}`,
});
const POLICY = litmusOperatorGuardName(`streamforge-${CHAOS}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "litmus-op-"));
let token = "";
const as = (input: object | undefined, ...args: string[]) => kubectlWith(token, input, ...args);
const dryRun = (object: object) => as(object, "create", "--dry-run=server", "-f", "-");
const REFUSED = `ValidatingAdmissionPolicy '${POLICY}' with binding '${POLICY}' denied request: `;
const NOT_OPERATOR_WORK =
  "expected only what chaos-operator 3.18.0 does (create runner pods, update engines and results, delete its own pods and Jobs by chaosUID, events); found ";

/** The chart's namespaced Role, as litmus-core-3.28.1 renders it. */
const CHART_ROLE_RULES = [
  {
    apiGroups: ["", "apps", "batch", "extensions", "litmuschaos.io", "argoproj.io"],
    resources: [
      ...["pods", "pods/exec", "pods/log", "pods/eviction", "jobs", "deployments", "daemonsets", "statefulsets", "events"],
      ...["configmaps", "services", "rollouts", "chaosengines", "chaosexperiments", "chaosresults"],
    ],
    verbs: ["get", "create", "update", "patch", "delete", "list", "watch", "deletecollection"],
  },
  { apiGroups: ["litmuschaos.io"], resources: ["chaosengines/finalizers"], verbs: ["update"] },
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "list", "update", "delete"] },
];

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
  kubectl("create", "namespace", CHAOS);
  kubectl("label", "namespace", CHAOS, ...Object.entries(podSecurityLabels("privileged")).map(([k, v]) => `${k}=${v}`));
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
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: OPERATOR, namespace: CHAOS } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "chaos-pod-delete", namespace: CHAOS } },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: OPERATOR, namespace: CHAOS }, rules: CHART_ROLE_RULES },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: OPERATOR, namespace: CHAOS },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: OPERATOR },
      subjects: [{ kind: "ServiceAccount", name: OPERATOR, namespace: CHAOS }],
    },
    { ...chaosExperiment("pod-delete", chaos), metadata: { ...chaosExperiment("pod-delete", chaos).metadata, namespace: CHAOS } },
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
  const applied = kubectlWith(undefined, { apiVersion: "v1", kind: "List", items: objects }, "apply", "-f", "-");
  if (!applied.ok) throw new Error(`kubectl apply failed: ${applied.output}`);
  token = serviceAccountKubeconfig(dir, CHAOS, OPERATOR);
  await eventually("the Litmus operator's guard enforced", () =>
    dryRun(runnerPod((s) => (s.containers[0].image = "docker.io/library/alpine:3"))).output.includes(`'${POLICY}'`) ? true : undefined,
  );
}, 120_000);

afterAll(() => {
  kubectl("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", POLICY, "--ignore-not-found");
  kubectl("delete", "namespace", CHAOS, "--ignore-not-found", "--wait=false");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("Litmus' operator, with its token and the chart's Role", () => {
  it("type-checks every expression against the real schemas", async () => {
    expect(await policyTypeWarnings(POLICY)).toEqual([]);
  });

  it("does what chaos-operator does: the runner pod, engine and result updates, its own pods deleted, events", () => {
    const runner = dryRun(runnerPod());
    expect({ ok: runner.ok, output: runner.output.split("\n")[0] }).toEqual({ ok: true, output: "pod/e1-runner created (server dry run)" });
    expect(as(undefined, "annotate", "chaosengine", "e1", "-n", CHAOS, "litmuschaos.io/test=1")).toEqual({
      ok: true,
      output: "chaosengine.litmuschaos.io/e1 annotated",
    });
    expect(as(undefined, "annotate", "chaosresult", "e1-pod-delete", "-n", CHAOS, "litmuschaos.io/targets=1")).toEqual({
      ok: true,
      output: "chaosresult.litmuschaos.io/e1-pod-delete annotated",
    });
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
  });

  it("refuses the rest of the chart's Role: privileged pods and Deployments, exec, experiments, other pods", () => {
    const privileged = dryRun(runnerPod((s) => Object.assign(s, { hostPID: true, nodeName: "node-1" })));
    expect(privileged.output).toContain(
      `${REFUSED}pods: expected the runner pod as chaos-operator builds it (one chaos-runner container of ${chaos.chaosRunnerImage} with its env only, a fault's account, no command, no root, nothing of the host); found chaos-runner ${chaos.chaosRunnerImage} as chaos-pod-delete`,
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
    const otherImage = dryRun(runnerPod((s) => (s.containers[0].image = "docker.io/library/alpine:3")));
    expect(otherImage.output).toContain(`found chaos-runner docker.io/library/alpine:3 as chaos-pod-delete`);
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "root", namespace: CHAOS },
      spec: {
        selector: { matchLabels: { app: "root" } },
        template: {
          metadata: { labels: { app: "root" } },
          spec: { hostPID: true, containers: [{ name: "c", image: "x", securityContext: { privileged: true } }] },
        },
      },
    };
    expect(dryRun(deployment).output).toContain(`${REFUSED}${NOT_OPERATOR_WORK}CREATE apps/deployments root`);
    expect(as(undefined, "exec", "chaos-exporter-abcde", "-n", CHAOS, "--", "true").output).toContain(
      `${REFUSED}${NOT_OPERATOR_WORK}CONNECT pods/exec chaos-exporter-abcde`,
    );
    expect(as(undefined, "annotate", "chaosexperiment", "pod-delete", "-n", CHAOS, "x=1").output).toContain(
      `${REFUSED}${NOT_OPERATOR_WORK}UPDATE litmuschaos.io/chaosexperiments pod-delete`,
    );
    expect(as(undefined, "delete", "pod", "chaos-exporter-abcde", "-n", CHAOS).output).toContain(
      `${REFUSED}${NOT_OPERATOR_WORK}DELETE pods chaos-exporter-abcde`,
    );
  });
});
