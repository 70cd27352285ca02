/**
 * The Argo Rollouts controller's guard in the stacks that install the controller: bound to the
 * chart's account, its ReplicaSet policy's parameter the stack's own Rollout; its CEL evaluated
 * locally (test/cel.ts). controller-guard.itest.ts tries it with a token holding the chart's rules.
 */
import { createPlatform } from "../../infra/platform";
import { knownStacks, runUnderMocks } from "../../infra/render/render";
import { admit } from "../../test/cel";
import { committedConfig } from "../../test/helpers";
import { ROLLOUTS_RELEASE } from "../component";
import { controllerGuard } from "../controller-guard";

const guard = controllerGuard({
  controllerNamespace: "argo-rollouts",
  controllerServiceAccount: ROLLOUTS_RELEASE,
  appsNamespace: "stf",
  rolloutName: "queue-manager",
  namePrefix: "streamforge-stf",
});
const username = `system:serviceaccount:argo-rollouts:${ROLLOUTS_RELEASE}`;
const write = (operation: "CREATE" | "UPDATE", group: string, resource: string, namespace: string) =>
  admit(guard.scope.policy, { operation, userInfo: { username }, resource: { group, version: "v1", resource }, namespace, name: "x" });

describe("the Argo Rollouts controller's guard", () => {
  it("lets the controller write its kinds where it serves, and nothing elsewhere or of the kinds the canary never needs", () => {
    expect(write("CREATE", "apps", "replicasets", "stf")).toBe("admitted");
    expect(write("UPDATE", "coordination.k8s.io", "leases", "argo-rollouts")).toBe("admitted");
    expect(write("CREATE", "apps", "replicasets", "kube-system")).toBe(
      "expected the Argo Rollouts controller to write only in the namespaces it serves (argo-rollouts, stf); found CREATE apps/replicasets x in kube-system",
    );
    expect(write("UPDATE", "apps", "deployments", "stf")).toContain("found UPDATE apps/deployments x");
    expect(write("CREATE", "batch", "jobs", "stf")).toContain("found CREATE batch/jobs x");
    expect(admit(guard.scope.policy, { operation: "CREATE", userInfo: { username: "alice" } })).toBe("not checked");
  });

  it.each(knownStacks())("%s: binds it where the stack installs the controller, with its own Rollout as the parameter", async (stack) => {
    const config = committedConfig(stack);
    const { resources } = await runUnderMocks({ project: "streamforge", stack, config: {} }, () => void createPlatform(config));
    const inputs = resources.map((r) => r.inputs as any);
    const bindings = inputs.filter(
      (o) => o.kind === "ValidatingAdmissionPolicyBinding" && /-argo-rollouts-(scope|replicasets)$/.test(o.metadata.name),
    );
    const installs = config.rollouts?.enabled && config.rollouts.controller.install;
    if (!installs) return expect(bindings).toEqual([]);
    expect(inputs.find((o) => o.chart === "argo-rollouts").name).toBe(ROLLOUTS_RELEASE);
    const rollout = inputs.find((o) => o.kind === "Rollout");
    const replicaSets = bindings.find((b) => b.metadata.name.endsWith("-replicasets"));
    expect(replicaSets.spec.paramRef).toEqual({
      name: rollout.metadata.name,
      namespace: rollout.metadata.namespace,
      parameterNotFoundAction: "Deny",
    });
  });
});
