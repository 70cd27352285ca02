/**
 * The chaos pod guard in the REAL API server, tried with each fault account's own token
 * (TokenRequest) in a privileged namespace of this test, with the Roles the stack gives them: the
 * experiment Job and the latency helper admitted, every way to the node refused with the policy's
 * message.
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
import { chaosPodGuard } from "../pod-guard";
import { FAULTS, chaosExperiment, experimentRbac, serviceAccountName } from "../spec";
import { chaosAttacks, experimentJob, helperPod } from "./pod-guard-cases";

const run = randomBytes(3).toString("hex");
const CHAOS = `chaos-pods-${run}`;
const APPS = `chaos-pods-apps-${run}`;
const chaos = committedConfig("dev").chaos!;
const guard = chaosPodGuard({
  chaosNamespace: CHAOS,
  runnerImage: chaos.runnerImage,
  socketPath: chaos.socketPath,
  containerRuntime: chaos.containerRuntime,
  priorityClasses: chaos.priorityClasses,
  namePrefix: `streamforge-${CHAOS}`,
});
const POLICY = guard.policy.metadata.name;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chaos-pods-"));
const tokens: Record<string, string> = {};
const dryRun = (fault: string, object: object) => kubectlWith(tokens[fault], object, "create", "--dry-run=server", "-f", "-");

beforeAll(async () => {
  requireEnv("KUBECONFIG");
  for (const ns of [CHAOS, APPS]) kubectl("create", "namespace", ns);
  kubectl("label", "namespace", CHAOS, ...Object.entries(podSecurityLabels("privileged")).map(([k, v]) => `${k}=${v}`));
  const objects = FAULTS.flatMap((fault) => {
    const rbac = experimentRbac(fault, { chaos: CHAOS, apps: APPS });
    return [rbac.serviceAccount, ...rbac.roles.flatMap((r) => [r.role, r.binding])];
  });
  kubectlApply({ apiVersion: "v1", kind: "List", items: [...objects, guard.policy, guard.binding] });
  for (const fault of FAULTS) tokens[fault] = serviceAccountKubeconfig(dir, CHAOS, serviceAccountName(fault));
  const bad = experimentJob(
    "pod-delete",
    { image: "docker.io/library/alpine:3", command: ["/bin/bash"], args: ["-c", "./experiments -name pod-delete"] },
    CHAOS,
  );
  await untilEnforced(POLICY, () => dryRun("pod-delete", bad));
}, 120_000);

afterAll(() => {
  deletePolicies(POLICY);
  for (const ns of [CHAOS, APPS]) kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the chaos pod guard in the real API server, with the fault accounts' tokens", () => {
  it("type-checks every expression against the Pod and Job schemas", async () => {
    expect(await policyTypeWarnings(POLICY)).toEqual([]);
  });

  it("admits the experiment Job of each fault and the latency helper", () => {
    for (const fault of FAULTS) {
      const job = experimentJob(fault, chaosExperiment(fault, chaos).spec.definition, CHAOS);
      expect(dryRun(fault, job)).toEqual({ ok: true, output: `job.batch/${job.metadata.name} created (server dry run)` });
    }
    const helper = helperPod(chaos, CHAOS);
    const admitted = dryRun("pod-network-latency", helper);
    // The namespace warns at restricted (privileged is enforced) and says so after the first line.
    expect({ ok: admitted.ok, output: admitted.output.split("\n")[0] }).toEqual({
      ok: true,
      output: `pod/${helper.metadata.name} created (server dry run)`,
    });
  });

  it.each(chaosAttacks(chaos, CHAOS))("refuses %s, naming the rule", (_, fault, object, message) => {
    const result = dryRun(fault, object);
    if (fault === "pod-delete" && object.kind === "Pod") {
      // Its Role holds no pods create: RBAC answers before admission.
      expect([result.ok, result.output]).toEqual([
        false,
        expect.stringContaining(
          `User "system:serviceaccount:${CHAOS}:chaos-pod-delete" cannot create resource "pods" in API group "" in the namespace "${CHAOS}"`,
        ),
      ]);
      return;
    }
    expect([result.ok, result.output.slice(result.output.indexOf("ValidatingAdmissionPolicy "))]).toEqual([
      false,
      `ValidatingAdmissionPolicy '${POLICY}' with binding '${POLICY}' denied request: ${message}`,
    ]);
  });
});
