/**
 * Each namespace's Pod Security level is one its real pods pass, and the config that makes them
 * pass is declared (docs/security.md cites the upstream files). Pods this program declares itself
 * are admitted by the real API server in test/integration/local-deploy.itest.ts; Strimzi's and
 * Litmus' pods cannot run here, so what makes them compliant is held here.
 */
import { createPlatform } from "../infra/platform";
import { knownStacks, runUnderMocks } from "../infra/render/render";
import { STRIMZI_RESTRICTED_OPERANDS } from "../infra/kafka/strimzi-operator";
import { EXPERIMENT_SECURITY_CONTEXT } from "../chaos/spec";
import { INJECTED_CA_VOLUME, podDefaults } from "../infra/cluster/pod-defaults-spec";
import { caCopy } from "../infra/kafka/clients";
import { committedConfig } from "./helpers";

async function declared(stack: string) {
  const config = committedConfig(stack);
  const { resources } = await runUnderMocks({ project: "streamforge", stack, config: {} }, () => void createPlatform(config));
  return { config, resources };
}

describe.each(knownStacks())("%s", (stack) => {
  it("enforces restricted where Strimzi and Argo run and for the apps (with the defaults their Jobs need), privileged only for the chaos namespace (the helper, beside Litmus' operator)", async () => {
    const { config, resources } = await declared(stack);
    if (!config.namespaces.create) return expect(resources.filter((r) => r.type === "kubernetes:core/v1:Namespace")).toEqual([]);
    const levels = Object.fromEntries(
      resources
        .filter((r) => r.type === "kubernetes:core/v1:Namespace")
        .map((r) => [(r.inputs as any).metadata.name, (r.inputs as any).metadata.labels["pod-security.kubernetes.io/enforce"]]),
    );
    const expected: Record<string, string> = { [config.kafka.namespace]: "restricted", [config.apps.namespace]: "restricted" };
    if (config.strimzi.install) expected[config.strimzi.namespace] = "restricted";
    if (config.rollouts?.enabled && config.rollouts.controller.install) expected[config.rollouts.controller.namespace] = "restricted";
    // Litmus' operator runs in the chaos namespace (namespaced mode), beside the privileged helper.
    if (config.chaos?.enabled) expected[config.chaos.namespace] = "privileged";
    expect(levels).toMatchObject(expected);
  });

  it("gives the pods of the apps namespaces the restricted defaults, with the stack's default user", async () => {
    const { config, resources } = await declared(stack);
    const inputs = resources.map((r) => r.inputs as any);
    const policy = inputs.find((o) => o.kind === "MutatingAdmissionPolicy");
    const binding = inputs.find((o) => o.kind === "MutatingAdmissionPolicyBinding" && o.spec.policyName === policy.metadata.name);
    expect(binding.spec.matchResources.namespaceSelector.matchExpressions[0].values).toContain(config.apps.namespace);
    expect(policy.spec.mutations[0].applyConfiguration.expression).toContain(
      `runAsUser: object.spec.?securityContext.?runAsUser.orValue(${config.apps.defaultRunAsUser})`,
    );
    // Where the stack keeps the Kafka CA copy, the launcher's Jobs get it mounted there (the CEL: pod-defaults.itest.ts).
    const copy = caCopy(config);
    const caMutation = policy.spec.mutations.find((m: any) => m.applyConfiguration?.expression.includes(INJECTED_CA_VOLUME));
    expect(caMutation !== undefined).toBe(copy !== undefined);
    if (copy) {
      expect(caMutation.applyConfiguration.expression).toContain(`secretName: ${JSON.stringify(copy.secretName)}`);
      expect(policy.spec.variables.map((v: any) => v.expression).join("\n")).toContain(
        `request.namespace == ${JSON.stringify(copy.namespace)}`,
      );
    }
  });

  it("runs Strimzi's operands with its restricted provider, and overrides no container securityContext it would replace", async () => {
    const { config, resources } = await declared(stack);
    const release = resources.find(
      (r) => r.type === "kubernetes:helm.sh/v3:Release" && (r.inputs as any).name === "strimzi-cluster-operator",
    );
    if (!config.strimzi.install) return expect(release).toBeUndefined();
    const values = (release!.inputs as any).values;
    expect(values.extraEnvs).toContainEqual(STRIMZI_RESTRICTED_OPERANDS);
    // The chart's own container securityContext (restricted) is kept.
    expect(values.securityContext).toBeUndefined();
    // A template container securityContext replaces the provider's whole (RestrictedPodSecurityProvider.java L27-28).
    for (const r of resources.filter((x) => ["Kafka", "KafkaNodePool"].includes((x.inputs as any).kind)))
      expect(JSON.stringify((r.inputs as any).spec)).not.toContain("securityContext");
  });

  it("gives Litmus' runner and experiment pods a restricted securityContext through every ChaosExperiment", async () => {
    const { config, resources } = await declared(stack);
    const experiments = resources.filter((r) => (r.inputs as any).kind === "ChaosExperiment").map((r) => r.inputs as any);
    expect(experiments.length > 0).toBe(config.chaos?.enabled === true);
    for (const e of experiments)
      expect([e.metadata.name, e.spec.definition.securityContext]).toEqual([e.metadata.name, EXPERIMENT_SECURITY_CONTEXT]);
  });
});

it("refuses root as the default user", () => {
  expect(() => podDefaults({ namespaces: ["stf"], runAsUser: 0, namePrefix: "x" })).toThrow(
    "runAsUser: expected a positive integer (a non-root user); found 0",
  );
});
