/**
 * The admission guard on the self-healing operator's Jobs: its objects, its CEL evaluated locally
 * with cel-js the way the API server runs a ValidatingAdmissionPolicy (match conditions, then each
 * validation in order; the first that fails is the refusal), on Jobs the operator's own code
 * builds, and its wiring in the stacks. infra/self-healing/test/operator-guard.itest.ts runs the same
 * against the real API server.
 */
import { ANNOTATIONS, type JobManifest } from "../../../operator/src/core/jobs";
import { replacementJob } from "../../../operator/src/core/relaunch";
import { pendingAnnotations } from "../../../operator/src/core/resume";
import type { PlatformConfig } from "../../config";
import { createPlatform } from "../../platform";
import { knownStacks, runUnderMocks } from "../../render/render";
import { GUARD_DEFAULTS, RELAUNCH_ANNOTATIONS, WORKER_ENV, operatorGuard, serviceAccountUser } from "../guard";
import { OPERATOR_NAME } from "../manifests";
import { admit } from "../../../test/cel";
import { committedConfig, variantProblems } from "../../../test/helpers";

const OPERATOR = serviceAccountUser("stf", OPERATOR_NAME);
const ARGS = {
  operatorNamespace: "stf",
  serviceAccount: OPERATOR_NAME,
  watchNamespace: "stf",
  allowedServiceAccounts: ["default"],
  allowedImagePrefixes: ["ghcr.io/olehkondratow/streamforge-"],
  allowedEnv: [...WORKER_ENV],
};

type Operation = "CREATE" | "UPDATE" | "DELETE";

/** What the API server answers to `operation` on the Job by `username`, the operator by default (see admit). */
const admission = (
  guard: ReturnType<typeof operatorGuard>,
  operation: Operation,
  job: { object?: object; oldObject?: object },
  username = OPERATOR,
): string => admit(guard.policy, { operation, ...job, userInfo: { username } });

/** A Job as queue-manager launches it, read back from the API server (controller labels and selector added). */
function launched(name = "q1-loader-producer", namespace = "stf"): JobManifest {
  const uid = "0b8f3c1e-2d4a-4f6b-9a7c-1e2d3f4a5b6c";
  const controller = {
    "batch.kubernetes.io/controller-uid": uid,
    "batch.kubernetes.io/job-name": name,
    "controller-uid": uid,
    "job-name": name,
  };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace, uid, resourceVersion: "4711", labels: {} },
    spec: {
      backoffLimit: 4,
      ttlSecondsAfterFinished: 3600,
      selector: { matchLabels: { "batch.kubernetes.io/controller-uid": uid } },
      template: {
        metadata: { labels: controller },
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "loader-producer",
              image: "ghcr.io/olehkondratow/streamforge-loader-producer:1.0.0",
              imagePullPolicy: "Always",
              env: [
                { name: "QUEUE_ID", value: "q1" },
                { name: "TELEMETRY_PRODUCER_ID", value: "loader-producer__q1" },
              ],
            },
          ],
        },
      },
    },
  };
}

const PENDING = {
  name: "q1-loader-producer-r1",
  reason: "stuck" as const,
  detail: "no events for 300s",
  attempt: 1,
  history: [1_780_000_000_000],
};
/** The replacement the operator creates for `old` (its own replacementJob), changed by `edit`. */
function replacement(edit: (job: any) => void = () => {}, old = launched()): any {
  const job = replacementJob({ old, ...PENDING, queueId: "q1" });
  edit(job);
  return job;
}
const podOf = (job: any) => job.spec.template.spec;
/** `old` after the operator's claim: its merge patch of pendingAnnotations. */
const claimed = (old: JobManifest = launched()): JobManifest => ({
  ...old,
  metadata: { ...old.metadata, annotations: { ...old.metadata.annotations, ...pendingAnnotations(PENDING) } },
});

describe("the guard's objects", () => {
  const { policy, binding } = operatorGuard(ARGS);

  it("a policy on the operator's Job writes that refuses when it cannot decide", () => {
    expect([policy.apiVersion, policy.kind, policy.metadata.name]).toEqual([
      "admissionregistration.k8s.io/v1",
      "ValidatingAdmissionPolicy",
      "streamforge-stf-self-healing-job-guard",
    ]);
    expect(policy.spec.failurePolicy).toBe("Fail");
    expect(policy.spec.matchConstraints).toEqual({
      resourceRules: [{ apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE", "DELETE"], resources: ["jobs"] }],
    });
    expect(policy.spec.matchConditions).toEqual([
      { name: "operator-only", expression: 'request.userInfo.username == "system:serviceaccount:stf:streamforge-self-healing-operator"' },
    ]);
    for (const v of policy.spec.validations) expect("message" in v || "messageExpression" in v).toBe(true);
  });

  it("a binding that denies, in the watched namespace only", () => {
    const watched = operatorGuard({ ...ARGS, watchNamespace: "stf-jobs" });
    expect(watched.binding).toMatchObject({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: "streamforge-stf-self-healing-job-guard" },
      spec: {
        policyName: "streamforge-stf-self-healing-job-guard",
        validationActions: ["Deny"],
        matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "stf-jobs" } } },
      },
    });
    expect(binding.spec.matchResources.namespaceSelector.matchLabels).toEqual({ "kubernetes.io/metadata.name": "stf" });
  });

  it("requires on a replacement every annotation replacementJob sets", () => {
    // Every annotation replacementJob sets that marks a relaunch is one the guard requires.
    const set = Object.keys(replacement().metadata.annotations);
    expect(set.sort()).toEqual(
      [
        RELAUNCH_ANNOTATIONS.attempt,
        RELAUNCH_ANNOTATIONS.reason,
        RELAUNCH_ANNOTATIONS.relaunchedFrom,
        RELAUNCH_ANNOTATIONS.originalName,
        RELAUNCH_ANNOTATIONS.history,
        RELAUNCH_ANNOTATIONS.relaunchedAt,
      ].sort(),
    );
  });

  it("refuses lists that would let anything through", () => {
    expect(() => operatorGuard({ ...ARGS, allowedServiceAccounts: [] })).toThrow(
      "allowedServiceAccounts: expected at least one ServiceAccount; found none",
    );
    expect(() => operatorGuard({ ...ARGS, allowedImagePrefixes: [] })).toThrow("allowedImagePrefixes: expected at least one image prefix");
    for (const prefix of ["", "ghcr.io", "streamforge-"])
      expect(() => operatorGuard({ ...ARGS, allowedImagePrefixes: [prefix] })).toThrow(
        `allowedImagePrefixes: expected a registry and a path, such as ghcr.io/org/; found "${prefix}"`,
      );
    for (const env of ["*", "", "A B", "L*", "NODE*", "_*"])
      expect(() => operatorGuard({ ...ARGS, allowedEnv: [env] })).toThrow(
        `allowedEnv: expected an env name, or a prefix of names ending in _* (ARANGO_*); found "${env}"`,
      );
  });
});

describe("the guard's CEL, evaluated locally", () => {
  const guard = operatorGuard(ARGS);
  const create = (job: object, user?: string) => admission(guard, "CREATE", { object: job }, user);

  it("admits the operator's whole relaunch: the claim, the replacement, the old Job's deletion", () => {
    const old = launched();
    expect(admission(guard, "UPDATE", { oldObject: old, object: claimed(old) })).toBe("admitted");
    expect(create(replacement())).toBe("admitted");
    expect(admission(guard, "DELETE", { oldObject: claimed(old) })).toBe("admitted");
    // A second relaunch: the replacement of a replacement, its name shortened from a long original.
    const long = launched(`${"q".repeat(50)}-loader-producer`);
    const again = replacementJob({ old: replacement(() => {}, long), ...PENDING, attempt: 2, queueId: "q1" });
    expect(again.metadata.name).toMatch(/-r2$/);
    expect(create(again)).toBe("admitted");
  });

  it("admits the give-up mark", () => {
    const old = launched();
    const gaveUp = { ...old, metadata: { ...old.metadata, annotations: { [ANNOTATIONS.gaveUp]: "3 relaunches in 1h" } } };
    expect(admission(guard, "UPDATE", { oldObject: old, object: gaveUp })).toBe("admitted");
  });

  it("checks only the operator's own requests", () => {
    const forged = replacement((j) => (podOf(j).containers[0].securityContext = { privileged: true }));
    expect(create(forged, "system:serviceaccount:stf:queue-manager")).toBe("not checked");
    expect(create(forged, "streamforge-admin")).toBe("not checked");
    expect(create(forged, serviceAccountUser("other", OPERATOR_NAME))).toBe("not checked");
    expect(create(forged)).toMatch(/^spec\.template\.spec\.\*containers\[\]\.securityContext\.privileged/);
  });

  it.each<[string, (job: any) => void, string]>([
    [
      "a Job without the relaunch annotations",
      (j) => {
        delete j.metadata.annotations[ANNOTATIONS.relaunchedFrom];
        j.metadata.annotations[ANNOTATIONS.originalName] = "";
      },
      "metadata.annotations: expected the operator's relaunch annotations (streamforge.io/relaunch-attempt, streamforge.io/relaunch-reason, streamforge.io/relaunched-from, streamforge.io/original-name, streamforge.io/relaunch-history, streamforge.io/relaunched-at); missing streamforge.io/relaunched-from, streamforge.io/original-name",
    ],
    [
      "a name that is not <original>-r<attempt>",
      (j) => (j.metadata.name = "miner"),
      "metadata.name and annotations[streamforge.io/relaunch-attempt]: expected a replacement named <original>-r<attempt>, attempt a whole number >= 1; found miner (attempt '1')",
    ],
    [
      "an attempt that is not a whole number",
      (j) => (j.metadata.annotations[ANNOTATIONS.attempt] = "1 || true"),
      "metadata.name and annotations[streamforge.io/relaunch-attempt]: expected a replacement named <original>-r<attempt>, attempt a whole number >= 1; found q1-loader-producer-r1 (attempt '1 || true')",
    ],
    [
      "a Job that names itself as its predecessor",
      (j) => (j.metadata.annotations[ANNOTATIONS.relaunchedFrom] = j.metadata.name),
      "metadata.annotations[streamforge.io/relaunched-from]: expected the predecessor's name, not the Job's own; found q1-loader-producer-r1",
    ],
    [
      "a Job created already claimed",
      (j) => (j.metadata.annotations[ANNOTATIONS.supersededBy] = "x"),
      "metadata.annotations: expected no streamforge.io/superseded-by or streamforge.io/relaunch-pending on a new Job (a replacement is created unclaimed); found them",
    ],
    [
      "another namespace",
      (j) => (j.metadata.namespace = "kube-system"),
      "metadata.namespace: expected stf, the namespace the operator watches; found kube-system",
    ],
    [
      "a privileged container",
      (j) => (podOf(j).containers[0].securityContext = { privileged: true }),
      "spec.template.spec.*containers[].securityContext.privileged: expected false or unset; found true in containers[loader-producer]",
    ],
    [
      "a privileged init container",
      (j) =>
        (podOf(j).initContainers = [
          { name: "setup", image: "ghcr.io/olehkondratow/streamforge-x:1", securityContext: { privileged: true } },
        ]),
      "spec.template.spec.*containers[].securityContext.privileged: expected false or unset; found true in initContainers[setup]",
    ],
    [
      "privilege escalation",
      (j) => (podOf(j).containers[0].securityContext = { allowPrivilegeEscalation: true }),
      "spec.template.spec.*containers[].securityContext.allowPrivilegeEscalation: expected false or unset; found true in containers[loader-producer]",
    ],
    [
      "the host's network and PIDs",
      (j) => Object.assign(podOf(j), { hostNetwork: true, hostPID: true, hostIPC: false }),
      "spec.template.spec.hostNetwork, hostPID, hostIPC: expected false or unset; found true: hostNetwork, hostPID",
    ],
    [
      "a hostPath volume",
      (j) =>
        (podOf(j).volumes = [
          { name: "scratch", emptyDir: {} },
          { name: "root", hostPath: { path: "/" } },
        ]),
      "spec.template.spec.volumes[].hostPath: expected no hostPath volume; found it in root",
    ],
    [
      "another ServiceAccount",
      (j) => (podOf(j).serviceAccountName = "streamforge-self-healing-operator"),
      "spec.template.spec.serviceAccountName: expected one of default; found streamforge-self-healing-operator",
    ],
    [
      "another ServiceAccount through the deprecated alias",
      (j) => (podOf(j).serviceAccount = "queue-manager"),
      "spec.template.spec.serviceAccountName: expected one of default; found queue-manager",
    ],
    [
      "a foreign image",
      (j) => podOf(j).containers.push({ name: "miner", image: "docker.io/evil/miner:latest" }),
      "spec.template.spec.*containers[].image: expected an image starting with ghcr.io/olehkondratow/streamforge-; found containers[miner] docker.io/evil/miner:latest",
    ],
    [
      "a look-alike image",
      (j) => (podOf(j).containers[0].image = "ghcr.io/olehkondratow/other:1"),
      "spec.template.spec.*containers[].image: expected an image starting with ghcr.io/olehkondratow/streamforge-; found containers[loader-producer] ghcr.io/olehkondratow/other:1",
    ],
    [
      "a command override",
      (j) => Object.assign(podOf(j).containers[0], { command: ["sh", "-c"], args: ["cat /var/run/secrets/*"] }),
      "spec.template.spec.containers[]: expected only a worker container's fields (name, image, imagePullPolicy, env, resources, volumeMounts, terminationMessagePath, terminationMessagePolicy, securityContext); found containers[loader-producer] args, command",
    ],
    [
      "a pinned node and tolerations of everything",
      (j) => Object.assign(podOf(j), { nodeName: "control-plane-1", tolerations: [{ operator: "Exists" }] }),
      "spec.template.spec: expected only a worker pod's fields (containers, restartPolicy, terminationGracePeriodSeconds, dnsPolicy, securityContext, schedulerName, serviceAccountName, serviceAccount, automountServiceAccountToken, enableServiceLinks, volumes, imagePullSecrets); found nodeName, tolerations",
    ],
    [
      "a projected token",
      (j) =>
        (podOf(j).volumes = [
          { name: "token", projected: { sources: [{ serviceAccountToken: { audience: "vault", expirationSeconds: 86400, path: "t" } }] } },
        ]),
      "spec.template.spec.volumes[]: expected only secret, configMap, emptyDir volumes; found token (projected)",
    ],
    [
      "a mounted API token",
      (j) => (podOf(j).automountServiceAccountToken = true),
      "spec.template.spec.automountServiceAccountToken: expected false or unset (a worker needs no API token); found true",
    ],
    [
      "a Job with a selector of its own",
      (j) => Object.assign(j.spec, { manualSelector: true, selector: { matchLabels: { app: "queue-manager" } } }),
      "spec.manualSelector: expected false or unset (the API server generates a replacement's selector); found true",
    ],
    [
      "a replacement that runs hundreds of pods",
      (j) => Object.assign(j.spec, { parallelism: 500, completions: 500 }),
      "spec.parallelism, completions: expected at most 1 each (a worker Job runs one pod); found 500, 500",
    ],
    [
      // Env can load code into the worker's runtime: a name beyond the launcher's is refused, in any container.
      "env beyond the launcher's",
      (j) =>
        podOf(j).containers[0].env.push(
          { name: "NODE_OPTIONS", value: "--import=data:text/javascript,1" },
          { name: "LD_PRELOAD", value: "/x.so" },
        ),
      `spec.template.spec.*containers[].env: expected only a worker's env (${WORKER_ENV.join(", ")}: streamforge:operator.guard.allowedEnv); found containers[loader-producer] NODE_OPTIONS LD_PRELOAD`,
    ],
    [
      // Its keys (and a prefix) would become env names the guard never reads; the launcher sets none.
      "env from a Secret's keys",
      (j) => (podOf(j).containers[0].envFrom = [{ prefix: "NODE_OPTIONS", secretRef: { name: "loaders" } }]),
      "spec.template.spec.containers[]: expected only a worker container's fields (name, image, imagePullPolicy, env, resources, volumeMounts, terminationMessagePath, terminationMessagePolicy, securityContext); found containers[loader-producer] envFrom",
    ],
    [
      // A value sent to Kafka (the producer id is published on queue-events) may not copy a Secret in, nor read the pod's fields.
      "a value that expands or reads what the launcher does not set",
      (j) =>
        podOf(j).containers[0].env.push(
          { name: "KAFKA_TOPIC", value: "leak-$(KAFKA_PASSWORD)" },
          { name: "SYMBOL", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "TYPE", valueFrom: { secretKeyRef: { name: "queue-manager", key: "password" } } },
          { name: "KAFKA_PASSWORD", valueFrom: { secretKeyRef: { name: "loaders", key: "password" } } },
        ),
      "spec.template.spec.*containers[].env[]: expected values without $(...) and valueFrom only as a secretKeyRef of a *PASSWORD; found containers[loader-producer] KAFKA_TOPIC SYMBOL TYPE",
    ],
    [
      "a Job spec field no worker has",
      (j) => (j.spec.podFailurePolicy = { rules: [] }),
      "spec: expected only a worker Job's fields (template, backoffLimit, ttlSecondsAfterFinished, completions, parallelism, completionMode, suspend, podReplacementPolicy, activeDeadlineSeconds, selector, manualSelector); found podFailurePolicy",
    ],
  ])("refuses %s, naming the rule", (_, edit, message) => {
    expect(create(replacement(edit))).toBe(message);
  });

  it("admits what the stack allows: a named allowed account, false flags, other allowed prefixes, a worker's own volumes and env", () => {
    const wider = operatorGuard({
      ...ARGS,
      allowedServiceAccounts: ["default", "workers"],
      allowedImagePrefixes: ["registry.local:5000/streamforge/", "ghcr.io/olehkondratow/streamforge-"],
      allowedEnv: [...WORKER_ENV, "LOG_LEVEL"],
    });
    const job = replacement((j) => {
      // Every name of the launcher's contract, ARANGO_* by its prefix, one the stack adds, and the password from its Secret.
      podOf(j).containers[0].env = [
        ...WORKER_ENV.map((name) => ({ name: name.replace("*", "HOST"), value: "x" })),
        { name: "LOG_LEVEL", value: "info" },
      ];
      podOf(j).containers[0].env.push({ name: "KAFKA_PASSWORD", valueFrom: { secretKeyRef: { name: "loaders", key: "password" } } });
      podOf(j).serviceAccountName = "workers";
      podOf(j).automountServiceAccountToken = false;
      podOf(j).containers[0].securityContext = { privileged: false, allowPrivilegeEscalation: false };
      podOf(j).containers.push({ name: "sidecar", image: "registry.local:5000/streamforge/sidecar:1" });
      podOf(j).volumes = [
        { name: "tmp", emptyDir: {} },
        { name: "kafka", secret: { secretName: "loaders" } },
      ];
    });
    expect(admission(wider, "CREATE", { object: job })).toBe("admitted");
    expect(create(job)).toMatch(/^spec\.template\.spec\.serviceAccountName: expected one of default; found workers$/);
  });

  it("lets a patch change only the claim and give-up annotations", () => {
    const old = launched();
    const patched = (edit: (j: any) => void) => {
      const j: any = structuredClone(claimed(old));
      edit(j);
      return admission(guard, "UPDATE", { oldObject: old, object: j });
    };
    expect(patched((j) => (j.spec.activeDeadlineSeconds = 1))).toBe(
      "spec: expected unchanged (the operator only annotates the Jobs it watches); found a change",
    );
    expect(patched((j) => (j.spec.template.spec.containers[0].image = "docker.io/evil/miner:latest"))).toMatch(/^spec: expected unchanged/);
    expect(patched((j) => (j.metadata.labels = { "streamforge.io/self-healing": "disabled" }))).toBe(
      "metadata.labels, ownerReferences, finalizers: expected unchanged (the operator only annotates the Jobs it watches); found a change",
    );
    expect(patched((j) => (j.metadata.annotations[ANNOTATIONS.selfHealing] = "disabled"))).toBe(
      "metadata.annotations: expected changes to streamforge.io/superseded-by, streamforge.io/relaunch-pending, streamforge.io/self-healing-gave-up only; found changes to streamforge.io/self-healing",
    );
  });

  it("lets the operator claim, mark or delete only the worker Jobs it watches", () => {
    const notWorker = (edit: (j: any) => void) => {
      const j: any = structuredClone(launched("db-migration"));
      podOf(j).containers[0].env = podOf(j).containers[0].env.filter((e: any) => e.name !== "QUEUE_ID");
      edit(j);
      return j;
    };
    const refusal = (name: string) =>
      `metadata: expected a worker Job the operator watches (a queue-id label, a QUEUE_ID env var or a <queue_id>-<target> name; not opted out with streamforge.io/self-healing: disabled; not Litmus's; running as default); found ${name}`;
    for (const job of [
      notWorker(() => {}),
      launched("q1-loader-producer"),
      notWorker((j) => (j.metadata.name = "q1-loader-producer")),
      notWorker((j) => (j.metadata.labels = { "streamforge.io/queue-id": "q1" })),
    ]) {
      const isWorker = job.metadata.name === "q1-loader-producer" || job.metadata.labels?.["streamforge.io/queue-id"] === "q1";
      expect([job.metadata.name, admission(guard, "UPDATE", { oldObject: job, object: claimed(job) })]).toEqual([
        job.metadata.name,
        isWorker ? "admitted" : refusal(job.metadata.name),
      ]);
    }
    // Opted out, Litmus's, or running as another account: not the operator's, even with a queue.
    for (const edit of [
      (j: any) => (j.metadata.annotations = { [ANNOTATIONS.selfHealing]: "disabled" }),
      (j: any) => (j.spec.template.metadata = { annotations: { [ANNOTATIONS.selfHealing]: "disabled" } }),
      (j: any) => (j.metadata.labels = { chaosUID: "6d1b" }),
      (j: any) => (j.spec.template.metadata = { labels: { "app.kubernetes.io/part-of": "litmus" } }),
      (j: any) => (podOf(j).serviceAccountName = "queue-manager"),
    ]) {
      const job: any = structuredClone(launched());
      edit(job);
      expect(admission(guard, "UPDATE", { oldObject: job, object: claimed(job) })).toBe(refusal("q1-loader-producer"));
      expect(admission(guard, "DELETE", { oldObject: claimed(job) })).toBe(refusal("q1-loader-producer"));
    }
  });

  it("lets the operator delete only a Job it claimed, in the watched namespace", () => {
    expect(admission(guard, "DELETE", { oldObject: launched() })).toBe(
      "metadata.annotations[streamforge.io/superseded-by]: expected on a Job the operator deletes (it claims a Job before replacing it); found none",
    );
    expect(admission(guard, "DELETE", { oldObject: replacement() })).toMatch(/^metadata\.annotations\[streamforge\.io\/superseded-by\]/);
    expect(admission(guard, "DELETE", { oldObject: claimed(launched("q1-loader-producer", "other")) })).toBe(
      "metadata.namespace: expected stf, the namespace the operator watches; found other",
    );
    expect(admission(guard, "DELETE", { oldObject: launched() }, "streamforge-admin")).toBe("not checked");
  });
});

async function declared(stack: string, edit: (config: PlatformConfig) => PlatformConfig = (c) => c) {
  const { resources } = await runUnderMocks(
    { project: "streamforge", stack, config: {} },
    () => void createPlatform(edit(committedConfig(stack))),
  );
  const byKind = (kind: string) => resources.filter((r) => r.inputs.kind === kind).map((r) => r.inputs as any);
  return { resources, byKind };
}

describe("the guard in the stacks", () => {
  it.each(knownStacks())("stack %s declares it for the operator's account and watched namespace", async (stack) => {
    const { byKind } = await declared(stack);
    const [deployment] = byKind("Deployment").filter((d) => d.metadata.name === OPERATOR_NAME);
    const ns = deployment.metadata.namespace;
    const policies = byKind("ValidatingAdmissionPolicy").filter((p) => p.metadata.name.endsWith("-self-healing-job-guard"));
    const bindings = byKind("ValidatingAdmissionPolicyBinding").filter((b) => b.metadata.name.endsWith("-self-healing-job-guard"));
    expect(policies.map((p) => p.metadata.name)).toEqual([`streamforge-${ns}-self-healing-job-guard`]);
    expect(policies[0].spec.matchConditions[0].expression).toBe(
      `request.userInfo.username == "system:serviceaccount:${ns}:${OPERATOR_NAME}"`,
    );
    expect(bindings.map((b) => [b.spec.policyName, b.spec.matchResources])).toEqual([
      [policies[0].metadata.name, { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } }],
    ]);
  });

  it("follows a watched namespace of its own", async () => {
    const { byKind } = await declared("dev", (config) => ({ ...config, operator: { ...config.operator!, watchNamespace: "stf-jobs" } }));
    const [binding] = byKind("ValidatingAdmissionPolicyBinding").filter(
      (b) => b.metadata.name === "streamforge-stf-self-healing-job-guard",
    );
    expect(binding.spec.matchResources.namespaceSelector.matchLabels).toEqual({ "kubernetes.io/metadata.name": "stf-jobs" });
  });

  it("lets through the images and accounts the stack's config names", async () => {
    const { byKind } = await declared("dev", (config) => ({
      ...config,
      operator: {
        ...config.operator!,
        guard: { allowedServiceAccounts: ["workers"], allowedImagePrefixes: ["registry.example:5000/stf/"], allowedEnv: ["WORKER_*"] },
      },
    }));
    const [policy] = byKind("ValidatingAdmissionPolicy").filter((p) => p.metadata.name.endsWith("-self-healing-job-guard"));
    const text = JSON.stringify(policy.spec.validations);
    expect(text).toContain("registry.example:5000/stf/");
    expect(text).toContain("workers");
    expect(text).not.toContain(GUARD_DEFAULTS.allowedImagePrefixes[0]);
    expect(text).toContain("WORKER_");
    expect(text).not.toContain("KAFKA_PASSWORD");
  });

  it("is not declared without the operator", async () => {
    const { byKind } = await declared("dev", (config) => ({ ...config, operator: { ...config.operator!, enabled: false } }));
    expect(byKind("ValidatingAdmissionPolicy").filter((p) => p.metadata.name.endsWith("-self-healing-job-guard"))).toEqual([]);
  });

  it("defaults its lists, and checks them in the stack's config", () => {
    expect(committedConfig("dev").operator?.guard).toEqual(GUARD_DEFAULTS);
    expect(variantProblems("dev", (r) => (r.operator.guard = { allowedImagePrefixes: ["ghcr.io"] }))).toEqual([
      'streamforge:operator.guard.allowedImagePrefixes[0]: expected an image prefix with a registry and a path, such as ghcr.io/org/; found "ghcr.io" (string)',
    ]);
    expect(variantProblems("dev", (r) => (r.operator.guard = { allowedServiceAccounts: [] }))).toEqual([
      "streamforge:operator.guard.allowedServiceAccounts: expected a list with >= 1 item(s); found [] (array)",
    ]);
    expect(variantProblems("dev", (r) => (r.operator.guard = { allowedEnv: ["QUEUE_ID", "*"] }))).toEqual([
      'streamforge:operator.guard.allowedEnv[1]: expected an env name, or a prefix of names ending in _* (ARANGO_*); found "*" (string)',
    ]);
  });
});
