/**
 * The apps namespaces' restricted defaults (infra/cluster/pod-defaults-spec.ts) in the REAL API
 * server: a namespace enforcing Pod Security `restricted`, the MutatingAdmissionPolicy bound to it,
 * and pods as queue-manager's Jobs make them (no securityContext, ../shared/STREAMFORGE.md): the
 * Job controller's pod is admitted at restricted with the defaults filled in; what a pod sets
 * itself is kept, so a pod asking for root is still refused. A container whose `CA_PATH` names the
 * CA copy's path (as the launcher passes it on) gets the copy mounted, in its namespace only.
 */
import { randomBytes } from "node:crypto";
import { podSecurityLabels } from "../../kit/namespaces";
import { INJECTED_CA_VOLUME, podDefaults, podDefaultsName } from "../pod-defaults-spec";
import { CA_MOUNT_PATH, CA_PATH } from "../../kit/kafka-ca";
import { eventually, kubectl, kubectlWith, requireEnv } from "../../../test/integration/local-platform";

const run = randomBytes(3).toString("hex");
const APPS = `pod-defaults-${run}`;
/** Guarded too, but without the CA copy. */
const OTHER = `${APPS}-other`;
const NAME = podDefaultsName(`streamforge-${APPS}`);
const CA_SECRET = "k3-cluster-ca-cert";
const defaults = podDefaults({
  namespaces: [APPS, OTHER],
  runAsUser: 65532,
  namePrefix: `streamforge-${APPS}`,
  kafkaCa: { namespace: APPS, secretName: CA_SECRET },
});
const IMAGE = "ghcr.io/olehkondratow/streamforge-loader:1.0.0";

const pod = (name: string, spec: object, namespace = APPS) => ({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace }, spec });
/** A worker container as queue-manager's launcher makes it: env only, `CA_PATH` its own. */
const launched = (name: string) => ({
  name,
  image: IMAGE,
  env: [
    { name: "QUEUE_ID", value: "q1" },
    { name: "CA_PATH", value: CA_PATH },
  ],
});
type Volume = { name: string; secret?: { secretName: string } };
type Container = { name: string; volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] };
const injectedVolume = (p: { spec: { volumes?: Volume[] } }) => p.spec.volumes?.find((v) => v.name === INJECTED_CA_VOLUME);
const caMountOf = (c: Container) => c.volumeMounts?.find((m) => m.mountPath === CA_MOUNT_PATH);
/** The pod as the API server would store it: a server-side dry run through the mutation and Pod Security. */
const dryRun = (object: object) => {
  const r = kubectlWith(undefined, object, "create", "--dry-run=server", "-o", "json", "-f", "-");
  return r.ok ? { ok: true, pod: JSON.parse(r.output) } : { ok: false, output: r.output };
};
const RESTRICTED_CONTAINER = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };

beforeAll(async () => {
  requireEnv("KUBECONFIG");
  for (const ns of [APPS, OTHER]) {
    kubectl("create", "namespace", ns);
    kubectl("label", "namespace", ns, ...Object.entries(podSecurityLabels("restricted")).map(([k, v]) => `${k}=${v}`));
  }
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
  kubectl("delete", "namespace", APPS, OTHER, "--ignore-not-found", "--wait=false");
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
      spec: { backoffLimit: 4, template: { spec: { restartPolicy: "Never", containers: [launched("loader-producer")] } } },
    };
    expect(kubectlWith(undefined, job, "create", "-f", "-").ok).toBe(true);
    const created = await eventually(
      "the Job's pod",
      () => JSON.parse(kubectl("get", "pods", "-n", APPS, "-l", "job-name=q1-loader-producer", "-o", "json")).items[0],
    );
    expect(created.spec.securityContext.runAsNonRoot).toBe(true);
    expect(created.spec.containers[0].securityContext).toEqual(RESTRICTED_CONTAINER);
    expect(injectedVolume(created)?.secret?.secretName).toBe(CA_SECRET);
    expect(caMountOf(created.spec.containers[0])).toEqual({ name: INJECTED_CA_VOLUME, mountPath: CA_MOUNT_PATH, readOnly: true });
    expect(kubectl("get", "events", "-n", APPS, "--field-selector", "reason=FailedCreate", "-o", "jsonpath={.items[*].message}")).toBe("");
  });

  it("mounts the Kafka CA copy, read-only, for each container whose CA_PATH needs it, and only those", () => {
    const result = dryRun(pod("launched", { containers: [launched("loader-producer"), { name: "sidecar", image: IMAGE }] }));
    expect(result.ok).toBe(true);
    expect(injectedVolume(result.pod)).toEqual({ name: INJECTED_CA_VOLUME, secret: { secretName: CA_SECRET, defaultMode: 420 } });
    const [worker, sidecar] = result.pod.spec.containers as Container[];
    expect(caMountOf(worker!)).toEqual({ name: INJECTED_CA_VOLUME, mountPath: CA_MOUNT_PATH, readOnly: true });
    expect(caMountOf(sidecar!)).toBeUndefined();
  });

  it("leaves a pod that mounts its own CA, one with no CA_PATH, and pods of a namespace without the copy as they are", () => {
    const own = dryRun(
      pod("own-ca", {
        containers: [{ ...launched("queue-manager"), volumeMounts: [{ name: "kafka-ca", mountPath: CA_MOUNT_PATH, readOnly: true }] }],
        volumes: [{ name: "kafka-ca", secret: { secretName: CA_SECRET } }],
      }),
    );
    // A file of its own under the path (subPath), with the trailing-slash form of the path too.
    const ownFile = dryRun(
      pod("own-file", {
        containers: [
          { ...launched("a"), volumeMounts: [{ name: "ca", mountPath: CA_PATH, subPath: "ca.pem" }] },
          { ...launched("b"), volumeMounts: [{ name: "ca", mountPath: `${CA_MOUNT_PATH}/` }] },
        ],
        volumes: [{ name: "ca", secret: { secretName: CA_SECRET } }],
      }),
    );
    const none = dryRun(pod("no-ca-path", { containers: [{ name: "c", image: IMAGE }] }));
    const elsewhere = dryRun(pod("elsewhere", { containers: [launched("loader-producer")] }, OTHER));
    for (const result of [own, ownFile, none, elsewhere]) {
      expect(result.ok).toBe(true);
      expect(injectedVolume(result.pod)).toBeUndefined();
    }
    for (const c of ownFile.pod.spec.containers as Container[])
      expect(c.volumeMounts!.map((m) => m.name)).not.toContain(INJECTED_CA_VOLUME);
    expect(own.pod.spec.containers[0].volumeMounts.filter((m: { mountPath: string }) => m.mountPath === CA_MOUNT_PATH)).toEqual([
      { name: "kafka-ca", mountPath: CA_MOUNT_PATH, readOnly: true },
    ]);
    // The namespace without the copy still gets the restricted defaults.
    expect(elsewhere.pod.spec.securityContext.runAsNonRoot).toBe(true);
  });

  it("never reuses a pod's own volume of the injected volume's name: a pod naming one that is not the copy gets nothing", () => {
    const result = dryRun(
      pod("foreign-volume", {
        containers: [launched("loader-producer")],
        volumes: [{ name: INJECTED_CA_VOLUME, secret: { secretName: "loader-kafka" } }],
      }),
    );
    expect(result.ok).toBe(true);
    expect(result.pod.spec.volumes.filter((v: Volume) => v.name === INJECTED_CA_VOLUME)).toEqual([
      { name: INJECTED_CA_VOLUME, secret: { secretName: "loader-kafka", defaultMode: 420 } },
    ]);
    expect(caMountOf(result.pod.spec.containers[0])).toBeUndefined();
  });
});
