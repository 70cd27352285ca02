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

const guard = litmusOperatorGuard({
  chaosNamespace: "chaos",
  operatorServiceAccount: LITMUS_OPERATOR,
  chaosRunnerImage: "litmuschaos/chaos-runner:3.18.0",
  namePrefix: "streamforge-chaos",
});
const as = (request: Omit<AdmissionRequest, "userInfo">) =>
  admit(guard.policy, { userInfo: { username: `system:serviceaccount:chaos:${LITMUS_OPERATOR}` }, ...request });
const resource = (group: string, name: string) => ({ group, version: "v1", resource: name });

describe("Litmus' operator's guard", () => {
  it("admits the runner pod as chaos-operator builds it, and refuses one of another image or account", () => {
    const runner = (image: string, account: string) => ({
      operation: "CREATE" as const,
      resource: resource("", "pods"),
      object: { metadata: { name: "e-runner" }, spec: { serviceAccountName: account, containers: [{ name: "chaos-runner", image }] } },
    });
    expect(as(runner("litmuschaos/chaos-runner:3.18.0", "chaos-pod-delete"))).toBe("admitted");
    expect(as(runner("alpine", "chaos-pod-delete"))).toContain("found chaos-runner alpine as chaos-pod-delete");
    expect(as(runner("litmuschaos/chaos-runner:3.18.0", LITMUS_OPERATOR))).toContain(`as ${LITMUS_OPERATOR}`);
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
