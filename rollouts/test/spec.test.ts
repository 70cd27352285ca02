import { renderStack } from "../../infra/render/render";
import { CA_BUNDLE_KEY } from "../../operator/src/core/ca-copy";
import { committedConfig, mountedSecretKey } from "../../test/helpers";
import type { RolloutsConfig } from "../config";
import { UNNEEDED_WRITES } from "../controller-guard";
import {
  CANARY_SERVICE,
  INSTANCE_ID_LABEL,
  STABLE_SERVICE,
  TEMPLATE_NAMES,
  analysisTemplates,
  controllerChartValues,
  controllerRbac,
  criticalErrorsQuery,
  errorRateQuery,
  networkPolicy,
  p95VsStableQuery,
  podMonitor,
  rollout,
  routerObject,
} from "../spec";

const rolloutsOf = (stack: string): RolloutsConfig => committedConfig(stack).rollouts!;
const CTX = {
  namespace: "stf",
  kafkaBootstrap: "k3-kafka-bootstrap.kafka:9093",
  controlTopic: "queue-control",
  eventsTopic: "queue-events",
  kafkaUserSecret: "queue-manager",
  clusterCaSecret: "k3-cluster-ca-cert",
  monitoringNamespace: "monitoring",
};

describe("the Rollout", () => {
  const r = rollout(rolloutsOf("dev"), CTX) as any;
  const canary = r.spec.strategy.canary;
  const pod = r.spec.template.spec;

  it("is a canary between the stable and canary Services, its weights set on the Istio VirtualService's primary route", () => {
    expect(canary).toMatchObject({
      stableService: STABLE_SERVICE,
      canaryService: CANARY_SERVICE,
      trafficRouting: { istio: { virtualService: { name: "queue-manager", routes: ["primary"] } } },
      abortScaleDownDelaySeconds: 600,
      scaleDownDelaySeconds: 60,
    });
    expect(canary.dynamicStableScale).toBeUndefined();
  });

  it("runs the step analyses with the canary and stable pod-template hashes, and the business signal from the first step", () => {
    const analysisSteps = canary.steps.filter((s: any) => s.analysis);
    expect(analysisSteps).toHaveLength(3);
    expect(analysisSteps[0].analysis).toEqual({
      templates: [{ templateName: TEMPLATE_NAMES.errorRate }, { templateName: TEMPLATE_NAMES.latency }],
      args: [
        { name: "canary-hash", valueFrom: { podTemplateHashValue: "Latest" } },
        { name: "stable-hash", valueFrom: { podTemplateHashValue: "Stable" } },
      ],
    });
    expect(canary.analysis).toEqual({ templates: [{ templateName: TEMPLATE_NAMES.criticalErrors }], startingStep: 0 });
    expect(canary.steps[0]).toEqual({ setWeight: 10 });
  });

  it("runs queue-manager on 8080 with its probes, its Kafka credentials and the restricted Pod Security Standard", () => {
    const [c] = pod.containers;
    expect(c.ports).toEqual([{ name: "http", containerPort: 8080 }]);
    expect([c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path]).toEqual(["/health/live", "/health/ready"]);
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      KAFKA_BOOTSTRAP_SERVERS: "k3-kafka-bootstrap.kafka:9093",
      KAFKA_USER: "queue-manager",
      KAFKA_PASSWORD: { secretKeyRef: { name: "queue-manager", key: "password" } },
      QUEUE_CONTROL_TOPIC: "queue-control",
      QUEUE_EVENTS_TOPIC: "queue-events",
    });
    // CA_PATH is the CA copy's bundle: every CA certificate, so a key replacement keeps the brokers trusted.
    expect(mountedSecretKey(pod, c, env.CA_PATH)).toEqual({ secretName: CTX.clusterCaSecret, key: CA_BUNDLE_KEY });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(c.resources.limits.memory).toBeDefined();
  });

  it("leaves the replica count to the autoscaler where there is one", () => {
    expect(r.spec.replicas).toBe(1);
    expect((rollout(rolloutsOf("prod"), CTX) as any).spec.replicas).toBeUndefined();
  });

  it("without a router, has no trafficRouting and no router-only delays", () => {
    const replicas = { ...rolloutsOf("dev"), router: { type: "replicas" as const } };
    const c = (rollout(replicas, CTX) as any).spec.strategy.canary;
    expect([c.trafficRouting, c.scaleDownDelaySeconds, c.dynamicStableScale]).toEqual([undefined, undefined, undefined]);
    expect(routerObject(replicas.router, "stf")).toBeUndefined();
  });
});

describe("the AnalysisTemplates", () => {
  const cfg = rolloutsOf("dev");
  const templates = analysisTemplates(cfg.analysis, "stf") as any[];
  const metrics = templates.flatMap((t) => t.spec.metrics.map((m: any) => ({ template: t.metadata.name, ...m })));

  it("declare every arg their queries use", () => {
    for (const t of templates) {
      const used = new Set([...JSON.stringify(t.spec.metrics).matchAll(/\{\{args\.([a-z-]+)\}\}/g)].map((m) => m[1]));
      expect([t.metadata.name, [...used].sort()]).toEqual([t.metadata.name, t.spec.args.map((a: any) => a.name).sort()]);
    }
  });

  it("treat no data and NaN as neither success nor failure: Inconclusive", () => {
    for (const m of metrics) {
      expect(m.successCondition).toMatch(/^len\(result\) > 0 && !isNaN\(result\[0\]\) && result\[0\] <= /);
      expect(m.failureCondition).toMatch(/^len\(result\) > 0 && !isNaN\(result\[0\]\) && result\[0\] > /);
    }
  });

  it("bound step analyses by count and success streak; let the background one run for the whole rollout", () => {
    const byName = Object.fromEntries(metrics.map((m) => [m.name, m]));
    for (const name of ["error-rate", "p95", "p95-vs-stable"])
      expect(byName[name]).toMatchObject({ count: 4, failureLimit: 1, inconclusiveLimit: 1, consecutiveSuccessLimit: 2, interval: "1m" });
    expect(byName["critical-errors"].count).toBeUndefined();
    expect(byName["critical-errors"].consecutiveSuccessLimit).toBeUndefined();
    expect(metrics.map((m) => m.provider.prometheus.address)).toEqual(metrics.map(() => "http://prometheus-operated.monitoring:9090"));
  });

  it("compare canary and stable by the pod-template hash the PodMonitor keeps", () => {
    expect(errorRateQuery(cfg.analysis, "stf")).toContain('rollouts_pod_template_hash="{{args.canary-hash}}"');
    expect(p95VsStableQuery(cfg.analysis, "stf")).toContain('rollouts_pod_template_hash="{{args.stable-hash}}"');
    expect((podMonitor("stf", "15s") as any).spec.podTargetLabels).toEqual(["rollouts-pod-template-hash"]);
    expect(criticalErrorsQuery(cfg.analysis)).toContain('streamforge_operator_events_total{kind="fatal"}');
  });
});

describe("queue-manager's PodMonitor", () => {
  const queueManagerMonitor = async (edit?: (raw: Record<string, any>) => void) => {
    const { manifests } = await renderStack("dev", edit ? { edit } : {});
    return manifests.find((m) => m.kind === "PodMonitor" && m.metadata.name === "queue-manager") as any;
  };

  it("carries the labels the stack's Prometheus selects by, and keeps the pod-template hash", () => {
    const m = podMonitor("stf", "15s", { release: "prom", team: "data" }) as any;
    expect(m.metadata.labels).toEqual({
      "app.kubernetes.io/name": "queue-manager",
      "app.kubernetes.io/part-of": "streamforge",
      release: "prom",
      team: "data",
    });
    expect(m.spec.podTargetLabels).toEqual(["rollouts-pod-template-hash"]);
    expect(m.spec.selector.matchLabels).toEqual({ "app.kubernetes.io/name": "queue-manager" });
  });

  it("gets streamforge:observability.selectorLabels from the stack where observability is on", async () => {
    const m = await queueManagerMonitor((raw) => (raw.observability.selectorLabels = { release: "prom-main" }));
    expect(m.metadata.labels).toMatchObject({ release: "prom-main" });
    expect(m.spec.podTargetLabels).toEqual(["rollouts-pod-template-hash"]);
    expect((await queueManagerMonitor()).metadata.labels).toMatchObject({ release: "kube-prometheus-stack" });
  });

  it("has none where observability is off", async () => {
    const m = await queueManagerMonitor((raw) => (raw.observability = { enabled: false, selectorLabels: { release: "prom-main" } }));
    expect(m.metadata.labels).toEqual({ "app.kubernetes.io/name": "queue-manager", "app.kubernetes.io/part-of": "streamforge" });
    expect(m.spec.podTargetLabels).toEqual(["rollouts-pod-template-hash"]);
  });
});

describe("the controller's chart values", () => {
  it("pin the image, apply no CRDs and no ClusterRole through Helm; the RBAC grants the router in use only, and Secrets in its namespace only", () => {
    const values = controllerChartValues(rolloutsOf("prod")) as any;
    expect(values.installCRDs).toBe(false);
    expect(values.controller.createClusterRole).toBe(false);
    expect(values.controller.image.tag).toBe("v1.10.2");
    expect(values.controller.metrics.enabled).toBe(true);
    const rbac = controllerRbac(rolloutsOf("prod"), "argo-rollouts");
    const groups = rbac.clusterRole.rules.flatMap((r) => r.apiGroups);
    expect(
      groups.filter((g) => !["", "apps", "argoproj.io", "coordination.k8s.io", "networking.k8s.io", "extensions", "batch"].includes(g)),
    ).toEqual(["networking.istio.io"]);
    expect(rbac.clusterRole.rules.filter((r) => r.resources.includes("secrets"))).toEqual([]);
    expect(rbac.role).toEqual({
      metadata: expect.objectContaining({ namespace: "argo-rollouts" }),
      rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] }],
    });
    // The writes the scope guard refuses are not granted either: their informers only read.
    for (const [group, resource] of UNNEEDED_WRITES)
      expect([
        resource,
        rbac.clusterRole.rules.filter((r) => r.apiGroups.includes(group) && r.resources.includes(resource)).flatMap((r) => r.verbs),
      ]).toEqual([resource, ["get", "list", "watch"]]);
  });

  it("with an instance ID: the Rollout and every AnalysisTemplate carry its label and the controller gets --instance-id; without one, neither", () => {
    const cfg = rolloutsOf("prod");
    const instanced = { ...cfg, controller: { ...cfg.controller, instanceId: "team-a" } };
    const labelOf = (o: any) => o.metadata.labels[INSTANCE_ID_LABEL];
    expect([
      labelOf(rollout(instanced, CTX)),
      ...analysisTemplates(instanced.analysis, "stf", instanced.controller.instanceId).map(labelOf),
      (controllerChartValues(instanced) as any).controller.extraArgs,
    ]).toEqual(["team-a", "team-a", "team-a", "team-a", ["--instance-id=team-a"]]);
    expect([
      labelOf(rollout(cfg, CTX)),
      ...analysisTemplates(cfg.analysis, "stf").map(labelOf),
      (controllerChartValues(cfg) as any).controller.extraArgs,
    ]).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it("configure the Gateway API plugin with its pinned location and sha256, and its RBAC only", () => {
    const gateway = {
      ...rolloutsOf("dev"),
      router: {
        type: "gateway-api" as const,
        gateway: { name: "public", namespace: "gateway" },
        hostnames: [],
        plugin: { version: "v0.15.0", location: "https://example.test/gatewayapi-plugin-linux-amd64", sha256: "a".repeat(64) },
      },
    };
    const values = controllerChartValues(gateway) as any;
    expect(values.controller.trafficRouterPlugins).toEqual([
      { name: "argoproj-labs/gatewayAPI", location: "https://example.test/gatewayapi-plugin-linux-amd64", sha256: "a".repeat(64) },
    ]);
    // Exactly what the plugin's docs list, for HTTPRoutes only: no provider switch, no `*`, no Istio.
    expect(
      controllerRbac(gateway, "argo-rollouts").clusterRole.rules.filter(
        (r) =>
          !["", "apps", "argoproj.io", "coordination.k8s.io", "networking.k8s.io", "extensions", "batch"].some((g) =>
            r.apiGroups.includes(g),
          ),
      ),
    ).toEqual([{ apiGroups: ["gateway.networking.k8s.io"], resources: ["httproutes"], verbs: ["get", "list", "update", "patch"] }]);
    expect(
      (networkPolicy(gateway, CTX) as any).spec.ingress[0].from.map(
        (p: any) => p.namespaceSelector.matchLabels["kubernetes.io/metadata.name"],
      ),
    ).toEqual(["gateway", "istio-ingress", "monitoring"]);
  });
});
