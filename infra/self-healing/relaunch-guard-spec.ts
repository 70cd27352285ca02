/**
 * The relaunch guard's objects (operator/src/relaunch-guard.ts, a validating admission webhook):
 * its configuration, which sends the API server's every Job CREATE by the operator's account in
 * the watched namespace to it; its account, whose Roles read that namespace's Jobs, write its
 * certificate's Secret and trust its CA in its own configuration, and nothing else; its
 * Deployment (from the operator's image), Service, NetworkPolicy and PodDisruptionBudget; and the
 * policy that holds its account to the CA in its configuration. All of it but the Jobs Role lives
 * in the guard's own namespace, not the apps namespace, where `edit` reads every Secret and
 * impersonates every account. The operator guard (./guard.ts) holds the shape of such a Job; the relaunch
 * guard, whether it is the replacement of a Job that exists and was claimed for it
 * (docs/security.md). Pure.
 */
import { relaunchGuardEnv } from "../../operator/src/contract";
import { denyBindingIn, lit, serviceAccountUser, validatingPolicy } from "../kit/admission-spec";
import { type Deployers, byDeployer } from "../cluster/platform-workloads-spec";
import { type ApiServerAddress, type PodsOf, apiServerEgressRule, namespaceSelector, podsIn, tcp } from "../kit/network-spec";
import { RESTRICTED_CONTAINER, RESTRICTED_POD, spreadOverNodes } from "./manifests";

export const RELAUNCH_GUARD_NAME = "streamforge-relaunch-guard";
/** The webhook's name in its configuration: a qualified name the API server's refusals quote. */
export const RELAUNCH_GUARD_WEBHOOK = "relaunch-guard.streamforge.io";

export interface RelaunchGuardArgs {
  /** Namespace the operator runs in: where its ServiceAccount is. */
  readonly operatorNamespace: string;
  /**
   * Namespace the guard runs in, with its account and its certificate's Secret: its own, where no
   * person holds `edit` (which would read its key and act as its account).
   */
  readonly guardNamespace: string;
  /** The operator's ServiceAccount: only its requests are sent. */
  readonly serviceAccount: string;
  /** The namespace whose Jobs the operator relaunches. */
  readonly watchNamespace: string;
  /**
   * How the API server reaches the guard: its Service in a cluster, or a URL where it runs outside
   * (the local platform). No caBundle: the guard writes its own CA there.
   */
  readonly clientConfig:
    | { readonly service: { readonly name: string; readonly namespace: string; readonly path: string; readonly port: number } }
    | { readonly url: string };
}

const labels = { "app.kubernetes.io/part-of": "streamforge", "app.kubernetes.io/component": "self-healing" };

/** One per stack: named after the operator's namespace. */
export const relaunchGuardWebhookName = (operatorNamespace: string): string => `streamforge-${operatorNamespace}-relaunch-guard`;

export function relaunchGuardWebhook(args: RelaunchGuardArgs) {
  return {
    apiVersion: "admissionregistration.k8s.io/v1" as const,
    kind: "ValidatingWebhookConfiguration" as const,
    metadata: { name: relaunchGuardWebhookName(args.operatorNamespace), labels },
    webhooks: [
      {
        name: RELAUNCH_GUARD_WEBHOOK,
        clientConfig: args.clientConfig,
        rules: [{ apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"], scope: "Namespaced" }],
        namespaceSelector: namespaceSelector(args.watchNamespace),
        // Only the operator's own requests: queue-manager's launches, people and Pulumi never wait on the guard.
        matchConditions: [
          {
            name: "operator-only",
            expression: `request.userInfo.username == ${lit(serviceAccountUser(args.operatorNamespace, args.serviceAccount))}`,
          },
        ],
        // A guard that cannot answer refuses: a relaunch waits (the operator retries) rather than pass unjudged.
        failurePolicy: "Fail",
        sideEffects: "None",
        admissionReviewVersions: ["v1"],
        timeoutSeconds: 5,
      },
    ],
  };
}

/** The Secret the guard keeps its certificate in: created empty by the stack, so the guard needs no right to create Secrets. */
export const RELAUNCH_GUARD_CERT_SECRET = `${RELAUNCH_GUARD_NAME}-tls`;
/** Its own pull Secret where the image needs a login, beside it. */
export const RELAUNCH_GUARD_PULL_SECRET = `${RELAUNCH_GUARD_NAME}-pull`;
/**
 * The guard's account and Secrets, which the apps guard keeps reserved in the apps namespaces
 * (infra/cluster/workload-guard-spec.ts): the guard ran there before it had a namespace of its own.
 */
export const relaunchGuardAccount = (pulled: boolean) => ({
  serviceAccount: RELAUNCH_GUARD_NAME,
  secrets: [RELAUNCH_GUARD_CERT_SECRET, ...(pulled ? [RELAUNCH_GUARD_PULL_SECRET] : [])],
});
/** The guard's port in its pod; its Service's is 443. */
export const RELAUNCH_GUARD_PORT = 9443;
const selector = { "app.kubernetes.io/name": RELAUNCH_GUARD_NAME };
const podLabels = { ...labels, ...selector };

/** The guard reads the watched namespace's Jobs (each replacement's predecessor), and nothing else there. */
export function relaunchGuardRole(args: Pick<RelaunchGuardArgs, "watchNamespace">) {
  return {
    metadata: { name: RELAUNCH_GUARD_NAME, namespace: args.watchNamespace, labels },
    rules: [{ apiGroups: ["batch"], resources: ["jobs"], verbs: ["get"] }],
  };
}

/**
 * The account and every grant of the guard: the Jobs Role above; its certificate's Secret, by
 * name (get, update: the renewal is a replace at the version read); its own webhook configuration,
 * by name (get, patch: the server-side apply of its caBundle; it cannot create one). Bindings
 * included.
 */
export function relaunchGuardRbac(args: Pick<RelaunchGuardArgs, "operatorNamespace" | "guardNamespace" | "watchNamespace">) {
  const subject = { kind: "ServiceAccount", name: RELAUNCH_GUARD_NAME, namespace: args.guardNamespace };
  const binding = (role: { metadata: { name: string; namespace?: string } }, kind: "Role" | "ClusterRole") => ({
    metadata: { ...role.metadata, labels },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind, name: role.metadata.name },
    subjects: [subject],
  });
  const jobs = relaunchGuardRole(args);
  const certificate = {
    metadata: { name: `${RELAUNCH_GUARD_NAME}-certificate`, namespace: args.guardNamespace, labels },
    rules: [{ apiGroups: [""], resources: ["secrets"], resourceNames: [RELAUNCH_GUARD_CERT_SECRET], verbs: ["get", "update"] }],
  };
  const configuration = {
    metadata: { name: relaunchGuardWebhookName(args.operatorNamespace), labels },
    rules: [
      {
        apiGroups: ["admissionregistration.k8s.io"],
        resources: ["validatingwebhookconfigurations"],
        resourceNames: [relaunchGuardWebhookName(args.operatorNamespace)],
        verbs: ["get", "patch"],
      },
    ],
  };
  return {
    serviceAccount: {
      metadata: { name: RELAUNCH_GUARD_NAME, namespace: args.guardNamespace, labels },
      automountServiceAccountToken: true,
    },
    roles: [
      { key: "jobs", role: jobs, binding: binding(jobs, "Role") },
      { key: "certificate", role: certificate, binding: binding(certificate, "Role") },
    ],
    clusterRole: { role: configuration, binding: binding(configuration, "ClusterRole") },
    certSecret: { metadata: { name: RELAUNCH_GUARD_CERT_SECRET, namespace: args.guardNamespace, labels }, type: "Opaque" },
  };
}

/** The fields of a webhook entry the guard's own patch must leave as they are: all but clientConfig.caBundle. */
const WEBHOOK_FIELDS = [
  "rules",
  "failurePolicy",
  "matchPolicy",
  "namespaceSelector",
  "objectSelector",
  "sideEffects",
  "timeoutSeconds",
  "admissionReviewVersions",
  "matchConditions",
] as const;
const METADATA_FIELDS = ["labels", "annotations", "ownerReferences", "finalizers"] as const;

/** The ValidatingAdmissionPolicy that holds everyone but the deployers to the guard's one write on its configuration. */
export const relaunchGuardCaOnlyName = (operatorNamespace: string): string => `${relaunchGuardWebhookName(operatorNamespace)}-ca-only`;

/**
 * The guard's account may patch its configuration, but only its entries' caBundle: without this,
 * its token (stolen, or used through `impersonate` by anyone granted that in its namespace) could
 * set `failurePolicy: Ignore`, point the webhook at another URL, widen its rules to every Secret
 * in the cluster, or hang an owner on it for the garbage collector to delete it. The policy holds
 * every requester but the deployers (who change it through `pulumi up`) to that, not the guard's
 * account by name: an account of the same name elsewhere (the guard's before it moved, whose
 * grant Pulumi takes away only later in the same update) or any other holder of `patch` on webhook
 * configurations is held too. API-based policies apply to webhook configurations (only the policy
 * kinds themselves are exempt: k8s.io/apiserver v0.37.2 pkg/admission/plugin/policy/generic/plugin.go).
 */
export function relaunchGuardCaOnly(args: Pick<RelaunchGuardArgs, "operatorNamespace"> & { readonly deployers: Deployers }) {
  const name = relaunchGuardCaOnlyName(args.operatorNamespace);
  const configuration = relaunchGuardWebhookName(args.operatorNamespace);
  // Optional selection on both sides: a field set on one and absent on the other differs too.
  const same = (a: string, b: string, field: string) => `${a}.?${field} == ${b}.?${field}`;
  const sameWebhook = [
    "o.name == w.name",
    ...WEBHOOK_FIELDS.map((f) => same("w", "o", f)),
    same("w.clientConfig", "o.clientConfig", "url"),
    same("w.clientConfig", "o.clientConfig", "service"),
  ].join(" && ");
  const policy = validatingPolicy(name, labels, {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [
        {
          apiGroups: ["admissionregistration.k8s.io"],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE", "DELETE"],
          resources: ["validatingwebhookconfigurations"],
          resourceNames: [configuration],
        },
      ],
    },
    matchConditions: [
      { name: "not-a-deployer", expression: `!(${byDeployer(args.deployers)})` },
      // Once a deployer deleted it, the garbage collector's removal of its foreground-deletion
      // finalizer (an UPDATE) must pass, or the configuration stays in force while being deleted.
      { name: "not-being-deleted", expression: `request.operation != "UPDATE" || !has(oldObject.metadata.deletionTimestamp)` },
    ],
    validations: [
      {
        // Made or deleted only by the deployers: otherwise deleting it and making it again would get past the rules below.
        expression: `request.operation == "UPDATE"`,
        messageExpression: `${lit(`metadata.name: expected only the deployers to create or delete ${configuration}; found `)} + (request.operation == "CREATE" ? "a creation" : "a deletion") + " by " + request.userInfo.username`,
      },
      {
        expression: `request.operation != "UPDATE" || (${METADATA_FIELDS.map((f) => same("object.metadata", "oldObject.metadata", f)).join(" && ")})`,
        messageExpression: `${lit(`metadata: expected no label, annotation, owner or finalizer of ${configuration} to change but by the deployers (the relaunch guard may only write its CA); found a change by `)} + request.userInfo.username`,
      },
      {
        expression: `request.operation != "UPDATE" || (size(object.?webhooks.orValue([])) == size(oldObject.?webhooks.orValue([])) && object.?webhooks.orValue([]).all(w, oldObject.?webhooks.orValue([]).exists(o, ${sameWebhook})))`,
        messageExpression: `${lit(`webhooks: expected only webhooks[].clientConfig.caBundle of ${configuration} to change but by the deployers; found another change by `)} + request.userInfo.username`,
      },
    ],
  });
  return { policy, binding: denyBindingIn(name, labels, "all") };
}

/** The name the API server calls the guard by through its Service (the certificate names it). */
export const relaunchGuardServiceHost = (guardNamespace: string): string => `${RELAUNCH_GUARD_NAME}.${guardNamespace}.svc`;

/** The guard's settings (operator/src/contract.ts relaunchGuardSettingSchemas), wherever it runs. */
export function relaunchGuardSettings(
  args: Pick<RelaunchGuardArgs, "operatorNamespace" | "guardNamespace" | "serviceAccount"> & { readonly servingHosts: readonly string[] },
) {
  return {
    OPERATOR_USER: serviceAccountUser(args.operatorNamespace, args.serviceAccount),
    CERT_STORE: `${args.guardNamespace}/${RELAUNCH_GUARD_CERT_SECRET}`,
    SERVING_HOSTS: args.servingHosts.join(","),
    WEBHOOK_CONFIGURATION: relaunchGuardWebhookName(args.operatorNamespace),
    WEBHOOK_NAME: RELAUNCH_GUARD_WEBHOOK,
  };
}

export interface RelaunchGuardWorkloadArgs {
  readonly operatorNamespace: string;
  readonly guardNamespace: string;
  readonly serviceAccount: string;
  readonly watchNamespace: string;
  /** The operator's image: the guard is `dist/relaunch-guard.js` in it. */
  readonly image: string;
  readonly imagePullSecret?: string;
  /** Where the API server calls from: with the tunnel's pods, the only peers let in. */
  readonly apiServer: ApiServerAddress;
  /** The pods its calls come through on managed control planes (streamforge:network.apiServerTunnel). */
  readonly apiServerTunnel: readonly PodsOf[];
  /** The URL the API server calls instead of the Service (streamforge:operator.relaunchGuard.url): its host is named by the certificate too. */
  readonly url?: string;
}

/** The API server calls the guard through this Service; the clientConfig names it. */
export function relaunchGuardClientConfig(guardNamespace: string): RelaunchGuardArgs["clientConfig"] {
  return { service: { name: RELAUNCH_GUARD_NAME, namespace: guardNamespace, path: "/validate", port: 443 } };
}

/**
 * The guard: two replicas of the operator's image (restricted Pod Security, read-only
 * root, no capabilities), a Service on 443, a NetworkPolicy that lets in only the API server on the
 * guard's port and lets out only the API server, and a PodDisruptionBudget.
 */
export function relaunchGuardWorkload<Image>(args: Omit<RelaunchGuardWorkloadArgs, "image"> & { readonly image: Image }) {
  const metadata = { name: RELAUNCH_GUARD_NAME, namespace: args.guardNamespace, labels: podLabels };
  const env = relaunchGuardEnv({
    ...relaunchGuardSettings({
      ...args,
      // One certificate for every replica, wherever it runs: replicas that named different hosts would renew it in turn.
      servingHosts: [relaunchGuardServiceHost(args.guardNamespace), ...(args.url ? [new URL(args.url).hostname] : [])],
    }),
    PORT: String(RELAUNCH_GUARD_PORT),
  });
  const probe = {
    httpGet: { path: "/healthz", port: "https", scheme: "HTTPS" },
    periodSeconds: 10,
    timeoutSeconds: 2,
    failureThreshold: 3,
  };
  const deployment = {
    metadata,
    spec: {
      replicas: 2,
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: podLabels },
        spec: {
          serviceAccountName: RELAUNCH_GUARD_NAME,
          ...(args.imagePullSecret ? { imagePullSecrets: [{ name: args.imagePullSecret }] } : {}),
          terminationGracePeriodSeconds: 10,
          securityContext: RESTRICTED_POD,
          topologySpreadConstraints: spreadOverNodes(selector),
          containers: [
            {
              name: "relaunch-guard",
              image: args.image,
              imagePullPolicy: "IfNotPresent",
              args: ["dist/relaunch-guard.js"],
              env,
              ports: [{ name: "https", containerPort: RELAUNCH_GUARD_PORT }],
              livenessProbe: probe,
              readinessProbe: probe,
              resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { cpu: "250m", memory: "128Mi" } },
              securityContext: RESTRICTED_CONTAINER,
            },
          ],
        },
      },
    },
  };
  const service = {
    metadata,
    spec: { selector, ports: [{ name: "https", port: 443, targetPort: "https", protocol: "TCP" }] },
  };
  const networkPolicy = {
    metadata,
    spec: {
      podSelector: { matchLabels: selector },
      policyTypes: ["Ingress", "Egress"],
      // The API server calls webhooks from its own address, or through its tunnel's agents (the
      // kubelet's probes are not subject to NetworkPolicy).
      ingress: [
        {
          from: [{ ipBlock: { cidr: args.apiServer.cidr } }, ...args.apiServerTunnel.map((p) => podsIn(p.namespace, p.podLabels))],
          ports: tcp([RELAUNCH_GUARD_PORT]),
        },
      ],
      // It reads Jobs, its Secret and its configuration through the API server's Service IP: no DNS.
      egress: [apiServerEgressRule(args.apiServer)],
    },
  };
  const disruptionBudget = { metadata, spec: { maxUnavailable: 1, selector: { matchLabels: selector } } };
  return { deployment, service, networkPolicy, disruptionBudget };
}
