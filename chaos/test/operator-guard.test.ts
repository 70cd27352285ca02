/**
 * Litmus' operator's guard: bound in each stack that installs Litmus, to the account its Deployment
 * runs as, and its CEL evaluated locally (test/cel.ts); operator-guard.itest.ts tries it with that
 * account's real token and Role against the real API server.
 */
import { createPlatform } from "../../infra/platform";
import { knownStacks, runUnderMocks } from "../../infra/render/render";
import { type AdmissionRequest, admit } from "../../test/cel";
import { committedConfig } from "../../test/helpers";
import { LITMUS_OPERATOR } from "../litmus-operator";
import { litmusOperatorGuard } from "../operator-guard";
import { WORKER_POD_PATTERN, brokerPodPattern } from "../guard";

const guard = litmusOperatorGuard({
  chaosNamespace: "chaos",
  operatorServiceAccount: LITMUS_OPERATOR,
  chaosRunnerImage: "litmuschaos/chaos-runner:3.18.0",
  targets: [
    { namespace: "stf", podPattern: WORKER_POD_PATTERN },
    { namespace: "kafka", podPattern: brokerPodPattern("k3", "brokers") },
  ],
  priorityClasses: ["cluster-default"],
  namePrefix: "streamforge-chaos",
});
const as = (request: Omit<AdmissionRequest, "userInfo">) =>
  admit(guard.policy, { userInfo: { username: `system:serviceaccount:chaos:${LITMUS_OPERATOR}` }, ...request });
const resource = (group: string, name: string) => ({ group, version: "v1", resource: name });

describe("Litmus' operator's guard", () => {
  /** The runner pod of engine `e` as chaos-operator 3.18.0 builds it (getChaosRunnerENV L142-154), then `edit`ed. */
  const runner = (edit: (pod: any, env: Record<string, string>) => void = () => {}) => {
    const env: Record<string, string> = {
      CHAOSENGINE: "e",
      TARGETS: "pod:stf:[q1-loader-producer-abcde,q2-loader-ws-fghij]",
      EXPERIMENT_LIST: "pod-delete",
      CHAOS_SVC_ACC: "chaos-pod-delete",
      CHAOS_NAMESPACE: "chaos",
    };
    const pod: any = {
      metadata: { name: "e-runner" },
      spec: { serviceAccountName: "chaos-pod-delete", containers: [{ name: "chaos-runner", image: "litmuschaos/chaos-runner:3.18.0" }] },
    };
    edit(pod, env);
    pod.spec.containers[0].env = Object.entries(env).map(([name, value]) => ({ name, value }));
    return { operation: "CREATE" as const, resource: resource("", "pods"), object: pod };
  };

  it("admits the runner pod as chaos-operator builds it, and refuses one of another image or account", () => {
    expect(as(runner())).toBe("admitted");
    expect(as(runner((p) => (p.spec.containers[0].image = "alpine")))).toContain("found chaos-runner alpine as chaos-pod-delete");
    expect(as(runner((p) => (p.spec.serviceAccountName = LITMUS_OPERATOR)))).toContain(`as ${LITMUS_OPERATOR}`);
  });

  it("holds the runner's env to the engine's values: its name, this namespace, the account's own fault, targets among the scenarios' pods", () => {
    const refused = "expected the runner pod as chaos-operator builds it";
    // Brokers of the scenario's pool, and tracing's span context (chaos-operator 9d38a70b).
    expect(as(runner((_, env) => (env.TARGETS = "pod:kafka:[k3-brokers-3];pod:stf:[q1-arango-connector-abcde]")))).toBe("admitted");
    // The cluster's default class, which Kubernetes writes into every pod naming none, when the stack lists it.
    expect(as(runner((p) => (p.spec.priorityClassName = "cluster-default")))).toBe("admitted");
    expect(as(runner((_, env) => (env.TRACE_PARENT = '{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}')))).toBe(
      "admitted",
    );
    const bypasses: [string, (pod: any, env: Record<string, string>) => void][] = [
      ["queue-manager as a target", (_, env) => (env.TARGETS = "pod:stf:[queue-manager-7d9f8-abcde]")],
      ["a second name smuggled into one", (_, env) => (env.TARGETS = "pod:stf:[queue-manager-7d9f8-abcde;x-loader-ws-abcde]")],
      ["a name holding a comma", (_, env) => (env.TARGETS = "pod:stf:[queue-manager-7d9f8-abcde,]-loader-ws-abcde]")],
      ["another pool's broker", (_, env) => (env.TARGETS = "pod:kafka:[k3-controllers-0]")],
      ["another namespace", (_, env) => (env.TARGETS = "pod:kube-system:[q1-loader-producer-abcde]")],
      ["no targets", (_, env) => delete env.TARGETS],
      ["another fault for the account", (_, env) => (env.EXPERIMENT_LIST = "pod-network-latency")],
      ["another account than the pod's", (_, env) => (env.CHAOS_SVC_ACC = "chaos-pod-network-latency")],
      ["another namespace for its results", (_, env) => (env.CHAOS_NAMESPACE = "kube-system")],
      ["a name not its engine's", (p) => (p.metadata.name = "other-runner")],
      ["an env of its own", (_, env) => (env.LIB_IMAGE = "alpine")],
      ["a tracing endpoint", (_, env) => (env.OTEL_EXPORTER_OTLP_ENDPOINT = "evil.example:4317")],
      ["an affinity", (p) => (p.spec.affinity = { nodeAffinity: {} })],
      ["a host port", (p) => (p.spec.containers[0].ports = [{ containerPort: 80, hostPort: 80 }])],
      ["a priority class that preempts the brokers", (p) => (p.spec.priorityClassName = "system-node-critical")],
      [
        "a Secret in a token-named volume",
        (p) => (p.spec.volumes = [{ name: "kube-api-access-x", projected: { sources: [{ secret: { name: "kafka-admin" } }] } }]),
      ],
    ];
    for (const [what, edit] of bypasses) expect([what, as(runner(edit))]).toEqual([what, expect.stringContaining(refused)]);
  });

  it("moves an engine's state only as chaos-operator does, and never a result's verdict", () => {
    const update = (kind: string, oldObject: object, object: object) => ({
      operation: "UPDATE" as const,
      resource: resource("litmuschaos.io", kind),
      name: "e",
      oldObject,
      object,
    });
    const engine = (engineState?: string) => ({ metadata: { name: "e" }, spec: engineState === undefined ? {} : { engineState } });
    expect(as(update("chaosengines", engine(), engine("active")))).toBe("admitted");
    expect(as(update("chaosengines", engine("active"), engine("stop")))).toBe("admitted");
    expect(as(update("chaosengines", engine("stop"), engine("stop")))).toBe("admitted");
    expect(as(update("chaosengines", engine("stop"), engine("active")))).toContain("found UPDATE litmuschaos.io/chaosengines e");
    const result = (verdict: string, targets: object[] = []) => ({
      metadata: { name: "e" },
      spec: { engine: "e", experiment: "pod-delete" },
      status: { experimentStatus: { verdict }, history: { passedRuns: 1, targets } },
    });
    expect(as(update("chaosresults", result("Fail"), result("Fail", [{ name: "p", kind: "pod", chaosStatus: "injected" }])))).toBe(
      "admitted",
    );
    expect(as(update("chaosresults", result("Fail"), result("Pass")))).toContain("found UPDATE litmuschaos.io/chaosresults e");
  });

  it("refuses a Deployment, exec and an experiment update; leaves other accounts alone", () => {
    expect(as({ operation: "CREATE", resource: resource("apps", "deployments"), name: "d", object: {} })).toContain(
      "found CREATE apps/deployments d",
    );
    expect(as({ operation: "CONNECT", resource: resource("", "pods"), subResource: "exec", name: "p", object: {} })).toContain(
      "found CONNECT pods/exec p",
    );
    expect(as({ operation: "UPDATE", resource: resource("litmuschaos.io", "chaosexperiments"), name: "x", object: {} })).toContain(
      "found UPDATE litmuschaos.io/chaosexperiments x",
    );
    expect(admit(guard.policy, { operation: "CREATE", userInfo: { username: "alice" } })).toBe("not checked");
  });

  it.each(knownStacks())("%s: is bound to the account Litmus' operator runs as, where the stack installs it", async (stack) => {
    const config = committedConfig(stack);
    const { resources } = await runUnderMocks({ project: "streamforge", stack, config: {} }, () => void createPlatform(config));
    const inputs = resources.map((r) => r.inputs as any);
    const policy = inputs.find((o) => o.kind === "ValidatingAdmissionPolicy" && o.metadata.name.endsWith("-litmus-operator-guard"));
    const deployment = inputs.find((o) => o.kind === "Deployment" && o.spec.template.spec.containers[0].name === LITMUS_OPERATOR);
    if (!config.chaos?.enabled || !config.chaos.operator.install) return expect([policy, deployment]).toEqual([undefined, undefined]);
    const { namespace } = deployment.metadata;
    expect(policy.spec.matchConditions[0].expression).toBe(
      `request.userInfo.username == "system:serviceaccount:${namespace}:${deployment.spec.template.spec.serviceAccountName}"`,
    );
  });
});
