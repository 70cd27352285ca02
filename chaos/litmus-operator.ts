/**
 * Litmus' chaos operator, declared by the stack rather than by the litmus-core chart. The chart
 * (litmus-helm litmus-core-3.28.1) holds four templates for it: a ServiceAccount, a Deployment with
 * no securityContext and no value to give it one (templates/deployment.yaml L15-75), and, in
 * namespaced mode, a Role far wider than the operator's work: create, update, patch, delete and
 * read on pods, pods/exec, pods/log, Jobs, Deployments, DaemonSets, StatefulSets, Services,
 * ConfigMaps, Rollouts and every chaos kind (templates/namespaced-role.yaml L8-13), with no value to
 * narrow it. Here the same operator gets the Role of what it does and the restricted
 * securityContext; its CRDs come from that chart release, fetched and checked against pinned sums.
 *
 * What chaos-operator does, read in its source at 3.18.0 (the newest tag of the repository; the
 * 3.28.0 image is built from the same controller, and the chart's Role and Deployment are unchanged
 * from litmus-core-3.18.0 to 3.28.1). Pure.
 */
import type { ChaosConfig } from "./config";
import { type Rule, accountWithRole, ruleOf } from "./spec";

/** The chart release whose `crds/` the stack applies, by version: each file's sha256 at that tag (../shared/crds/litmus holds the same bytes). */
export const LITMUS_CRD_SHA256: Readonly<Record<string, Readonly<Record<LitmusCrd, string>>>> = {
  "3.28.1": {
    chaosengine: "b760d52c23fbbfe294bf1bcece58be9c970ad5e419034c16aaf78cab59ae5def",
    chaosexperiment: "ecc18a21d6cec025f90075587ebc305c25a2283ebb74a3162e7d89f083b7175e",
    chaosresult: "3457976ade8a951c269bbf4c342d5937bb0d2a25272a1c4e40797f351ab590d8",
  },
};
export const LITMUS_CRDS = ["chaosengine", "chaosexperiment", "chaosresult"] as const;
export type LitmusCrd = (typeof LITMUS_CRDS)[number];

export const litmusCrdUrl = (chartVersion: string, crd: LitmusCrd): string =>
  `https://raw.githubusercontent.com/litmuschaos/litmus-helm/litmus-core-${chartVersion}/charts/litmus-core/crds/${crd}_crd.yaml`;

/** The operator's ServiceAccount, Role, binding and Deployment: upstream's container name (main.go OPERATOR_NAME). */
export const LITMUS_OPERATOR = "chaos-operator";

/** Its pods' labels (the network plan selects them). */
export const LITMUS_OPERATOR_POD_LABELS = {
  "app.kubernetes.io/name": LITMUS_OPERATOR,
  "app.kubernetes.io/part-of": "litmus",
  "app.kubernetes.io/managed-by": "streamforge",
} as const;

/** The Lease its replicas elect a leader with (main.go L94, LeaderElectionID). */
export const LEADER_LEASE = "chaos-operator.lock";

/** A rule and the calls that need it: chaos-operator 3.18.0 controllers/chaosengine_controller.go unless a file is named. */
interface OperatorRule extends Rule {
  readonly calls: string;
}

/**
 * Everything the operator calls, in the namespace it watches (WATCH_NAMESPACE, main.go L75, L95:
 * the manager's cache lists and watches there only). A Get or List of the controller-runtime client
 * reads its cache, so each kind read is listed and watched. Not here, because it does not do it:
 * pods/exec, pods/log, Deployments, Services, ConfigMaps, Secrets, writing ChaosExperiments.
 */
export const LITMUS_OPERATOR_RULES: readonly OperatorRule[] = [
  {
    apiGroups: ["litmuschaos.io"],
    resources: ["chaosengines"],
    verbs: ["get", "list", "watch", "update", "patch"],
    calls: "For(ChaosEngine) L860, Get L273, Patch L360 L408 L520, Update L541 L694 L710",
  },
  {
    // The runner pod's controller reference blocks its owner's deletion (SetControllerReference
    // L242): where OwnerReferencesPermissionEnforcement is on, that needs update on the finalizers.
    apiGroups: ["litmuschaos.io"],
    resources: ["chaosengines/finalizers"],
    verbs: ["update"],
    calls: "SetControllerReference L242; kubebuilder marker L79",
  },
  { apiGroups: ["litmuschaos.io"], resources: ["chaosexperiments"], verbs: ["get", "list", "watch"], calls: "Get L173" },
  {
    apiGroups: ["litmuschaos.io"],
    resources: ["chaosresults"],
    verbs: ["get", "list", "watch", "update"],
    calls: "List L748, Update L762",
  },
  {
    apiGroups: [""],
    resources: ["pods"],
    verbs: ["get", "list", "watch", "create", "delete", "deletecollection"],
    calls: "Owns(Pod) L861, Get L250 L420 L558, Create L252, List L333 L456 L781, Delete L461, DeleteAllOf L391",
  },
  { apiGroups: ["batch"], resources: ["jobs"], verbs: ["deletecollection"], calls: "DeleteAllOf L386" },
  // client-go's recorder creates an event, then patches it when it repeats (tools/record/event.go recordToSink).
  { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"], calls: "Recorder main.go L116; leader election events" },
  {
    // controller-runtime v0.14.6 pkg/leaderelection/leader_election.go L64-65: a Lease by default;
    // client-go's LeaseLock creates it, then gets and updates only its own (a create cannot be
    // limited by name).
    apiGroups: ["coordination.k8s.io"],
    resources: ["leases"],
    verbs: ["create"],
    calls: "LeaderElection main.go L93-94 (-leader-elect)",
  },
  {
    apiGroups: ["coordination.k8s.io"],
    resources: ["leases"],
    resourceNames: [LEADER_LEASE],
    verbs: ["get", "update"],
    calls: "LeaderElectionID main.go L94",
  },
];

/** The chart's resources for the operator (values.yaml L44-54): kept. */
const RESOURCES = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "100m", memory: "128Mi" } };

/** The health endpoints main.go serves (health-probe-bind-address ":8081", L61; healthz and readyz, L123-130). */
const PROBE_PORT = 8081;

/** The operator's objects in the chaos namespace, watching only that namespace. */
export function litmusOperatorObjects(chaos: ChaosConfig) {
  const namespace = chaos.namespace;
  const meta = { name: LITMUS_OPERATOR, namespace, labels: { ...LITMUS_OPERATOR_POD_LABELS } };
  return {
    ...accountWithRole(meta, LITMUS_OPERATOR_RULES.map(ruleOf)),
    deployment: {
      apiVersion: "apps/v1" as const,
      kind: "Deployment" as const,
      metadata: meta,
      spec: {
        replicas: 1,
        selector: { matchLabels: { ...LITMUS_OPERATOR_POD_LABELS } },
        template: {
          metadata: { labels: { ...LITMUS_OPERATOR_POD_LABELS } },
          spec: {
            serviceAccountName: LITMUS_OPERATOR,
            // The image runs as 65534 (chaos-operator 3.18.0 build/Dockerfile `USER 65534`).
            securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: LITMUS_OPERATOR,
                image: chaos.operator.image,
                imagePullPolicy: "IfNotPresent",
                // As the chart runs it (deployment.yaml L29-32).
                command: ["chaos-operator"],
                // Metrics off: served on :8080 by default (main.go L60), unauthenticated, and scraped by nobody.
                args: ["-leader-elect=true", "-metrics-bind-address=0"],
                env: [
                  { name: "CHAOS_RUNNER_IMAGE", value: chaos.chaosRunnerImage },
                  // Namespaced: the manager caches and reconciles this namespace only (main.go L75-95).
                  { name: "WATCH_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                  { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                  { name: "OPERATOR_NAME", value: LITMUS_OPERATOR },
                  // No analytics call home (main.go L82; the chart's policies.monitoring.disabled).
                  { name: "ANALYTICS", value: "FALSE" },
                ],
                ports: [{ name: "health", containerPort: PROBE_PORT, protocol: "TCP" }],
                livenessProbe: { httpGet: { path: "/healthz", port: "health" }, periodSeconds: 20 },
                readinessProbe: { httpGet: { path: "/readyz", port: "health" }, periodSeconds: 10 },
                resources: RESOURCES,
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
              },
            ],
          },
        },
      },
    },
  };
}
