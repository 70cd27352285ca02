/**
 * The self-healing operator's Kubernetes objects, as plain data: least-privilege RBAC, a
 * restricted-PSS Deployment of two replicas (one leads through a Lease), a NetworkPolicy that
 * lets in only the monitoring namespace's scrapes and lets out only DNS, Kafka and the API server,
 * and a PodDisruptionBudget. Pure. The container env is written through the operator's own
 * settings contract, so every variable set here is one the operator reads, validated its way.
 */
import { type EnvVar, type SettingName, type SettingSource, settingsEnv } from "../../operator/src/contract";
import { CA_BUNDLE_KEY, CA_MOUNT_PATH, CA_PATH } from "../kit/kafka-ca";
import { type ApiServerAddress, apiServerEgressRule, dnsEgressRule, namespacePeers, namespaceSelector } from "../kit/network-spec";

export const OPERATOR_NAME = "streamforge-self-healing-operator";
/** The `kubernetes.io/dockerconfigjson` Secret the pods pull a private image with. */
export const PULL_SECRET_NAME = `${OPERATOR_NAME}-pull`;
const HEALTH_PORT = 8081;
const METRICS_PORT = 8080;

export interface OperatorSpec<Image = string> {
  /** Namespace the operator runs in: where its Kafka credentials Secret is. */
  readonly namespace: string;
  /** Namespace whose Jobs it watches and relaunches. */
  readonly watchNamespace: string;
  /** The operator's image; an Output where the stack builds it. */
  readonly image: Image;
  /** Secret to pull the image with, when the registry is private. */
  readonly imagePullSecret?: string;
  /** Replicas of the Deployment; one leads at a time (its Lease). */
  readonly replicas: number;
  /** Decide and log, but change nothing. */
  readonly dryRun: boolean;
  /** JSON policy override (SELF_HEALING_POLICY); empty for the defaults. */
  readonly policy: string;
  /** Namespace of the Prometheus allowed to scrape the metrics port. */
  readonly monitoringNamespace: string;
  /** How the operator reads queue events from Kafka. */
  readonly kafka: {
    /** Bootstrap servers (host:port). */
    readonly bootstrapServers: string;
    /** The queue events topic. */
    readonly topic: string;
    /** Its consumer group. */
    readonly groupId: string;
    /** TLS to the brokers (Strimzi's listener); off for the kafka-api catalogue owner's brokers. */
    readonly tls: boolean;
    /** Secret holding the cluster CA copy (its bundle of every CA certificate, `ca-bundle.pem`), when TLS is on. */
    readonly caSecret?: string;
    /** Its Kafka user (SCRAM). */
    readonly username: string;
    /** Secret holding the user's `password`. */
    readonly userSecret: string;
    /** Kafka namespace and cluster name, for the NetworkPolicy. */
    readonly namespace: string;
    readonly clusterName: string;
    /** The listener's port, for the NetworkPolicy's egress. */
    readonly port: number;
  };
  /** Where the API server is (streamforge:network), for egress: it has no pod labels to select. */
  readonly apiServer: ApiServerAddress;
}

const labels = { "app.kubernetes.io/name": OPERATOR_NAME, "app.kubernetes.io/part-of": "streamforge" };

/** The restricted Pod Security Standard, as the image's non-root user (65532) runs: the pod's part and every container's. */
export const RESTRICTED_POD = { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } };
export const RESTRICTED_CONTAINER = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };

/** Replicas on different nodes where the scheduler can: one node's loss takes one replica. */
export const spreadOverNodes = (matchLabels: Readonly<Record<string, string>>) => [
  { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels } },
];
const selector = { "app.kubernetes.io/name": OPERATOR_NAME };

export function serviceAccount(spec: OperatorSpec<unknown>) {
  return { metadata: { name: OPERATOR_NAME, namespace: spec.namespace, labels }, automountServiceAccountToken: true };
}

/** Jobs: read, create the replacement, patch the claim annotation, delete the old one. Events on them. */
export function jobsRole(spec: OperatorSpec<unknown>) {
  return {
    metadata: { name: OPERATOR_NAME, namespace: spec.watchNamespace, labels },
    rules: [
      { apiGroups: ["batch"], resources: ["jobs"], verbs: ["get", "list", "watch", "create", "delete", "patch"] },
      // The operator only creates Events (one per act); the audit log of the e2e tier showed patch unused.
      { apiGroups: [""], resources: ["events"], verbs: ["create"] },
    ],
  };
}

/** The Lease of leader election, by name: nothing else in the namespace. */
export function leaseRole(spec: OperatorSpec<unknown>) {
  return {
    metadata: { name: `${OPERATOR_NAME}-leader-election`, namespace: spec.namespace, labels },
    rules: [
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: [OPERATOR_NAME], verbs: ["get", "update"] },
    ],
  };
}

export function roleBinding(role: { metadata: { name: string; namespace: string } }, spec: OperatorSpec<unknown>) {
  return {
    metadata: { name: role.metadata.name, namespace: role.metadata.namespace, labels },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
    subjects: [{ kind: "ServiceAccount", name: OPERATOR_NAME, namespace: spec.namespace }],
  };
}

/** The `.dockerconfigjson` of a registry login, as kubelets read it. */
export function dockerConfigJson(registry: string, username: string, password: string): string {
  const auth = Buffer.from(`${username}:${password}`).toString("base64");
  return JSON.stringify({ auths: { [registry]: { username, password, auth } } });
}

/** The operator's settings as this deployment gives them. */
export function operatorEnv(spec: OperatorSpec<unknown>): EnvVar[] {
  const settings: Partial<Record<SettingName, SettingSource>> = {
    KAFKA_BROKERS: spec.kafka.bootstrapServers,
    KAFKA_TOPIC: spec.kafka.topic,
    KAFKA_GROUP_ID: spec.kafka.groupId,
    KAFKA_TLS: String(spec.kafka.tls),
    KAFKA_SASL_MECHANISM: "scram-sha-512",
    KAFKA_USERNAME: spec.kafka.username,
    KAFKA_PASSWORD: { secretKeyRef: { name: spec.kafka.userSecret, key: "password" } },
    WATCH_NAMESPACE: spec.watchNamespace,
    LEASE_NAMESPACE: spec.namespace,
    LEASE_NAME: OPERATOR_NAME,
    POD_NAME: { fieldRef: { fieldPath: "metadata.name" } },
    DRY_RUN: String(spec.dryRun),
    HEALTH_PORT: String(HEALTH_PORT),
    METRICS_PORT: String(METRICS_PORT),
    ...(spec.kafka.tls && spec.kafka.caSecret ? { KAFKA_CA_PATH: CA_PATH } : {}),
    ...(spec.policy ? { SELF_HEALING_POLICY: spec.policy } : {}),
  };
  return settingsEnv(settings);
}

export function deployment<Image>(spec: OperatorSpec<Image>) {
  const env = operatorEnv(spec);
  const caMounted = spec.kafka.tls && spec.kafka.caSecret !== undefined;
  const probe = (path: string) => ({ httpGet: { path, port: "health" }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 });
  return {
    metadata: { name: OPERATOR_NAME, namespace: spec.namespace, labels },
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels,
          annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(METRICS_PORT), "prometheus.io/path": "/metrics" },
        },
        spec: {
          serviceAccountName: OPERATOR_NAME,
          ...(spec.imagePullSecret ? { imagePullSecrets: [{ name: spec.imagePullSecret }] } : {}),
          // Shutdown: stop intake, disconnect the consumer, release the Lease.
          terminationGracePeriodSeconds: 30,
          securityContext: { ...RESTRICTED_POD, fsGroup: 65532 },
          topologySpreadConstraints: spreadOverNodes(selector),
          containers: [
            {
              name: "operator",
              image: spec.image,
              imagePullPolicy: "IfNotPresent",
              env,
              ports: [
                { name: "health", containerPort: HEALTH_PORT },
                { name: "metrics", containerPort: METRICS_PORT },
              ],
              livenessProbe: probe("/healthz"),
              readinessProbe: probe("/readyz"),
              resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
              securityContext: RESTRICTED_CONTAINER,
              volumeMounts: [
                { name: "tmp", mountPath: "/tmp" },
                ...(caMounted ? [{ name: "kafka-ca", mountPath: CA_MOUNT_PATH, readOnly: true }] : []),
              ],
            },
          ],
          volumes: [
            { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
            ...(caMounted
              ? [{ name: "kafka-ca", secret: { secretName: spec.kafka.caSecret, items: [{ key: CA_BUNDLE_KEY, path: CA_BUNDLE_KEY }] } }]
              : []),
          ],
        },
      },
    },
  };
}

export function networkPolicy(spec: OperatorSpec<unknown>) {
  return {
    metadata: { name: OPERATOR_NAME, namespace: spec.namespace, labels },
    spec: {
      podSelector: { matchLabels: selector },
      policyTypes: ["Ingress", "Egress"],
      // Only Prometheus, from the monitoring namespace, and only its metrics port; the kubelet's
      // probes are not subject to NetworkPolicy.
      ingress: [
        {
          from: namespacePeers([spec.monitoringNamespace]),
          ports: [{ protocol: "TCP", port: METRICS_PORT }],
        },
      ],
      egress: [
        dnsEgressRule(),
        {
          to: [
            {
              namespaceSelector: namespaceSelector(spec.kafka.namespace),
              podSelector: { matchLabels: { "strimzi.io/cluster": spec.kafka.clusterName } },
            },
          ],
          ports: [{ protocol: "TCP", port: spec.kafka.port }],
        },
        apiServerEgressRule(spec.apiServer),
      ],
    },
  };
}

export function disruptionBudget(spec: OperatorSpec<unknown>) {
  return {
    metadata: { name: OPERATOR_NAME, namespace: spec.namespace, labels },
    spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
  };
}
