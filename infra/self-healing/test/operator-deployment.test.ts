/** The self-healing operator's deployment: least privilege, restricted pod security, wiring to its Kafka user. */
import { loadSettings } from "../../../operator/src/settings";
import { knownStacks, runUnderMocks } from "../../render/render";
import type { PlatformConfig } from "../../config";
import { createPlatform } from "../../platform";
import { OPERATOR_NAME, type OperatorSpec, operatorEnv } from "../manifests";
import { CA_BUNDLE_KEY } from "../../../operator/src/core/ca-copy";
import { committedConfig, mountedSecretKey } from "../../../test/helpers";
import { z } from "zod";
import { relaunchGuardSettingSchemas } from "../../../operator/src/contract";
import { RELAUNCH_GUARD_NAME } from "../relaunch-guard-spec";
import { registryLogin } from "../config";
import { admit } from "../../../test/cel";

async function declared(stack: string, edit: (config: PlatformConfig) => PlatformConfig = (c) => c) {
  const { resources } = await runUnderMocks(
    { project: "streamforge", stack, config: {} },
    () => void createPlatform(edit(committedConfig(stack))),
  );
  const all = (kind: string) => resources.filter((r) => r.inputs.kind === kind).map((r) => r.inputs as any);
  // The self-healing operator's own objects (Litmus' operator has a Deployment and a Role too).
  const byKind = (kind: string) => all(kind).filter((o) => kind !== "Deployment" || o.metadata.name === OPERATOR_NAME);
  return { resources, byKind };
}

describe.each(knownStacks())("stack %s: self-healing operator", (stack) => {
  let d: Awaited<ReturnType<typeof declared>>;
  beforeAll(async () => {
    d = await declared(stack);
  });

  it("may only touch Jobs and Events in the watched namespace, and only its own Lease", () => {
    const roles = d
      .byKind("Role")
      .filter((r) => r.metadata.name.startsWith("streamforge-self-healing-operator"))
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const rules = roles.flatMap((r) => r.rules.map((rule: any) => ({ ns: r.metadata.namespace, ...rule })));
    expect(rules).toEqual([
      { ns: "stf", apiGroups: ["batch"], resources: ["jobs"], verbs: ["get", "list", "watch", "create", "delete", "patch"] },
      { ns: "stf", apiGroups: [""], resources: ["events"], verbs: ["create"] },
      { ns: expect.any(String), apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
      {
        ns: expect.any(String),
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        resourceNames: ["streamforge-self-healing-operator"],
        verbs: ["get", "update"],
      },
    ]);
    // Nothing cluster-wide for it: no ClusterRoleBinding names its account.
    const clusterSubjects = d.byKind("ClusterRoleBinding").flatMap((b) => b.subjects ?? []);
    expect(clusterSubjects.filter((s: any) => s.name === "streamforge-self-healing-operator")).toEqual([]);
    const bindings = d.byKind("RoleBinding").filter((b) => b.metadata.name.startsWith("streamforge-self-healing-operator"));
    const sa = d.byKind("ServiceAccount").find((a) => a.metadata.name === "streamforge-self-healing-operator");
    for (const b of bindings)
      expect(b.subjects).toEqual([{ kind: "ServiceAccount", name: "streamforge-self-healing-operator", namespace: sa.metadata.namespace }]);
    expect(bindings.map((b) => b.roleRef.name).sort()).toEqual(roles.map((r) => r.metadata.name).sort());
  });

  it("runs two replicas under the restricted Pod Security Standard", () => {
    const [deployment] = d.byKind("Deployment");
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(deployment.spec.replicas).toBe(2);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(container.resources.limits.memory).toBeDefined();
    expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
  });

  it("reads queue-events as its catalogue user, whose Secret lives in its own namespace", () => {
    const [deployment] = d.byKind("Deployment");
    const env = Object.fromEntries(deployment.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      KAFKA_TOPIC: "queue-events",
      KAFKA_GROUP_ID: "streamforge-self-healing",
      KAFKA_USERNAME: "self-healing-operator",
      WATCH_NAMESPACE: "stf",
    });
    expect(env.KAFKA_PASSWORD).toEqual({ secretKeyRef: { name: "self-healing-operator", key: "password" } });
    const user = d.byKind("KafkaUser").find((u) => u.metadata.name === "self-healing-operator");
    const secret = d.byKind("Secret").find((s) => s.metadata.name === "self-healing-operator");
    // Both owners put the user's Secret in the apps namespace, where the operator runs.
    expect((user ?? secret)?.metadata.namespace).toBe(deployment.metadata.namespace);
    expect(deployment.metadata.namespace).toBe("stf");
  });

  it("verifies the brokers against the CA copy's bundle, where TLS is on", () => {
    const [deployment] = d.byKind("Deployment");
    const pod = deployment.spec.template.spec;
    const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value]));
    // Without TLS (the kafka-api catalogue owner's brokers) there is no CA to read.
    if (env.KAFKA_TLS !== "true") return expect(env.KAFKA_CA_PATH).toBeUndefined();
    const caPath = env.KAFKA_CA_PATH;
    // Every CA certificate of Strimzi's Secret: during a key replacement the brokers may present the old CA's.
    expect(mountedSecretKey(pod, pod.containers[0], caPath)).toEqual({ secretName: "k3-cluster-ca-cert", key: CA_BUNDLE_KEY });
  });

  it("sets only settings the operator reads, and the operator accepts them as they are", () => {
    const [deployment] = d.byKind("Deployment");
    const env: { name: string; value?: string; valueFrom?: unknown }[] = deployment.spec.template.spec.containers[0].env;
    // What the kubelet would resolve: a Secret's password and the pod's name.
    const resolved = Object.fromEntries(env.map((e) => [e.name, e.value ?? (e.name === "KAFKA_PASSWORD" ? "from-secret" : "pod-0")]));
    const settings = loadSettings(resolved);
    expect(settings.WATCH_NAMESPACE).toBe("stf");
    expect(settings.KAFKA_SASL_MECHANISM).toBe("scram-sha-512");
    expect(settings.identity).toBe("pod-0");
  });

  it("lets in only the monitoring namespace, on the metrics port", () => {
    const [policy] = d.byKind("NetworkPolicy").filter((p) => p.metadata.name === "streamforge-self-healing-operator");
    expect(policy.spec.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
        ports: [{ protocol: "TCP", port: 8080 }],
      },
    ]);
  });

  it("lets out only DNS, Kafka's TLS listener and the API server", () => {
    const [policy] = d.byKind("NetworkPolicy").filter((p) => p.metadata.name === "streamforge-self-healing-operator");
    expect(policy.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(policy.spec.egress.map((e: any) => e.ports.map((p: any) => `${p.protocol}/${p.port}`))).toEqual([
      ["UDP/53", "TCP/53"],
      ["TCP/9093"],
      committedConfig(stack).network!.apiServerPorts.map((p) => `TCP/${p}`),
    ]);
    expect(policy.spec.egress[2].to).toEqual([{ ipBlock: { cidr: committedConfig(stack).network!.apiServerCidr } }]);
    // The cluster DNS, in kube-system only: both selectors in one peer.
    expect(policy.spec.egress[0].to).toEqual([
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
        podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
      },
    ]);
    expect(policy.spec.egress[1].to[0].podSelector.matchLabels).toEqual({ "strimzi.io/cluster": "k3" });
  });
});

describe("a watched namespace of its own", () => {
  it("is declared with the apps namespace's Pod Security level, and holds the operator's Jobs Role", async () => {
    const { byKind } = await declared("dev", (config) => ({ ...config, operator: { ...config.operator!, watchNamespace: "stf-jobs" } }));
    const jobsNamespace = byKind("Namespace").find((ns) => ns.metadata.name === "stf-jobs");
    expect(jobsNamespace?.metadata.labels).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted" });
    const jobsRole = byKind("Role").find((r) => r.metadata.name === "streamforge-self-healing-operator");
    expect(jobsRole.metadata.namespace).toBe("stf-jobs");
    const [deployment] = byKind("Deployment");
    expect(deployment.spec.template.spec.containers[0].env).toContainEqual({ name: "WATCH_NAMESPACE", value: "stf-jobs" });
  });
});

const SPEC: OperatorSpec = {
  namespace: "stf",
  watchNamespace: "stf",
  image: "operator:dev",
  replicas: 2,
  dryRun: false,
  policy: "",
  monitoringNamespace: "monitoring",
  kafka: {
    bootstrapServers: "k3-kafka-bootstrap.kafka:9093",
    topic: "queue-events",
    groupId: "streamforge-self-healing",
    tls: true,
    caSecret: "k3-cluster-ca-cert",
    username: "self-healing-operator",
    userSecret: "self-healing-operator",
    namespace: "kafka",
    clusterName: "k3",
    port: 9093,
  },
  apiServer: { cidr: "10.0.0.1/32", ports: [443] },
};

describe("operator settings through the operator's contract", () => {
  it("carries a policy override to the Deployment as the operator parses it", async () => {
    const policy = { budget: { maxRelaunches: 1, windowMs: 600000 }, fatalMessagePattern: "fatal|panic" };
    const { byKind } = await declared("dev", (config) => ({ ...config, operator: { ...config.operator!, policy } }));
    const env = byKind("Deployment")[0].spec.template.spec.containers[0].env;
    const value = env.find((e: any) => e.name === "SELF_HEALING_POLICY").value;
    expect(loadSettings({ KAFKA_BROKERS: "k:9093", SELF_HEALING_POLICY: value }).policy.budget).toEqual(policy.budget);
  });

  it("refuses, at preview, a setting value the operator would refuse at start", () => {
    const spec = { ...SPEC, watchNamespace: "Not_A_Label" };
    expect(() => operatorEnv(spec)).toThrow(/WATCH_NAMESPACE="Not_A_Label": a lowercase DNS label/);
    expect(operatorEnv(SPEC).map((e) => e.name)).toContain("WATCH_NAMESPACE");
  });
});

describe("a private registry", () => {
  it("gives the pods a dockerconfigjson pull Secret built from the secret password", async () => {
    const { resources, byKind } = await declared("local");
    const [secret] = resources.filter((r) => r.inputs.type === "kubernetes.io/dockerconfigjson");
    expect(secret?.inputs.metadata).toMatchObject({ name: "streamforge-self-healing-operator-pull", namespace: "stf" });
    expect(byKind("Deployment")[0].spec.template.spec.imagePullSecrets).toEqual([{ name: "streamforge-self-healing-operator-pull" }]);
  });
});

describe("operator image", () => {
  it("is built from operator/Dockerfile and pushed in prod, deployed by digest", async () => {
    const { resources, byKind } = await declared("prod");
    const [image] = resources.filter((r) => r.type === "docker-build:index:Image");
    expect(image?.inputs).toMatchObject({
      push: true,
      dockerfile: { location: "operator/Dockerfile" },
      tags: ["ghcr.io/olehkondratow/streamforge-self-healing-operator:0.1.0"],
    });
    expect(byKind("Deployment")[0].spec.template.spec.containers[0].image).toBe("[image digest at deploy]");
  });

  it("is a prebuilt reference in dev", async () => {
    const { resources, byKind } = await declared("dev");
    expect(resources.filter((r) => r.type === "docker-build:index:Image")).toEqual([]);
    expect(byKind("Deployment")[0].spec.template.spec.containers[0].image).toBe(
      "ghcr.io/olehkondratow/streamforge-self-healing-operator:0.1.0",
    );
  });
});

describe("the operator image a stack builds", () => {
  it("is built by the deploy only: a preview builds nothing (docker-build's default would)", async () => {
    const { resources } = await declared("prod");
    const images = resources.filter((r) => r.type === "docker-build:index:Image");
    expect(images.map((r) => [r.name, r.inputs.buildOnPreview, r.inputs.push])).toEqual([["self-healing-image", false, true]]);
  });
});

/** The committed stacks name no namespace for the guard: the default, after the apps namespace. */
const GUARD_NS = "stf-relaunch-guard";

describe.each(knownStacks())("stack %s: the relaunch guard", (stack) => {
  let d: Awaited<ReturnType<typeof declared>>;
  const named = (kind: string) =>
    d.resources.filter((r) => r.inputs.kind === kind && (r.inputs as any).metadata.name.includes("relaunch-guard"));
  const one = (kind: string) => named(kind).map((r) => r.inputs as any)[0];
  beforeAll(async () => {
    d = await declared(stack);
  });

  it("may get the watched Jobs, get and update its certificate's Secret, get and patch its own configuration, by name", () => {
    const rules = [...named("Role"), ...named("ClusterRole")].flatMap((r) =>
      (r.inputs as any).rules.map((rule: any) => ({ ns: (r.inputs as any).metadata.namespace ?? "(cluster)", ...rule })),
    );
    expect(rules).toEqual([
      { ns: "stf", apiGroups: ["batch"], resources: ["jobs"], verbs: ["get"] },
      {
        ns: GUARD_NS,
        apiGroups: [""],
        resources: ["secrets"],
        resourceNames: ["streamforge-relaunch-guard-tls"],
        verbs: ["get", "update"],
      },
      {
        ns: "(cluster)",
        apiGroups: ["admissionregistration.k8s.io"],
        resources: ["validatingwebhookconfigurations"],
        resourceNames: ["streamforge-stf-relaunch-guard"],
        verbs: ["get", "patch"],
      },
    ]);
    for (const b of [...named("RoleBinding"), ...named("ClusterRoleBinding")])
      expect((b.inputs as any).subjects).toEqual([{ kind: "ServiceAccount", name: RELAUNCH_GUARD_NAME, namespace: GUARD_NS }]);
    // The certificate's Secret is created empty: its data is the guard's alone.
    expect(one("Secret")).toEqual({ apiVersion: "v1", kind: "Secret", metadata: expect.any(Object), type: "Opaque" });
  });

  it("runs two replicas of the operator's image under the restricted Pod Security Standard, with settings it accepts", () => {
    const guard = one("Deployment");
    const operator = d.byKind("Deployment")[0];
    const pod = guard.spec.template.spec;
    const [container] = pod.containers;
    expect(guard.spec.replicas).toBe(2);
    expect(pod.serviceAccountName).toBe(RELAUNCH_GUARD_NAME);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect([container.image, container.args]).toEqual([operator.spec.template.spec.containers[0].image, ["dist/relaunch-guard.js"]]);
    expect(container.readinessProbe.httpGet).toEqual({ path: "/healthz", port: "https", scheme: "HTTPS" });
    const env = z.object(relaunchGuardSettingSchemas).parse(Object.fromEntries(container.env.map((e: any) => [e.name, e.value])));
    const url = committedConfig(stack).operator!.relaunchGuard.url;
    expect(env).toMatchObject({
      OPERATOR_USER: "system:serviceaccount:stf:streamforge-self-healing-operator",
      CERT_STORE: { namespace: GUARD_NS, name: "streamforge-relaunch-guard-tls" },
      SERVING_HOSTS: [`streamforge-relaunch-guard.${GUARD_NS}.svc`, ...(url ? ["127.0.0.1"] : [])],
      WEBHOOK_CONFIGURATION: "streamforge-stf-relaunch-guard",
      // Frozen: the guard's server-side apply co-owns the entry by this name, so a rename would leave a half entry behind.
      WEBHOOK_NAME: "relaunch-guard.streamforge.io",
      PORT: 9443,
    });
  });

  it("runs in a namespace of its own, restricted and denied both ways, where only its own objects and account are", () => {
    const inputs = d.resources.map((r) => r.inputs as any);
    expect(inputs.find((o) => o.kind === "Namespace" && o.metadata.name === GUARD_NS)?.metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
    });
    const there = inputs.filter((o) => o.metadata?.namespace === GUARD_NS);
    expect(there.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        "Deployment/streamforge-relaunch-guard",
        "NetworkPolicy/default-deny",
        "NetworkPolicy/streamforge-relaunch-guard",
        "PodDisruptionBudget/streamforge-relaunch-guard",
        "Role/streamforge-relaunch-guard-certificate",
        "RoleBinding/streamforge-relaunch-guard-certificate",
        "Secret/streamforge-relaunch-guard-tls",
        "Service/streamforge-relaunch-guard",
        "ServiceAccount/default",
        "ServiceAccount/streamforge-relaunch-guard",
        ...(registryLogin(committedConfig(stack).operator!.image) ? ["Secret/streamforge-relaunch-guard-pull"] : []),
      ].sort(),
    );
    expect(there.find((o) => o.metadata.name === "default-deny").spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    expect(there.find((o) => o.kind === "ServiceAccount" && o.metadata.name === "default").automountServiceAccountToken).toBe(false);
    // Should anyone be bound there after all: no long-lived token, no session into the guard's pods.
    const boundThere = inputs
      .filter((o) => o.kind === "ValidatingAdmissionPolicyBinding")
      .filter((o) => (o.spec.matchResources?.namespaceSelector?.matchExpressions?.[0]?.values ?? []).includes(GUARD_NS))
      .map((o) => o.spec.policyName.replace(/^streamforge-stf-/, ""));
    expect(boundThere.sort()).toEqual(["apps-no-token-secrets", "apps-platform-pod-access"]);
  });

  it("lets in only the API server and Konnectivity's agents in kube-system, on its port, and lets out only the API server", () => {
    const { spec } = one("NetworkPolicy");
    const api = committedConfig(stack).network!;
    const agents = (label: string) => ({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
      podSelector: { matchLabels: { [label]: "konnectivity-agent" } },
    });
    expect(spec.ingress).toEqual([
      {
        from: [{ ipBlock: { cidr: api.apiServerCidr } }, agents("k8s-app"), agents("app")],
        ports: [{ protocol: "TCP", port: 9443 }],
      },
    ]);
    expect(spec.egress).toEqual([
      { to: [{ ipBlock: { cidr: api.apiServerCidr } }], ports: api.apiServerPorts.map((port) => ({ protocol: "TCP", port })) },
    ]);
    expect(one("Service").spec.ports).toEqual([{ name: "https", port: 443, targetPort: "https", protocol: "TCP" }]);
  });

  it("is called by the API server for the operator's Job creates only, failing closed, once the guard is up; the operator waits for it", () => {
    const vwc = named("ValidatingWebhookConfiguration")[0]!;
    const [webhook] = (vwc.inputs as any).webhooks;
    const url = committedConfig(stack).operator!.relaunchGuard.url;
    expect(webhook.clientConfig).toEqual(
      url ? { url } : { service: { name: RELAUNCH_GUARD_NAME, namespace: GUARD_NS, path: "/validate", port: 443 } },
    );
    expect(webhook).toMatchObject({ failurePolicy: "Fail", sideEffects: "None", rules: [{ operations: ["CREATE"], resources: ["jobs"] }] });
    expect(webhook.matchConditions[0].expression).toBe(
      'request.userInfo.username == "system:serviceaccount:stf:streamforge-self-healing-operator"',
    );
    const urnOf = (type: string, name: string) => d.resources.find((r) => r.type === type && r.name === name)!;
    const guard = named("Deployment")[0]!;
    expect(vwc.dependsOn).toEqual(expect.arrayContaining([expect.stringContaining(`::${guard.name}`)]));
    const operator = urnOf("kubernetes:apps/v1:Deployment", "self-healing-deployment");
    expect(operator.dependsOn).toEqual(expect.arrayContaining([expect.stringContaining(`::${vwc.name}`)]));
    // Its patch on the configuration is granted only once the policy that limits it to the CA is in force.
    const grant = named("ClusterRoleBinding")[0]!;
    expect(grant.dependsOn).toEqual(expect.arrayContaining([expect.stringContaining("::self-healing-relaunch-guard-ca-only")]));
    // It holds everyone but the stack's deployers to the CA: the guard, and an account of its name
    // elsewhere. Only whom it checks is judged here (cel-js lacks optional equality); its refusals
    // come from the real API server in relaunch-guard.itest.ts.
    const caOnly = one("ValidatingAdmissionPolicy");
    const whom = { spec: { ...caOnly.spec, validations: [] } };
    const by = (username: string, groups: string[] = []) =>
      admit(whom, { operation: "UPDATE", object: vwc.inputs, oldObject: vwc.inputs, userInfo: { username, groups } });
    for (const who of [
      `system:serviceaccount:${GUARD_NS}:streamforge-relaunch-guard`,
      "system:serviceaccount:stf:streamforge-relaunch-guard",
    ])
      expect([who, by(who)]).toEqual([who, "admitted"]);
    const { deployers } = committedConfig(stack).apps;
    expect(deployers!.users.length + deployers!.groups.length).toBeGreaterThan(0);
    for (const user of deployers!.users) expect(by(user)).toBe("not checked");
    for (const group of deployers!.groups) expect(by("someone", [group])).toBe("not checked");
  });
});
