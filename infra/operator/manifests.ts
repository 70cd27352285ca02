/**
 * The self-healing operator's Kubernetes objects, as plain data: least-privilege RBAC, a
 * restricted-PSS Deployment of two replicas (one leads through a Lease), a NetworkPolicy that
 * lets out only DNS, Kafka and the API server, and a PodDisruptionBudget. Pure.
 */

export const OPERATOR_NAME = "streamforge-self-healing-operator";
const HEALTH_PORT = 8081;
const METRICS_PORT = 8080;

export interface OperatorSpec<Image = string> {
  /** Namespace the operator runs in: where its Kafka credentials Secret is. */
  readonly namespace: string;
  /** Namespace whose Jobs it watches and relaunches. */
  readonly watchNamespace: string;
  readonly image: Image;
  readonly replicas: number;
  readonly dryRun: boolean;
  /** JSON policy override (SELF_HEALING_POLICY); empty for the defaults. */
  readonly policy: string;
  readonly kafka: {
    readonly bootstrapServers: string;
    readonly topic: string;
    readonly groupId: string;
    readonly tls: boolean;
    /** Secret holding the cluster CA (`ca.crt`), when TLS is on. */
    readonly caSecret?: string;
    readonly username: string;
    /** Secret holding the user's `password`. */
    readonly userSecret: string;
    /** Kafka namespace and cluster name, for the NetworkPolicy. */
    readonly namespace: string;
    readonly clusterName: string;
    readonly port: number;
  };
  /** Where the API server is, for egress; 0.0.0.0/0 when unknown (the API server has no pod labels). */
  readonly apiServerCidr: string;
}

interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: {
    readonly secretKeyRef?: { readonly name: string; readonly key: string };
    readonly fieldRef?: { readonly fieldPath: string };
  };
}

const labels = { "app.kubernetes.io/name": OPERATOR_NAME, "app.kubernetes.io/part-of": "streamforge" };
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
      { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
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

export function deployment<Image>(spec: OperatorSpec<Image>) {
  const env: EnvVar[] = [
    { name: "KAFKA_BROKERS", value: spec.kafka.bootstrapServers },
    { name: "KAFKA_TOPIC", value: spec.kafka.topic },
    { name: "KAFKA_GROUP_ID", value: spec.kafka.groupId },
    { name: "KAFKA_TLS", value: String(spec.kafka.tls) },
    { name: "KAFKA_SASL_MECHANISM", value: "scram-sha-512" },
    { name: "KAFKA_USERNAME", value: spec.kafka.username },
    { name: "KAFKA_PASSWORD", valueFrom: { secretKeyRef: { name: spec.kafka.userSecret, key: "password" } } },
    { name: "WATCH_NAMESPACE", value: spec.watchNamespace },
    { name: "LEASE_NAMESPACE", value: spec.namespace },
    { name: "LEASE_NAME", value: OPERATOR_NAME },
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    { name: "DRY_RUN", value: String(spec.dryRun) },
    { name: "HEALTH_PORT", value: String(HEALTH_PORT) },
    { name: "METRICS_PORT", value: String(METRICS_PORT) },
    ...(spec.kafka.tls && spec.kafka.caSecret ? [{ name: "KAFKA_CA_PATH", value: "/etc/kafka-ca/ca.crt" }] : []),
    ...(spec.policy ? [{ name: "SELF_HEALING_POLICY", value: spec.policy }] : []),
  ];
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
          // Shutdown: stop intake, disconnect the consumer, release the Lease.
          terminationGracePeriodSeconds: 30,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            fsGroup: 65532,
            seccompProfile: { type: "RuntimeDefault" },
          },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: selector },
            },
          ],
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
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
              volumeMounts: [
                { name: "tmp", mountPath: "/tmp" },
                ...(caMounted ? [{ name: "kafka-ca", mountPath: "/etc/kafka-ca", readOnly: true }] : []),
              ],
            },
          ],
          volumes: [
            { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
            ...(caMounted
              ? [{ name: "kafka-ca", secret: { secretName: spec.kafka.caSecret, items: [{ key: "ca.crt", path: "ca.crt" }] } }]
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
      // Prometheus scrapes metrics; the kubelet's probes are not subject to NetworkPolicy.
      ingress: [{ ports: [{ protocol: "TCP", port: METRICS_PORT }] }],
      egress: [
        {
          to: [{ namespaceSelector: {}, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": spec.kafka.namespace } },
              podSelector: { matchLabels: { "strimzi.io/cluster": spec.kafka.clusterName } },
            },
          ],
          ports: [{ protocol: "TCP", port: spec.kafka.port }],
        },
        {
          to: [{ ipBlock: { cidr: spec.apiServerCidr } }],
          ports: [
            { protocol: "TCP", port: 443 },
            { protocol: "TCP", port: 6443 },
          ],
        },
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
