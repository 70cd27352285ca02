/**
 * The relaunch guard's objects (operator/src/relaunch-guard.ts, a validating admission webhook):
 * its configuration, which sends the API server's every Job CREATE by the operator's account in
 * the watched namespace to it, and its Role, which reads that namespace's Jobs and nothing else.
 * The operator guard (./guard.ts) holds the shape of such a Job; the relaunch guard, whether it is
 * the replacement of a Job that exists and was claimed for it (docs/security.md). Pure.
 *
 * Not yet declared by the stack: it needs its Deployment, Service and serving certificate.
 */
import { lit, serviceAccountUser } from "../kit/admission-spec";
import { namespaceSelector } from "../kit/network-spec";

export const RELAUNCH_GUARD_NAME = "streamforge-relaunch-guard";
/** The webhook's name in its configuration: a qualified name the API server's refusals quote. */
export const RELAUNCH_GUARD_WEBHOOK = "relaunch-guard.streamforge.io";

export interface RelaunchGuardArgs {
  /** Namespace the operator runs in: where its ServiceAccount is, and the guard's. */
  readonly operatorNamespace: string;
  /** The operator's ServiceAccount: only its requests are sent. */
  readonly serviceAccount: string;
  /** The namespace whose Jobs the operator relaunches. */
  readonly watchNamespace: string;
  /** How the API server reaches the guard: its Service in a cluster, or a URL; and the CA that signed its certificate (base64 PEM). */
  readonly clientConfig:
    | {
        readonly service: { readonly name: string; readonly namespace: string; readonly path: string; readonly port: number };
        readonly caBundle: string;
      }
    | { readonly url: string; readonly caBundle: string };
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

/** The guard reads the watched namespace's Jobs (each replacement's predecessor), and nothing else. */
export function relaunchGuardRole(args: Pick<RelaunchGuardArgs, "watchNamespace">) {
  return {
    metadata: { name: RELAUNCH_GUARD_NAME, namespace: args.watchNamespace, labels },
    rules: [{ apiGroups: ["batch"], resources: ["jobs"], verbs: ["get"] }],
  };
}
