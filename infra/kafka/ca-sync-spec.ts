/**
 * The Kafka CA syncer: a CronJob in the Kafka namespace that keeps the apps namespace's copy of
 * Strimzi's cluster CA equal to the source (operator/src/ca-sync.ts, run from the self-healing
 * operator's image), so a renewed CA reaches the clients without a `pulumi up`. Its account reads
 * that one Secret and writes that one copy: nothing else. It runs in the Kafka namespace, where
 * nobody but the platform creates Jobs: in the apps namespace a Job could borrow its account and
 * write a CA of its own into the clients' trust. Its token could still write any certificate into
 * the copy, so an admission policy with the source Secret as its parameter admits from that
 * account only a copy equal to the source's certificates and their bundle (the key clients
 * read). Pure: plain objects for the component.
 */
import { CA_BUNDLE_KEY } from "../../operator/src/core/ca-copy";
import { lit, paramDenyBinding, serviceAccountUser, validatingPolicy } from "../kit/admission-spec";
export const CA_SYNC = "streamforge-kafka-ca-sync";

/** Every 15 minutes: Strimzi renews a CA certificate 30 days before it expires (Kafka CR `renewalDays`). */
export const CA_SYNC_SCHEDULE = "*/15 * * * *";

/** `Image` is a string here and a Pulumi Input in the component. */
export interface CaSyncSpec<Image = string> {
  /** Strimzi's Secret: namespace (where the CronJob runs) and name. */
  readonly source: { readonly namespace: string; readonly name: string };
  /** The copy in the apps namespace. */
  readonly target: { readonly namespace: string; readonly name: string };
  /** The syncer's image: the operator's (it runs operator/src/ca-sync.ts); an Output where the stack builds it. */
  readonly image: Image;
  /** The pull Secret in the source namespace, where the image's registry needs a login. */
  readonly imagePullSecret?: string;
}

const labels = { "app.kubernetes.io/name": CA_SYNC, "app.kubernetes.io/part-of": "streamforge" };

/** The account, and a Role and RoleBinding in each namespace: get the source; get and update the copy. */
export function caSyncRbac(spec: Omit<CaSyncSpec<unknown>, "image">) {
  const { source, target } = spec;
  const access = [
    { namespace: source.namespace, secret: source.name, verbs: ["get"] },
    { namespace: target.namespace, secret: target.name, verbs: ["get", "update"] },
  ];
  return {
    serviceAccount: {
      apiVersion: "v1" as const,
      kind: "ServiceAccount" as const,
      metadata: { name: CA_SYNC, namespace: source.namespace, labels },
    },
    roles: access.map(({ namespace, secret, verbs }) => ({
      role: {
        apiVersion: "rbac.authorization.k8s.io/v1" as const,
        kind: "Role" as const,
        metadata: { name: CA_SYNC, namespace, labels },
        rules: [{ apiGroups: [""], resources: ["secrets"], resourceNames: [secret], verbs }],
      },
      binding: {
        apiVersion: "rbac.authorization.k8s.io/v1" as const,
        kind: "RoleBinding" as const,
        metadata: { name: CA_SYNC, namespace, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role" as const, name: CA_SYNC },
        subjects: [{ kind: "ServiceAccount" as const, name: CA_SYNC, namespace: source.namespace }],
      },
    })),
  };
}

export function caSyncCronJob<Image>(spec: CaSyncSpec<Image>) {
  return {
    apiVersion: "batch/v1" as const,
    kind: "CronJob" as const,
    metadata: { name: CA_SYNC, namespace: spec.source.namespace, labels },
    spec: {
      schedule: CA_SYNC_SCHEDULE,
      timeZone: "Etc/UTC",
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 600,
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        spec: {
          backoffLimit: 2,
          activeDeadlineSeconds: 120,
          ttlSecondsAfterFinished: 3600,
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: CA_SYNC,
              restartPolicy: "Never",
              securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
              ...(spec.imagePullSecret ? { imagePullSecrets: [{ name: spec.imagePullSecret }] } : {}),
              containers: [
                {
                  name: "ca-sync",
                  image: spec.image,
                  // The image's entrypoint is node; its default command is the operator.
                  args: ["dist/ca-sync.js"],
                  env: [
                    { name: "CA_SOURCE", value: `${spec.source.namespace}/${spec.source.name}` },
                    { name: "CA_TARGET", value: `${spec.target.namespace}/${spec.target.name}` },
                  ],
                  resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
                  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                },
              ],
            },
          },
        },
      },
    },
  };
}

export const caSyncGuardName = (spec: Pick<CaSyncSpec<unknown>, "source">): string => `${CA_SYNC}-${spec.source.namespace}`;

/**
 * The bundle as CEL recomputes it from the source's values: operator/src/core/ca-copy.ts caBundle
 * pads each certificate with newlines to a multiple of 3 bytes, so each part's base64 is the
 * source's with its `=` padding completed: one byte left over ("==") gains "\n\n" ("oK"), two
 * ("=") gain "\n" ("K"), none gain "\n\n\n" ("CgoK"). CEL sees Secret data as the base64 strings
 * (apiserver v0.34.5 pkg/admission/plugin/cel/activation.go L36-46, condition.go L76-85: the
 * objects as unstructured) and has no base64 decoder, so the check is on those strings. `sort()`
 * is cel-go v0.26.0's lists library v2+ (ext/lists.go L259-285), in the API server's environment
 * from 1.34 (pkg/cel/environment/base.go L186-191); a new policy is compiled at the compatibility
 * version, one minor below (base.go L49-57), so it is admitted from 1.35. The stack needs 1.36.
 */
const BUNDLE_CEL = [
  "variables.certs.map(k, params.data[k])",
  'map(v, v.endsWith("==") ? v.substring(0, v.size() - 2) + "oK" : v.endsWith("=") ? v.substring(0, v.size() - 1) + "K" : v + "CgoK")',
  "join()",
].join(".");

/**
 * What the syncer's token may write into the copy: exactly the source's certificates (its `*.crt`
 * keys, operator/src/core/ca-copy.ts caCopyData) and their bundle, read by the API server from
 * the source Secret itself (the binding's paramRef), so a stolen token cannot put a CA of its own
 * into the clients' trust. A write that raced a renewal is refused and the next run writes the new one.
 */
export function caSyncGuard(spec: Omit<CaSyncSpec<unknown>, "image">) {
  const { source, target } = spec;
  const name = caSyncGuardName(spec);
  const bundle = lit(CA_BUNDLE_KEY);
  const policy = validatingPolicy(name, labels, {
    failurePolicy: "Fail",
    paramKind: { apiVersion: "v1", kind: "Secret" },
    matchConstraints: {
      resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["secrets"] }],
    },
    matchConditions: [
      { name: "the-syncer-only", expression: `request.userInfo.username == ${lit(serviceAccountUser(source.namespace, CA_SYNC))}` },
    ],
    variables: [
      { name: "certs", expression: 'params.?data.orValue({}).filter(k, k.endsWith(".crt")).sort()' },
      { name: "written", expression: "object.?data.orValue({})" },
      { name: "bundle", expression: BUNDLE_CEL },
    ],
    validations: [
      {
        // An owner (the garbage collector then deletes the copy), a finalizer or `immutable`
        // (renewals then stop reaching it) would take the copy from the clients without a forged byte.
        expression: `request.operation == "CREATE" || (${["ownerReferences", "finalizers"]
          .map(
            (f) =>
              `(has(object.metadata.${f}) == has(oldObject.metadata.${f}) && (!has(object.metadata.${f}) || object.metadata.${f} == oldObject.metadata.${f}))`,
          )
          .join(" && ")} && !object.?immutable.orValue(false))`,
        messageExpression: `${lit("metadata.ownerReferences, metadata.finalizers, immutable: expected them as they were (the copy's lifetime is Pulumi's); found a change to ")} + object.metadata.name`,
      },
      {
        expression: `object.metadata.name == ${lit(target.name)} && variables.written.size() == variables.certs.size() + 1 && variables.certs.all(k, k in variables.written && variables.written[k] == params.data[k]) && ${bundle} in variables.written && variables.written[${bundle}] == variables.bundle`,
        messageExpression: `${lit(`data: expected exactly the certificates of ${source.namespace}/${source.name} (`)} + variables.certs.join(", ") + ${lit(`) and their bundle ${CA_BUNDLE_KEY}; found `)} + (variables.written.filter(k, k == ${bundle} ? variables.written[k] != variables.bundle : !(k in variables.certs) || variables.written[k] != params.data[k]).sort().map(k, k + " (not the source's)") + variables.certs.filter(k, !(k in variables.written)).map(k, k + " missing") + (${bundle} in variables.written ? [] : [${lit(`${CA_BUNDLE_KEY} missing`)}])).join(", ")`,
      },
    ],
  });
  // No source, no write.
  return { policy, binding: paramDenyBinding(name, labels, target.namespace, source) };
}
