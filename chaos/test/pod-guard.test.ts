/**
 * What a fault account may create in the privileged chaos namespace, evaluated locally
 * (test/cel.ts); chaos/test/pod-guard.itest.ts sends the same with the accounts' real tokens.
 */
import { committedConfig } from "../../test/helpers";
import { admit } from "../../test/cel";
import { HELPER_ARGS } from "../pod-guard";
import { chaosExperiment } from "../spec";
import { podGuardFor } from "../component";
import { chaosAttacks, experimentJob, helperPod } from "./pod-guard-cases";

const chaos = committedConfig("dev").chaos!;
const guard = podGuardFor(chaos);
const as = (fault: string, object: any) =>
  admit(guard.policy, {
    operation: "CREATE",
    object,
    kind: { kind: object.kind },
    userInfo: { username: `system:serviceaccount:chaos:chaos-${fault}` },
  });

describe("the chaos pod guard, evaluated locally", () => {
  it("admits the experiment Job as chaos-runner builds it from the ChaosExperiment, and the latency helper as litmus-go builds it", () => {
    for (const fault of ["pod-delete", "pod-network-latency"] as const) {
      const definition = chaosExperiment(fault, chaos).spec.definition;
      expect(as(fault, experimentJob(fault, definition))).toBe("admitted");
    }
    expect(as("pod-network-latency", helperPod(chaos))).toBe("admitted");
    expect(HELPER_ARGS).toEqual(["-c", "./helpers -name network-chaos"]);
  });

  it("leaves other requesters alone: the Job controller's pods come from a template checked here", () => {
    const job = experimentJob("pod-delete", chaosExperiment("pod-delete", chaos).spec.definition);
    expect(
      admit(guard.policy, {
        operation: "CREATE",
        object: job,
        kind: { kind: "Job" },
        userInfo: { username: "system:serviceaccount:kube-system:job-controller" },
      }),
    ).toBe("not checked");
  });

  it.each(chaosAttacks(chaos))("refuses %s", (_, fault, object, message) => {
    expect(as(fault, object)).toBe(message);
  });
});

describe.each(["dev", "local"])("the chaos pod guard in stack %s", (stack) => {
  it("is declared with the stack's runner image and socket, bound to the chaos namespace", async () => {
    const { renderStack } = await import("../../infra/render/render");
    const { manifests } = await renderStack(stack);
    const config = committedConfig(stack).chaos!;
    const expected = podGuardFor(config);
    const byName = (kind: string) => manifests.find((m) => m.kind === kind && m.metadata.name === expected.policy.metadata.name) as any;
    expect(byName("ValidatingAdmissionPolicy").spec).toEqual(expected.policy.spec);
    expect(byName("ValidatingAdmissionPolicyBinding").spec.matchResources).toEqual(expected.binding.spec.matchResources);
  });
});
