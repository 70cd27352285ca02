/**
 * queue-manager as an Argo Rollouts canary, as plain objects: the Rollout, its stable and canary
 * Services, the traffic router's object, the AnalysisTemplates and their PromQL, the PodMonitor
 * that carries the pod-template hash into the series, and the controller's Helm values. Pure.
 */
import { CA_BUNDLE_KEY, CA_MOUNT_PATH, CA_PATH } from "../infra/kit/kafka-ca";
import { allowIngress } from "../infra/kit/network-spec";
import { type ThirdPartyImage, withDigest } from "../infra/kit/images";
import type { AnalysisConfig, CanaryStepConfig, RolloutsConfig, RouterConfig } from "./config";

export const ROLLOUTS_API_VERSION = "argoproj.io/v1alpha1";
export const QUEUE_MANAGER = "queue-manager";
export const STABLE_SERVICE = QUEUE_MANAGER;
export const CANARY_SERVICE = `${QUEUE_MANAGER}-canary`;
/** The route of the VirtualService whose weights the controller rewrites. */
export const PRIMARY_ROUTE = "primary";
export const GATEWAY_API_PLUGIN = "argoproj-labs/gatewayAPI";
/** The label Argo Rollouts puts on each ReplicaSet's pods; the PodMonitor copies it onto the series. */
export const POD_TEMPLATE_HASH_LABEL = "rollouts-pod-template-hash";
/** The same label as Prometheus names it once prometheus-operator has sanitised it. */
export const POD_TEMPLATE_HASH_SERIES_LABEL = "rollouts_pod_template_hash";
const HTTP_PORT = 8080;

export const TEMPLATE_NAMES = {
  errorRate: `${QUEUE_MANAGER}-error-rate`,
  latency: `${QUEUE_MANAGER}-latency`,
  criticalErrors: `${QUEUE_MANAGER}-critical-errors`,
} as const;

const labels = { "app.kubernetes.io/name": QUEUE_MANAGER, "app.kubernetes.io/part-of": "streamforge" };
/**
 * The label that assigns an object to one controller instance (argo-rollouts v1.10.2
 * pkg/apis/rollouts/v1alpha1/types.go L159-161). Its informers of Rollouts, AnalysisRuns,
 * AnalysisTemplates and Experiments list by it (cmd/rollouts-controller/main.go L170-195), so the
 * templates need it as much as the Rollout; the AnalysisRuns it creates get it from the Rollout
 * (utils/analysis/factory.go L57-107).
 */
export const INSTANCE_ID_LABEL = "argo-rollouts.argoproj.io/controller-instance-id";
/** The labels of an object the controller reads by its instance ID. */
const instanceLabels = (instanceId: string | undefined) =>
  instanceId === undefined ? labels : { ...labels, [INSTANCE_ID_LABEL]: instanceId };
export const QUEUE_MANAGER_POD_LABELS = { "app.kubernetes.io/name": QUEUE_MANAGER } as const;
const selector = QUEUE_MANAGER_POD_LABELS;

/** What queue-manager needs from the rest of the platform. */
export interface QueueManagerContext {
  /** The apps namespace: where the Rollout, its Services and AnalysisTemplates live. */
  readonly namespace: string;
  /** Bootstrap servers (host:port) of Kafka's TLS listener. */
  readonly kafkaBootstrap: string;
  /** The topic queue-manager reads its commands from. */
  readonly controlTopic: string;
  /** The topic queue-manager writes its queue events to (the operator reads them). */
  readonly eventsTopic: string;
  /** Secret (in the namespace) with the Kafka user's `password`. */
  readonly kafkaUserSecret: string;
  /** Secret (in the namespace) with the cluster CA copy: its bundle of every CA certificate (`ca-bundle.pem`) is mounted. */
  readonly clusterCaSecret: string;
  /** Namespace of the Prometheus that scrapes queue-manager. */
  readonly monitoringNamespace: string;
  /**
   * Labels the stack's Prometheus selects PodMonitors by (`streamforge:observability.selectorLabels`,
   * e.g. `release: kube-prometheus-stack`), where the stack declares observability; none otherwise.
   */
  readonly monitorSelectorLabels?: Readonly<Record<string, string>>;
}

// ---- PromQL -------------------------------------------------------------------------------

/** A series selector of queue-manager's pods of one pod-template hash (an Argo arg). */
function podSelector(namespace: string, hashArg: string, extra = ""): string {
  return `{namespace="${namespace}", ${POD_TEMPLATE_HASH_SERIES_LABEL}="{{args.${hashArg}}}"${extra}}`;
}

/**
 * Share of the canary's requests that failed with a server error. prometheus_client creates a
 * labelled series only when it is first incremented, so a canary that never served a 5xx has no
 * error series: `or vector(0)` makes that a 0 (both sides carry no labels after `sum`, so they
 * match). The three outcomes, as the template's conditions read them:
 * - requests, some or no 5xx: a number, Successful or Failed against maxErrorRate;
 * - request series but no requests in the window (no traffic): 0/0 = NaN, Inconclusive, value `[NaN]`;
 * - no request series at all (the canary's pods are not scraped): empty, Inconclusive, value `[]`.
 * (metricproviders/prometheus/prometheus.go processResponse hands the vector's values to the
 * conditions as `result`; utils/evaluate/evaluate.go EvaluateResult: neither condition true is Inconclusive.)
 */
export function errorRateQuery(a: AnalysisConfig, namespace: string): string {
  const { requestsTotal, statusLabel, serverErrorStatus } = a.metrics;
  const errors = podSelector(namespace, "canary-hash", `, ${statusLabel}=~"${serverErrorStatus}"`);
  return `(sum(rate(${requestsTotal}${errors}[${a.interval}])) or vector(0)) / sum(rate(${requestsTotal}${podSelector(namespace, "canary-hash")}[${a.interval}]))`;
}

/** The p95 request duration of one pod-template hash, in seconds. */
export function p95Query(a: AnalysisConfig, namespace: string, hashArg: "canary-hash" | "stable-hash"): string {
  return `histogram_quantile(0.95, sum by (le) (rate(${a.metrics.durationBucket}${podSelector(namespace, hashArg)}[${a.interval}])))`;
}

/** The canary's p95 over stable's. */
export function p95VsStableQuery(a: AnalysisConfig, namespace: string): string {
  return `${p95Query(a, namespace, "canary-hash")} / ${p95Query(a, namespace, "stable-hash")}`;
}

/**
 * Critical errors reported on queue-events (`fatal` events counted by the self-healing operator)
 * now, over the hour before, floored so a quiet hour is not a zero to divide by. Where the
 * operator saw events but no critical error, the rate is 0 (`or 0 * ...`); where it saw no
 * events at all, the result is empty: no data, never a silent pass.
 */
export function criticalErrorsQuery(a: AnalysisConfig): string {
  const events = "streamforge_operator_events_total";
  const rate = (window: string, offset = "") =>
    `(sum(rate(${events}{kind="fatal"}[${window}]${offset})) or (0 * sum(rate(${events}[${window}]${offset}))))`;
  const floor = a.criticalErrors.baselineFloorPerMinute / 60;
  return `${rate(a.interval)} / clamp_min(${rate("1h", ` offset ${a.interval}`)} or vector(0), ${floor})`;
}

// ---- AnalysisTemplates -----------------------------------------------------------------------

/** Success and failure both test a number: an empty result or NaN is neither, so the measurement is Inconclusive. */
function conditions(bound: string, op: "<=" | ">="): { successCondition: string; failureCondition: string } {
  const present = "len(result) > 0 && !isNaN(result[0])";
  const fail = op === "<=" ? ">" : "<";
  return {
    successCondition: `${present} && result[0] ${op} ${bound}`,
    failureCondition: `${present} && result[0] ${fail} ${bound}`,
  };
}

/**
 * Step analyses: a step passes on two good measurements in a row, a second Failed aborts, a second
 * Inconclusive pauses for a person, and four measurements without two good in a row pause too.
 * `count` is 4, not 3: Argo ends a metric that reaches `count` without the streak as Inconclusive
 * when failureLimit and consecutiveSuccessLimit both apply (analysis/analysis.go assessMetricStatus),
 * so with 3 a single bad or empty minute in the middle (good, bad, good) paused the rollout.
 * rollouts/test/analysis-limits.test.ts checks these sentences against Argo's aggregation for
 * every measurement sequence. ValidateMetric (utils/analysis/factory.go) needs count >= failureLimit + streak.
 */
export const STEP_LIMITS = { count: 4, failureLimit: 1, inconclusiveLimit: 1, consecutiveSuccessLimit: 2 } as const;
/**
 * The background analysis runs for the whole rollout: no count, no success streak that would end
 * it early. Its counters never reset: a second Failed or a fourth Inconclusive over the whole
 * rollout ends it (and aborts or pauses the rollout).
 */
export const BACKGROUND_LIMITS = { failureLimit: 1, inconclusiveLimit: 3 } as const;

function prometheus(a: AnalysisConfig, query: string) {
  return { prometheus: { address: a.prometheusAddress, timeout: 30, query } };
}

function analysisTemplate(name: string, namespace: string, instanceId: string | undefined, args: string[], metrics: object[]) {
  return {
    apiVersion: ROLLOUTS_API_VERSION,
    kind: "AnalysisTemplate" as const,
    metadata: { name, namespace, labels: instanceLabels(instanceId) },
    spec: { args: args.map((arg) => ({ name: arg })), metrics },
  };
}

/** `instanceId`: the controller instance that serves them (`controller.instanceId`). */
export function analysisTemplates(a: AnalysisConfig, namespace: string, instanceId?: string) {
  return [
    analysisTemplate(
      TEMPLATE_NAMES.errorRate,
      namespace,
      instanceId,
      ["canary-hash"],
      [
        {
          name: "error-rate",
          interval: a.interval,
          ...STEP_LIMITS,
          ...conditions(String(a.maxErrorRate), "<="),
          provider: prometheus(a, errorRateQuery(a, namespace)),
        },
      ],
    ),
    analysisTemplate(
      TEMPLATE_NAMES.latency,
      namespace,
      instanceId,
      ["canary-hash", "stable-hash"],
      [
        {
          name: "p95",
          interval: a.interval,
          ...STEP_LIMITS,
          ...conditions(String(a.maxP95Seconds), "<="),
          provider: prometheus(a, p95Query(a, namespace, "canary-hash")),
        },
        {
          name: "p95-vs-stable",
          interval: a.interval,
          ...STEP_LIMITS,
          ...conditions(String(a.maxP95VsStable), "<="),
          provider: prometheus(a, p95VsStableQuery(a, namespace)),
        },
      ],
    ),
    analysisTemplate(
      TEMPLATE_NAMES.criticalErrors,
      namespace,
      instanceId,
      [],
      [
        {
          name: "critical-errors",
          interval: a.interval,
          ...BACKGROUND_LIMITS,
          ...conditions(String(a.criticalErrors.maxIncreaseFactor), "<="),
          provider: prometheus(a, criticalErrorsQuery(a)),
        },
      ],
    ),
  ];
}

// ---- The Rollout ---------------------------------------------------------------------------

const hashArgs = [
  { name: "canary-hash", valueFrom: { podTemplateHashValue: "Latest" } },
  { name: "stable-hash", valueFrom: { podTemplateHashValue: "Stable" } },
];

/** Config steps as Argo steps: an analysis step runs the step templates with both hashes. */
export function canarySteps(steps: readonly CanaryStepConfig[]): object[] {
  return steps.map((step) =>
    "analysis" in step
      ? { analysis: { templates: [{ templateName: TEMPLATE_NAMES.errorRate }, { templateName: TEMPLATE_NAMES.latency }], args: hashArgs } }
      : step,
  );
}

function trafficRouting(router: RouterConfig, namespace: string): object | undefined {
  switch (router.type) {
    case "istio":
      return { istio: { virtualService: { name: QUEUE_MANAGER, routes: [PRIMARY_ROUTE] } } };
    case "gateway-api":
      return { plugins: { [GATEWAY_API_PLUGIN]: { httpRoute: QUEUE_MANAGER, namespace } } };
    case "replicas":
      return undefined;
  }
}

/** Defaults of the scale-down delays where the config leaves them unset (with a traffic router). */
export const DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS = 600;
export const DEFAULT_SCALE_DOWN_DELAY_SECONDS = 60;

/**
 * The canary's scale-down fields. The config refuses the combinations the controller refuses
 * (rollouts/config.ts scaleDownRules); here only what is left: nothing without a router (the
 * controller ignores or refuses all three), and no scaleDownDelaySeconds with dynamicStableScale.
 */
export function scaleDownFields(
  cfg: Pick<RolloutsConfig, "dynamicStableScale" | "scaleDownDelaySeconds" | "abortScaleDownDelaySeconds">,
  routed: boolean,
): { abortScaleDownDelaySeconds?: number; scaleDownDelaySeconds?: number; dynamicStableScale?: true } {
  if (!routed) return {};
  return {
    abortScaleDownDelaySeconds: cfg.abortScaleDownDelaySeconds ?? DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS,
    // dynamicStableScale only when on: the controller writes the Rollout back with Go's omitempty, dropping a false.
    ...(cfg.dynamicStableScale
      ? { dynamicStableScale: true as const }
      : { scaleDownDelaySeconds: cfg.scaleDownDelaySeconds ?? DEFAULT_SCALE_DOWN_DELAY_SECONDS }),
  };
}

export function rollout(cfg: RolloutsConfig, ctx: QueueManagerContext) {
  const qm = cfg.queueManager;
  const probe = (path: string) => ({ httpGet: { path, port: "http" }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 });
  const routing = trafficRouting(cfg.router, ctx.namespace);
  return {
    apiVersion: ROLLOUTS_API_VERSION,
    kind: "Rollout" as const,
    metadata: { name: QUEUE_MANAGER, namespace: ctx.namespace, labels: instanceLabels(cfg.controller.instanceId) },
    spec: {
      // The autoscaler owns the replica count where there is one.
      ...(qm.autoscaling ? {} : { replicas: qm.replicas }),
      revisionHistoryLimit: 3,
      selector: { matchLabels: selector },
      strategy: {
        canary: {
          stableService: STABLE_SERVICE,
          canaryService: CANARY_SERVICE,
          ...(routing ? { trafficRouting: routing } : {}),
          steps: canarySteps(cfg.steps),
          // The business signal watches the whole rollout, from its first step.
          analysis: { templates: [{ templateName: TEMPLATE_NAMES.criticalErrors }], startingStep: 0 },
          ...scaleDownFields(cfg, routing !== undefined),
        },
      },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: QUEUE_MANAGER,
          automountServiceAccountToken: true,
          securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: QUEUE_MANAGER,
              image: qm.image,
              ports: [{ name: "http", containerPort: HTTP_PORT }],
              env: [
                { name: "KAFKA_BOOTSTRAP_SERVERS", value: ctx.kafkaBootstrap },
                { name: "KAFKA_USER", value: qm.kafkaUser },
                { name: "KAFKA_PASSWORD", valueFrom: { secretKeyRef: { name: ctx.kafkaUserSecret, key: "password" } } },
                { name: "CA_PATH", value: CA_PATH },
                { name: "QUEUE_CONTROL_TOPIC", value: ctx.controlTopic },
                { name: "QUEUE_EVENTS_TOPIC", value: ctx.eventsTopic },
                { name: "K8S_NAMESPACE", value: ctx.namespace },
              ],
              livenessProbe: probe("/health/live"),
              readinessProbe: probe("/health/ready"),
              resources: qm.resources,
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
              volumeMounts: [
                { name: "tmp", mountPath: "/tmp" },
                { name: "kafka-ca", mountPath: CA_MOUNT_PATH, readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
            { name: "kafka-ca", secret: { secretName: ctx.clusterCaSecret, items: [{ key: CA_BUNDLE_KEY, path: CA_BUNDLE_KEY }] } },
          ],
        },
      },
    },
  };
}

// ---- Services, router, monitoring, autoscaling, RBAC ----------------------------------------

export function services(namespace: string) {
  return [STABLE_SERVICE, CANARY_SERVICE].map((name) => ({
    apiVersion: "v1" as const,
    kind: "Service" as const,
    metadata: { name, namespace, labels },
    // The controller adds the pod-template hash to each selector.
    spec: { selector, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
  }));
}

/** The object the controller shifts weights on, with everything on stable to begin with. */
export function routerObject(router: RouterConfig, namespace: string) {
  switch (router.type) {
    case "istio":
      return {
        apiVersion: "networking.istio.io/v1" as const,
        kind: "VirtualService" as const,
        metadata: { name: QUEUE_MANAGER, namespace, labels },
        spec: {
          hosts: [...router.hosts],
          ...(router.gateways.length > 0 ? { gateways: [...router.gateways] } : {}),
          http: [
            {
              name: PRIMARY_ROUTE,
              route: [
                { destination: { host: STABLE_SERVICE }, weight: 100 },
                { destination: { host: CANARY_SERVICE }, weight: 0 },
              ],
            },
          ],
        },
      };
    case "gateway-api":
      return {
        apiVersion: "gateway.networking.k8s.io/v1" as const,
        kind: "HTTPRoute" as const,
        metadata: { name: QUEUE_MANAGER, namespace, labels },
        spec: {
          parentRefs: [{ name: router.gateway.name, namespace: router.gateway.namespace }],
          ...(router.hostnames.length > 0 ? { hostnames: [...router.hostnames] } : {}),
          rules: [
            {
              backendRefs: [
                { kind: "Service" as const, name: STABLE_SERVICE, port: 80 },
                { kind: "Service" as const, name: CANARY_SERVICE, port: 80 },
              ],
            },
          ],
        },
      };
    case "replicas":
      return undefined;
  }
}

/** The router fields the controller rewrites during a canary: Pulumi must not set them back. */
export function routerManagedFields(router: RouterConfig): string[] {
  switch (router.type) {
    case "istio":
      return ["spec.http[0].route[0].weight", "spec.http[0].route[1].weight"];
    case "gateway-api":
      return ["spec.rules[0].backendRefs[0].weight", "spec.rules[0].backendRefs[1].weight"];
    case "replicas":
      return [];
  }
}

/**
 * Scrapes queue-manager every `scrapeInterval` and keeps the pod-template hash on its series, so
 * canary and stable can be told apart. prometheus-operator turns this into the series' labels
 * (v0.85.0 pkg/prometheus/promcfg.go generatePodMonitorConfig): `namespace`, `pod` and `container`
 * from discovery, each podTargetLabel sanitised (`rollouts_pod_template_hash`), `job` as
 * `<namespace>/<name>`, `endpoint` as the port's name. `selectorLabels` are those the stack's
 * Prometheus selects PodMonitors by: without them a Prometheus that selects
 * (kube-prometheus-stack: by `release`) skips this one. The integration tests scrape through the
 * config the operator's own code makes of it (local/podmonitor-config).
 */
export function podMonitor(namespace: string, scrapeInterval: string, selectorLabels: Readonly<Record<string, string>> = {}) {
  return {
    apiVersion: "monitoring.coreos.com/v1" as const,
    kind: "PodMonitor" as const,
    metadata: { name: QUEUE_MANAGER, namespace, labels: { ...labels, ...selectorLabels } },
    spec: {
      selector: { matchLabels: selector },
      podTargetLabels: [POD_TEMPLATE_HASH_LABEL],
      podMetricsEndpoints: [{ port: "http", path: "/metrics", interval: scrapeInterval }],
    },
  };
}

export function autoscaler(cfg: RolloutsConfig, namespace: string) {
  const hpa = cfg.queueManager.autoscaling;
  if (!hpa) return undefined;
  return {
    apiVersion: "autoscaling/v2" as const,
    kind: "HorizontalPodAutoscaler" as const,
    metadata: { name: QUEUE_MANAGER, namespace, labels },
    spec: {
      scaleTargetRef: { apiVersion: ROLLOUTS_API_VERSION, kind: "Rollout" as const, name: QUEUE_MANAGER },
      minReplicas: hpa.minReplicas,
      maxReplicas: hpa.maxReplicas,
      metrics: [
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: hpa.targetCpuUtilization } } },
      ],
    },
  };
}

/**
 * queue-manager's port, open to the monitoring namespace (scrapes), its ingress namespaces and,
 * with the Gateway API router, the Gateway's namespace; the apps namespace denies the rest.
 */
export function networkPolicy(cfg: RolloutsConfig, ctx: QueueManagerContext) {
  const gateway = cfg.router.type === "gateway-api" ? [cfg.router.gateway.namespace] : [];
  return allowIngress({
    name: QUEUE_MANAGER,
    namespace: ctx.namespace,
    podLabels: selector,
    ports: [HTTP_PORT],
    fromNamespaces: [ctx.monitoringNamespace, ...cfg.queueManager.ingressFrom, ...gateway],
    labels,
  });
}

/** queue-manager launches one Job per queue and worker type, and follows them. */
export function queueManagerRbac(namespace: string) {
  return {
    serviceAccount: { apiVersion: "v1" as const, kind: "ServiceAccount" as const, metadata: { name: QUEUE_MANAGER, namespace, labels } },
    role: {
      apiVersion: "rbac.authorization.k8s.io/v1" as const,
      kind: "Role" as const,
      metadata: { name: QUEUE_MANAGER, namespace, labels },
      rules: [{ apiGroups: ["batch"], resources: ["jobs"], verbs: ["get", "list", "watch", "create", "delete"] }],
    },
    roleBinding: {
      apiVersion: "rbac.authorization.k8s.io/v1" as const,
      kind: "RoleBinding" as const,
      metadata: { name: QUEUE_MANAGER, namespace, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role" as const, name: QUEUE_MANAGER },
      subjects: [{ kind: "ServiceAccount" as const, name: QUEUE_MANAGER, namespace }],
    },
  };
}

/**
 * What the Gateway API plugin needs, from its installation docs, narrowed to the HTTPRoutes this
 * program uses (the chart's gatewayAPI switch also grants TCP, TLS, UDP and gRPC routes).
 */
export const GATEWAY_API_PLUGIN_RULES = [
  { apiGroups: ["gateway.networking.k8s.io"], resources: ["httproutes"], verbs: ["get", "list", "update", "patch"] },
];

const READ = ["get", "list", "watch"];

/**
 * The controller's cluster-wide rules: the chart's (argo-helm argo-rollouts-2.41.0
 * charts/argo-rollouts/templates/_helpers.tpl `argo-rollouts.controller.roleRules`, L116-271, and
 * the Istio rules L272-286), less what this stack's canary never needs:
 * - Secrets anywhere. The controller reads Secrets for AnalysisTemplate args with `secretKeyRef`
 *   (argo-rollouts v1.10.2 analysis/analysis.go L273; this program's templates have none), for its
 *   notification Secret through an informer on its own namespace only (cmd/rollouts-controller/
 *   main.go L209-216) and for plugin download headers in its own namespace
 *   (utils/plugin/downloader.go L145). Istio's primary-cluster lookup lists Secrets where it
 *   watches and falls back to the local cluster when refused (utils/istio/multicluster.go L54-57).
 *   So Secrets are read in its own namespace only (`controllerSecretsRole`).
 * - The writes the scope guard refuses anyway (controller-guard.ts UNNEEDED_WRITES): Deployments and
 *   pod templates (workloadRef), Jobs (the Job metric provider), Ingresses (the ingress routers);
 *   and Experiments' writes (no experiment step here).
 *   Their reads stay: the controller's informers list and watch them and wait for their caches
 *   (controller/controller.go L435-443, L609).
 */
export function controllerClusterRules(cfg: RolloutsConfig) {
  return [
    { apiGroups: ["argoproj.io"], resources: ["rollouts", "rollouts/status", "rollouts/finalizers"], verbs: [...READ, "update", "patch"] },
    {
      apiGroups: ["argoproj.io"],
      resources: ["analysisruns", "analysisruns/finalizers"],
      verbs: ["create", ...READ, "update", "patch", "delete"],
    },
    // Read only: this stack's steps run no experiment, and an Experiment its token wrote would have
    // the controller make a ReplicaSet of any template (argo-rollouts v1.10.2 experiments/replicaset.go).
    { apiGroups: ["argoproj.io"], resources: ["experiments"], verbs: READ },
    { apiGroups: ["argoproj.io"], resources: ["analysistemplates", "clusteranalysistemplates"], verbs: READ },
    { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["create", ...READ, "update", "patch", "delete"] },
    { apiGroups: ["", "apps"], resources: ["deployments", "podtemplates"], verbs: READ },
    { apiGroups: [""], resources: ["services"], verbs: [...READ, "patch", "create", "delete"] },
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create", "get", "update"] },
    { apiGroups: [""], resources: ["configmaps"], verbs: READ },
    { apiGroups: [""], resources: ["pods"], verbs: ["list", "update", "watch"] },
    { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
    { apiGroups: [""], resources: ["events"], verbs: ["create", "update", "patch"] },
    { apiGroups: ["networking.k8s.io", "extensions"], resources: ["ingresses"], verbs: READ },
    { apiGroups: ["batch"], resources: ["jobs"], verbs: READ },
    ...(cfg.router.type === "istio"
      ? [
          {
            apiGroups: ["networking.istio.io"],
            resources: ["virtualservices", "destinationrules"],
            verbs: ["watch", "get", "update", "patch", "list"],
          },
        ]
      : []),
    ...(cfg.router.type === "gateway-api" ? GATEWAY_API_PLUGIN_RULES : []),
  ];
}

/** The controller's RBAC in place of the chart's: its cluster-wide rules, and Secrets in its own namespace only. */
export function controllerRbac(cfg: RolloutsConfig, serviceAccount: string) {
  const namespace = cfg.controller.namespace;
  const labels = { "app.kubernetes.io/part-of": "streamforge", "app.kubernetes.io/component": "argo-rollouts-rbac" };
  const subjects = [{ kind: "ServiceAccount" as const, name: serviceAccount, namespace }];
  const roleRef = (kind: "ClusterRole" | "Role") => ({ apiGroup: "rbac.authorization.k8s.io", kind, name: serviceAccount });
  return {
    clusterRole: { metadata: { name: serviceAccount, labels }, rules: controllerClusterRules(cfg) },
    clusterRoleBinding: { metadata: { name: serviceAccount, labels }, roleRef: roleRef("ClusterRole"), subjects },
    role: { metadata: { name: serviceAccount, namespace, labels }, rules: [{ apiGroups: [""], resources: ["secrets"], verbs: READ }] },
    roleBinding: { metadata: { name: serviceAccount, namespace, labels }, roleRef: roleRef("Role"), subjects },
  };
}

/** The controller's image: the chart's registry and repository (values.yaml L106-112) at the pinned version. */
export function controllerImage(cfg: RolloutsConfig): ThirdPartyImage {
  return {
    runs: "the Argo Rollouts controller",
    ref: withDigest(`quay.io/argoproj/argo-rollouts:${cfg.controller.version}`, cfg.controller.digest),
    digestKey: "streamforge:rollouts.controller.digest",
  };
}

/** Helm values of the controller: the pinned image and metrics; its RBAC is controllerRbac's. */
export function controllerChartValues(cfg: RolloutsConfig): Record<string, unknown> {
  const router = cfg.router;
  return {
    // The CRDs are applied server-side by the component (they exceed the client-side apply annotation limit).
    installCRDs: false,
    // The chart would otherwise aggregate create and delete on rollouts, analysis runs and experiments
    // into every namespace's edit and admin roles (argo-helm argo-rollouts-2.41.0
    // charts/argo-rollouts/values.yaml L9-10, templates/aggregate-roles.yaml L1-84).
    createClusterAggregateRoles: false,
    controller: {
      // Its RBAC is the component's (controllerRbac): the chart's ClusterRole reads Secrets everywhere.
      createClusterRole: false,
      // The chart builds `registry/repository:tag` (argo-helm argo-rollouts-2.41.0
      // templates/controller/deployment.yaml L49): a digest rides in the tag.
      image: { tag: withDigest(cfg.controller.version, cfg.controller.digest) },
      metrics: { enabled: true },
      // Appended to its flags (argo-helm argo-rollouts-2.41.0 values.yaml L129-130, templates/controller/deployment.yaml L77-79).
      ...(cfg.controller.instanceId !== undefined ? { extraArgs: [`--instance-id=${cfg.controller.instanceId}`] } : {}),
      ...(router.type === "gateway-api"
        ? { trafficRouterPlugins: [{ name: GATEWAY_API_PLUGIN, location: router.plugin.location, sha256: router.plugin.sha256 }] }
        : {}),
    },
    dashboard: { enabled: false },
  };
}
