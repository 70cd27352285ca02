/**
 * The apps namespaces' restricted defaults (infra/cluster/pod-defaults-spec.ts) in the REAL API
 * server: a namespace enforcing Pod Security `restricted`, the MutatingAdmissionPolicy bound to it,
 * and pods as queue-manager's Jobs make them (no securityContext, ../shared/STREAMFORGE.md): the
 * Job controller's pod is admitted at restricted with the defaults filled in; what a pod sets
 * itself is kept, so a pod asking for root is still refused.
 */
import { randomBytes } from "node:crypto";
import { podSecurityLabels } from "../../infra/kit/namespaces";
import { podDefaults, podDefaultsName } from "../../infra/cluster/pod-defaults-spec";
import { eventually, kubectl, kubectlWith, requireEnv } from "./local-platform";

const run = randomBytes(3).toString("hex");
const APPS = `pod-defaults-${run}`;
const NAME = podDefaultsName(`streamforge-${APPS}`);
const defaults = podDefaults({ namespaces: [APPS], runAsUser: 65532, namePrefix: `streamforge-${APPS}` });
const IMAGE = "ghcr.io/olehkondratow/streamforge-loader:1.0.0";

const pod = (name: string, spec: object) => ({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: APPS }, spec });
/** The pod as the API server would store it: a server-side dry run through the mutation and Pod Security. */
const dryRun = (object: object) => {
  const r = kubectlWith(undefined, object, "create", "--dry-run=server", "-o", "json", "-f", "-");
  return r.ok ? { ok: true, pod: JSON.parse(r.output) } : { ok: false, output: r.output };
};
const RESTRICTED_CONTAINER = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };

beforeAll(async () => {
  requireEnv("KUBECONFIG");
  kubectl("create", "namespace", APPS);
  kubectl("label", "namespace", APPS, ...Object.entries(podSecurityLabels("restricted")).map(([k, v]) => `${k}=${v}`));
  const applied = kubectlWith(
    undefined,
    { apiVersion: "v1", kind: "List", items: [defaults.policy, defaults.binding] },
    "apply",
    "-f",
    "-",
  );
  if (!applied.ok) throw new Error(`kubectl apply failed: ${applied.output}`);
  // In force once the API server has it: a bare pod, tried until it is admitted at restricted.
  await eventually("the defaults applied", () =>
    dryRun(pod("probe", { containers: [{ name: "c", image: IMAGE }] })).ok ? true : undefined,
  );
}, 120_000);

afterAll(() => {
  kubectl("delete", "mutatingadmissionpolicybinding,mutatingadmissionpolicy", NAME, "--ignore-not-found");
  kubectl("delete", "namespace", APPS, "--ignore-not-found", "--wait=false");
});

describe("the apps namespaces' restricted defaults", () => {
  it("fills in what restricted asks for on a pod that sets nothing, containers and init containers alike", () => {
    const result = dryRun(
      pod("plain", { containers: [{ name: "loader-producer", image: IMAGE }], initContainers: [{ name: "wait", image: IMAGE }] }),
    );
    expect(result.ok).toBe(true);
    expect(result.pod.spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } });
    for (const c of [...result.pod.spec.containers, ...result.pod.spec.initContainers])
      expect([c.name, c.securityContext]).toEqual([c.name, RESTRICTED_CONTAINER]);
  });

  it("keeps what a pod sets itself: its user, its seccomp profile, its drop list (ALL added)", () => {
    const result = dryRun(
      pod("own", {
        securityContext: { runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
        containers: [{ name: "c", image: IMAGE, securityContext: { capabilities: { drop: ["NET_RAW"], add: ["NET_BIND_SERVICE"] } } }],
      }),
    );
    expect(result.ok).toBe(true);
    expect(result.pod.spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } });
    expect(result.pod.spec.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["NET_RAW", "ALL"], add: ["NET_BIND_SERVICE"] },
    });
  });

  it("does not override a pod asking for root or escalation: Pod Security refuses it", () => {
    const root = dryRun(pod("root", { securityContext: { runAsUser: 0 }, containers: [{ name: "c", image: IMAGE }] }));
    expect(root).toEqual({
      ok: false,
      output: expect.stringContaining('violates PodSecurity "restricted:latest": runAsUser=0 (pod must not set runAsUser=0)'),
    });
    const escalating = dryRun(
      pod("esc", { containers: [{ name: "c", image: IMAGE, securityContext: { allowPrivilegeEscalation: true } }] }),
    );
    expect(escalating).toEqual({
      ok: false,
      output: expect.stringContaining(
        'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)',
      ),
    });
  });

  it("lets the Job controller create a queue-manager Job's pod at restricted", async () => {
    const job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "q1-loader-producer", namespace: APPS },
      spec: { backoffLimit: 4, template: { spec: { restartPolicy: "Never", containers: [{ name: "loader-producer", image: IMAGE }] } } },
    };
    expect(kubectlWith(undefined, job, "create", "-f", "-").ok).toBe(true);
    const created = await eventually(
      "the Job's pod",
      () => JSON.parse(kubectl("get", "pods", "-n", APPS, "-l", "job-name=q1-loader-producer", "-o", "json")).items[0],
    );
    expect(created.spec.securityContext.runAsNonRoot).toBe(true);
    expect(created.spec.containers[0].securityContext).toEqual(RESTRICTED_CONTAINER);
    expect(kubectl("get", "events", "-n", APPS, "--field-selector", "reason=FailedCreate", "-o", "jsonpath={.items[*].message}")).toBe("");
  });
});
