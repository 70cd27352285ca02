/**
 * An admission guard on what the self-healing operator's ServiceAccount may do to Jobs in the
 * watched namespace: a ValidatingAdmissionPolicy and its binding, scoped by a match condition to
 * requests made with the operator's own token (queue-manager, people and Pulumi are not checked).
 * The rules restate what the operator does (operator/src/controller.ts):
 * - CREATE: only a replacement as `replacementJob` builds it (its relaunch annotations, a
 *   predecessor, named `<original>-r<attempt>`, created unclaimed) whose pods run no privileged
 *   or escalating container, share no host namespace, mount no hostPath, and run as an allowed
 *   ServiceAccount from allowed images;
 * - UPDATE (its merge patches): only its claim and give-up annotations change;
 * - DELETE: only a Job it claimed first (`superseded-by`).
 * So a stolen operator token cannot start a privileged pod or delete an unclaimed Job. Pure: plain
 * objects for the component to declare.
 */
import {
  ACCOUNT_VARIABLES,
  denyBinding,
  everyContainer,
  failingContainers,
  list,
  lit,
  serviceAccountUser,
  validatingPolicy,
} from "../kit/admission-spec";
import { ANNOTATIONS, KNOWN_TARGETS } from "../../operator/src/contract";

/** The operator's annotations, from the contract the operator itself reads them from. */
export const RELAUNCH_ANNOTATIONS = ANNOTATIONS;

/** What every replacement carries (replacementJob). */
const REPLACEMENT_KEYS = [
  RELAUNCH_ANNOTATIONS.attempt,
  RELAUNCH_ANNOTATIONS.reason,
  RELAUNCH_ANNOTATIONS.relaunchedFrom,
  RELAUNCH_ANNOTATIONS.originalName,
  RELAUNCH_ANNOTATIONS.history,
  RELAUNCH_ANNOTATIONS.relaunchedAt,
];
/** What the operator's patches write: the claim (pendingAnnotations) and the give-up mark. */
const PATCHED_KEYS = [RELAUNCH_ANNOTATIONS.supersededBy, RELAUNCH_ANNOTATIONS.pending, RELAUNCH_ANNOTATIONS.gaveUp];

/**
 * The env of a worker Job as queue-manager's job_launcher sets it (../shared/STREAMFORGE.md, "How
 * Jobs are launched"); a trailing `*` is a prefix. A replacement keeps its predecessor's env so the
 * task resumes; a name beyond these is refused, since env alone can load code into the worker's
 * runtime with its credentials (NODE_OPTIONS=--import, LD_PRELOAD, JAVA_TOOL_OPTIONS, PYTHONPATH).
 */
export const WORKER_ENV = [
  "QUEUE_ID",
  "SYMBOL",
  "TYPE",
  "KAFKA_TOPIC",
  "TELEMETRY_PRODUCER_ID",
  "KAFKA_BOOTSTRAP_SERVERS",
  "KAFKA_USER",
  "KAFKA_PASSWORD",
  "CA_PATH",
  "QUEUE_CONTROL_TOPIC",
  "QUEUE_EVENTS_TOPIC",
  "ARANGO_*",
  "COLLECTION_NAME",
  "TIME_RANGE",
  "INTERVAL",
] as const;

/** An allowed env name: a variable's name, or a prefix of names ending in `_*` (`ARANGO_*`; never one as short as `L*`). */
export const ENV_NAME = /^(?:[A-Za-z_][A-Za-z0-9_.-]*|[A-Za-z][A-Za-z0-9]+_\*)$/;

/** Defaults of streamforge:operator.guard: queue-manager's Jobs name no ServiceAccount, run StreamForge's published images and carry its launcher's env. */
export const GUARD_DEFAULTS = {
  allowedServiceAccounts: ["default"],
  allowedImagePrefixes: ["ghcr.io/olehkondratow/streamforge-"],
  allowedEnv: WORKER_ENV,
} as const;

/** An image prefix names a registry and a path, so "" or "ghcr.io" cannot let any image through. */
export const IMAGE_PREFIX = /^[a-z0-9.-]+(:\d{1,5})?\/\S+$/;

export interface OperatorGuardArgs {
  /** Namespace the operator runs in: where its ServiceAccount is. Names the policy (one per stack). */
  readonly operatorNamespace: string;
  /** The operator's ServiceAccount. */
  readonly serviceAccount: string;
  /** The namespace whose Jobs it relaunches: the only one the binding selects. */
  readonly watchNamespace: string;
  /** ServiceAccounts a replacement's pods may run as (an unset one is "default"). */
  readonly allowedServiceAccounts: readonly string[];
  /** Every container image of a replacement starts with one of these. */
  readonly allowedImagePrefixes: readonly string[];
  /** The env names a replacement's containers may set (a trailing `_*`: a prefix). */
  readonly allowedEnv: readonly string[];
}

/**
 * The shape of a worker Job as queue-manager's job_launcher submits it (../shared/STREAMFORGE.md:
 * restartPolicy, backoffLimit, ttlSecondsAfterFinished, one container with image, pull policy and
 * env) plus what the API server defaults on it and what a worker may carry to run as its own
 * ServiceAccount with its own credentials (volumes of Secrets and ConfigMaps, pull secrets). A
 * replacement is a copy of such a Job: any other field (a command, node placement, tolerations,
 * init containers, projected tokens, envFrom, whose keys would become env names unread...) is refused.
 */
export const WORKER_JOB_SHAPE = {
  // selector and manualSelector: the API server generates them on every Job before admission.
  job: [
    "template",
    "backoffLimit",
    "ttlSecondsAfterFinished",
    "completions",
    "parallelism",
    "completionMode",
    "suspend",
    "podReplacementPolicy",
    "activeDeadlineSeconds",
    "selector",
    "manualSelector",
  ],
  pod: [
    "containers",
    "restartPolicy",
    "terminationGracePeriodSeconds",
    "dnsPolicy",
    "securityContext",
    "schedulerName",
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken",
    "enableServiceLinks",
    "volumes",
    "imagePullSecrets",
  ],
  container: [
    "name",
    "image",
    "imagePullPolicy",
    "env",
    "resources",
    "volumeMounts",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "securityContext",
  ],
  volume: ["name", "secret", "configMap", "emptyDir"],
} as const;

/**
 * Every other field of those objects in Kubernetes v1.37's API (k8s.io/api batch/v1 JobSpec,
 * core/v1 PodSpec, Container, Volume; infra/self-healing/test/operator-guard.itest.ts checks the lists
 * against the real API server's OpenAPI, so a field a later version adds fails that test). CEL
 * cannot list a typed object's fields, so the allowlist is enforced as `!has()` of these. A field
 * the API server does not know fails the policy's type check, which the itest also reads.
 */
export const NOT_WORKER_JOB_SHAPE = {
  job: ["backoffLimitPerIndex", "managedBy", "maxFailedIndexes", "podFailurePolicy", "scheduling", "successPolicy"],
  pod: [
    "activeDeadlineSeconds",
    "affinity",
    "dnsConfig",
    "ephemeralContainers",
    "evictionResponders",
    "hostAliases",
    "hostIPC",
    "hostNetwork",
    "hostPID",
    "hostUsers",
    "hostname",
    "hostnameOverride",
    "initContainers",
    "nodeName",
    "nodeSelector",
    "os",
    "overhead",
    "preemptionPolicy",
    "priority",
    "priorityClassName",
    "readinessGates",
    "resourceClaims",
    "resources",
    "runtimeClassName",
    "schedulingGates",
    "schedulingGroup",
    "setHostnameAsFQDN",
    "shareProcessNamespace",
    "subdomain",
    "tolerations",
    "topologySpreadConstraints",
  ],
  container: [
    "args",
    "command",
    "envFrom",
    "lifecycle",
    "livenessProbe",
    "ports",
    "readinessProbe",
    "resizePolicy",
    "restartPolicy",
    "restartPolicyRules",
    "startupProbe",
    "stdin",
    "stdinOnce",
    "tty",
    "volumeDevices",
    "workingDir",
  ],
  volume: [
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "csi",
    "downwardAPI",
    "ephemeral",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "gitRepo",
    "glusterfs",
    "hostPath",
    "image",
    "iscsi",
    "nfs",
    "persistentVolumeClaim",
    "photonPersistentDisk",
    "portworxVolume",
    "projected",
    "quobyte",
    "rbd",
    "scaleIO",
    "storageos",
    "vsphereVolume",
  ],
} as const;

/** The fields of `object` (a CEL expression) among `fields`, joined with ", " ("" when none). */
const presentFields = (object: string, fields: readonly string[]): string =>
  `[${fields.map((f) => `has(${object}.${f}) ? ${lit(f)} : ""`).join(", ")}].filter(f, f != "").join(", ")`;
const noFields = (object: string, fields: readonly string[]): string => fields.map((f) => `!has(${object}.${f})`).join(" && ");

const only = (operation: "CREATE" | "UPDATE" | "DELETE", expression: string): string =>
  `request.operation != ${lit(operation)} || (${expression})`;

export { serviceAccountUser };

export const guardName = (operatorNamespace: string): string => `streamforge-${operatorNamespace}-self-healing-job-guard`;

export function operatorGuard(args: OperatorGuardArgs) {
  const { watchNamespace: watch, allowedServiceAccounts: accounts, allowedImagePrefixes: prefixes, allowedEnv } = args;
  if (accounts.length === 0) throw new Error("allowedServiceAccounts: expected at least one ServiceAccount; found none");
  if (prefixes.length === 0) throw new Error("allowedImagePrefixes: expected at least one image prefix; found none");
  for (const p of prefixes)
    if (!IMAGE_PREFIX.test(p)) throw new Error(`allowedImagePrefixes: expected a registry and a path, such as ghcr.io/org/; found "${p}"`);
  for (const e of allowedEnv)
    if (!ENV_NAME.test(e)) throw new Error(`allowedEnv: expected an env name, or a prefix of names ending in _* (ARANGO_*); found "${e}"`);

  const name = guardName(args.operatorNamespace);
  const labels = { "app.kubernetes.io/part-of": "streamforge", "app.kubernetes.io/component": "self-healing" };
  const A = RELAUNCH_ANNOTATIONS;
  const ann = (key: string) => `variables.annotations[${lit(key)}]`;
  const privileged = "!c.?securityContext.?privileged.orValue(false)";
  const escalation = "!c.?securityContext.?allowPrivilegeEscalation.orValue(false)";
  const image = `${list(prefixes)}.exists(p, c.?image.orValue("").startsWith(p))`;
  const hostNamespaces = ["hostNetwork", "hostPID", "hostIPC"];
  const envNames = allowedEnv.filter((e) => !e.endsWith("*"));
  const envPrefixes = allowedEnv.filter((e) => e.endsWith("*")).map((e) => e.slice(0, -1));
  const envAllowed = (name: string) => `(${name} in ${list(envNames)} || ${list(envPrefixes)}.exists(p, ${name}.startsWith(p)))`;
  const ownEnv = `c.?env.orValue([]).all(e, ${envAllowed("e.name")})`;
  // A value is the launcher's: no $(NAME) expansion (it would copy a Secret into a value sent to Kafka), and a reference only to a password's Secret.
  const foreignValue =
    'e.?value.orValue("").contains("$(") || (has(e.valueFrom) && !(has(e.valueFrom.secretKeyRef) && e.name.endsWith("PASSWORD")))';
  const plainValues = `c.?env.orValue([]).all(e, !(${foreignValue}))`;

  const chaosLabels = (labels: string) =>
    `(${labels}.exists(k, k == "chaosUID") || ${labels}[?"app.kubernetes.io/part-of"].orValue("") == "litmus")`;
  const templateMeta = "variables.job.spec.template.?metadata";
  const watchedWorker = [
    `variables.annotations[?${lit(A.selfHealing)}].orValue("") != "disabled"`,
    `${templateMeta}.?annotations.orValue({})[?${lit(A.selfHealing)}].orValue("") != "disabled"`,
    `!${chaosLabels("variables.job.metadata.?labels.orValue({})")}`,
    `!${chaosLabels(`${templateMeta}.?labels.orValue({})`)}`,
    `(variables.job.metadata.?labels.orValue({})[?${lit(A.queueId)}].orValue("") != "" || variables.annotations[?${lit(A.queueId)}].orValue("") != "" ||
      variables.pod.?containers.orValue([]).exists(c, c.?env.orValue([]).exists(e, e.name == "QUEUE_ID" && e.?value.orValue("") != "")) ||
      ${list(KNOWN_TARGETS.map((t) => `-${t}`))}.exists(t, variables.annotations[?${lit(A.originalName)}].orValue(variables.job.metadata.name).endsWith(t)))`,
    `variables.accounts.all(s, s in ${list(accounts)})`,
  ].join(" && ");

  const policy = validatingPolicy(name, labels, {
    // A rule that cannot be evaluated refuses the request rather than letting it through.
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [{ apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE", "DELETE"], resources: ["jobs"] }],
    },
    matchConditions: [
      {
        // Only the operator's own requests: queue-manager's launches, people and Pulumi are not its business.
        name: "operator-only",
        expression: `request.userInfo.username == ${lit(serviceAccountUser(args.operatorNamespace, args.serviceAccount))}`,
      },
    ],
    variables: [
      // The Job the request is about: the one being deleted, or the one being written. Each
      // variable is safe for every operation, so no rule fails for lack of an object.
      { name: "job", expression: 'request.operation == "DELETE" ? oldObject : object' },
      { name: "annotations", expression: "variables.job.metadata.?annotations.orValue({})" },
      { name: "pod", expression: "variables.job.spec.template.spec" },
      {
        name: "missing",
        expression: `${list(REPLACEMENT_KEYS)}.filter(k, !(k in variables.annotations) || variables.annotations[k] == "")`,
      },
      { name: "attempt", expression: `variables.annotations[?${lit(A.attempt)}].orValue("")` },
      ...ACCOUNT_VARIABLES,
      // A Job the operator watches, as trimJob reads it (operator/src/core/jobs.ts): a queue's Job
      // (a queue-id label or annotation, a QUEUE_ID env var, or a <queue_id>-<target> name), not
      // opted out, not Litmus's own, and running as a worker's account. Only these may be claimed.
      { name: "watchedWorker", expression: watchedWorker },
      {
        name: "oldAnnotations",
        expression: 'request.operation == "UPDATE" ? oldObject.metadata.?annotations.orValue({}) : variables.annotations',
      },
      {
        name: "changedAnnotations",
        expression:
          "variables.annotations.filter(k, !(k in variables.oldAnnotations) || variables.oldAnnotations[k] != variables.annotations[k]) + variables.oldAnnotations.filter(k, !(k in variables.annotations))",
      },
    ],
    validations: [
      {
        expression: `variables.job.metadata.namespace == ${lit(watch)}`,
        messageExpression: `${lit(`metadata.namespace: expected ${watch}, the namespace the operator watches; found `)} + variables.job.metadata.namespace`,
      },
      // CREATE: a replacement, as replacementJob builds it.
      {
        expression: only("CREATE", "size(variables.missing) == 0"),
        messageExpression: `${lit(`metadata.annotations: expected the operator's relaunch annotations (${REPLACEMENT_KEYS.join(", ")}); missing `)} + variables.missing.join(", ")`,
      },
      {
        expression: only(
          "CREATE",
          `variables.attempt.matches("^[1-9][0-9]{0,5}$") && object.metadata.name.endsWith("-r" + variables.attempt)`,
        ),
        messageExpression: `${lit(`metadata.name and annotations[${A.attempt}]: expected a replacement named <original>-r<attempt>, attempt a whole number >= 1; found `)} + object.metadata.name + " (attempt '" + variables.attempt + "')"`,
      },
      {
        expression: only("CREATE", `${ann(A.relaunchedFrom)} != object.metadata.name`),
        messageExpression: `${lit(`metadata.annotations[${A.relaunchedFrom}]: expected the predecessor's name, not the Job's own; found `)} + ${ann(A.relaunchedFrom)}`,
      },
      {
        expression: only("CREATE", `!(${lit(A.supersededBy)} in variables.annotations) && !(${lit(A.pending)} in variables.annotations)`),
        message: `metadata.annotations: expected no ${A.supersededBy} or ${A.pending} on a new Job (a replacement is created unclaimed); found them`,
      },
      {
        expression: only("CREATE", everyContainer(privileged)),
        messageExpression: `"spec.template.spec.*containers[].securityContext.privileged: expected false or unset; found true in " + ${failingContainers(privileged)}`,
      },
      {
        expression: only("CREATE", everyContainer(escalation)),
        messageExpression: `"spec.template.spec.*containers[].securityContext.allowPrivilegeEscalation: expected false or unset; found true in " + ${failingContainers(escalation)}`,
      },
      {
        expression: only("CREATE", hostNamespaces.map((h) => `!variables.pod.?${h}.orValue(false)`).join(" && ")),
        messageExpression: `"spec.template.spec.hostNetwork, hostPID, hostIPC: expected false or unset; found true: " + [${hostNamespaces
          .map((h) => `variables.pod.?${h}.orValue(false) ? ${lit(h)} : ""`)
          .join(", ")}].filter(s, s != "").join(", ")`,
      },
      {
        expression: only("CREATE", "variables.pod.?volumes.orValue([]).all(v, !has(v.hostPath))"),
        messageExpression:
          '"spec.template.spec.volumes[].hostPath: expected no hostPath volume; found it in " + variables.pod.?volumes.orValue([]).filter(v, has(v.hostPath)).map(v, v.name).join(", ")',
      },
      {
        expression: only("CREATE", `variables.accounts.all(s, s in ${list(accounts)})`),
        messageExpression: `${lit(`spec.template.spec.serviceAccountName: expected one of ${accounts.join(", ")}; found `)} + variables.accounts.filter(s, !(s in ${list(accounts)})).join(", ")`,
      },
      {
        expression: only("CREATE", everyContainer(image)),
        messageExpression: `${lit(`spec.template.spec.*containers[].image: expected an image starting with ${prefixes.join(" or ")}; found `)} + ${failingContainers(image, ' + " " + c.?image.orValue("")')}`,
      },
      // CREATE: a copy of a worker Job, differing only in what the relaunch changes.
      {
        expression: only("CREATE", everyContainer(ownEnv)),
        messageExpression: `${lit(`spec.template.spec.*containers[].env: expected only a worker's env (${allowedEnv.join(", ")}: streamforge:operator.guard.allowedEnv); found `)} + ${failingContainers(ownEnv, ` + " " + c.env.filter(e, !${envAllowed("e.name")}).map(e, e.name).join(" ")`)}`,
      },
      {
        expression: only("CREATE", everyContainer(plainValues)),
        messageExpression: `"spec.template.spec.*containers[].env[]: expected values without $(...) and valueFrom only as a secretKeyRef of a *PASSWORD; found " + ${failingContainers(plainValues, ` + " " + c.env.filter(e, ${foreignValue}).map(e, e.name).join(" ")`)}`,
      },
      {
        expression: only("CREATE", noFields("variables.job.spec", NOT_WORKER_JOB_SHAPE.job)),
        messageExpression: `${lit(`spec: expected only a worker Job's fields (${WORKER_JOB_SHAPE.job.join(", ")}); found `)} + ${presentFields("variables.job.spec", NOT_WORKER_JOB_SHAPE.job)}`,
      },
      {
        expression: only("CREATE", noFields("variables.pod", NOT_WORKER_JOB_SHAPE.pod)),
        messageExpression: `${lit(`spec.template.spec: expected only a worker pod's fields (${WORKER_JOB_SHAPE.pod.join(", ")}); found `)} + ${presentFields("variables.pod", NOT_WORKER_JOB_SHAPE.pod)}`,
      },
      {
        expression: only("CREATE", `variables.pod.?containers.orValue([]).all(c, ${noFields("c", NOT_WORKER_JOB_SHAPE.container)})`),
        messageExpression: `${lit(`spec.template.spec.containers[]: expected only a worker container's fields (${WORKER_JOB_SHAPE.container.join(", ")}); found `)} + variables.pod.?containers.orValue([]).filter(c, !(${noFields("c", NOT_WORKER_JOB_SHAPE.container)})).map(c, "containers[" + c.name + "] " + ${presentFields("c", NOT_WORKER_JOB_SHAPE.container)}).join("; ")`,
      },
      {
        expression: only("CREATE", `variables.pod.?volumes.orValue([]).all(v, ${noFields("v", NOT_WORKER_JOB_SHAPE.volume)})`),
        messageExpression: `${lit(`spec.template.spec.volumes[]: expected only ${WORKER_JOB_SHAPE.volume.filter((f) => f !== "name").join(", ")} volumes; found `)} + variables.pod.?volumes.orValue([]).filter(v, !(${noFields("v", NOT_WORKER_JOB_SHAPE.volume)})).map(v, v.name + " (" + ${presentFields("v", NOT_WORKER_JOB_SHAPE.volume)} + ")").join(", ")`,
      },
      {
        // A worker Job runs one pod (the API server defaults both to 1 where the launcher sets
        // neither, k8s.io/kubernetes pkg/apis/batch/v1/defaults.go SetDefaults_Job): a stolen
        // token would otherwise start hundreds of pods with one replacement.
        expression: only("CREATE", "variables.job.spec.?parallelism.orValue(1) <= 1 && variables.job.spec.?completions.orValue(1) <= 1"),
        messageExpression: `"spec.parallelism, completions: expected at most 1 each (a worker Job runs one pod); found " + string(variables.job.spec.?parallelism.orValue(1)) + ", " + string(variables.job.spec.?completions.orValue(1))`,
      },
      {
        // A selector of its own would let the Job controller adopt, and delete, other pods.
        expression: only("CREATE", "!variables.job.spec.?manualSelector.orValue(false)"),
        message: "spec.manualSelector: expected false or unset (the API server generates a replacement's selector); found true",
      },
      {
        expression: only("CREATE", "!variables.pod.?automountServiceAccountToken.orValue(false)"),
        message: "spec.template.spec.automountServiceAccountToken: expected false or unset (a worker needs no API token); found true",
      },
      // UPDATE: the operator's merge patches only claim a Job or mark it given up.
      {
        expression: only("UPDATE", "object.spec == oldObject.spec"),
        message: "spec: expected unchanged (the operator only annotates the Jobs it watches); found a change",
      },
      {
        expression: only(
          "UPDATE",
          "object.metadata.?labels.orValue({}) == oldObject.metadata.?labels.orValue({}) && object.metadata.?ownerReferences.orValue([]) == oldObject.metadata.?ownerReferences.orValue([]) && object.metadata.?finalizers.orValue([]) == oldObject.metadata.?finalizers.orValue([])",
        ),
        message:
          "metadata.labels, ownerReferences, finalizers: expected unchanged (the operator only annotates the Jobs it watches); found a change",
      },
      {
        expression: only("UPDATE", `variables.changedAnnotations.all(k, k in ${list(PATCHED_KEYS)})`),
        messageExpression: `${lit(`metadata.annotations: expected changes to ${PATCHED_KEYS.join(", ")} only; found changes to `)} + variables.changedAnnotations.filter(k, !(k in ${list(PATCHED_KEYS)})).join(", ")`,
      },
      // DELETE: only a Job the operator claimed first, as it does before it replaces one.
      {
        expression: only("DELETE", `variables.annotations[?${lit(A.supersededBy)}].orValue("") != ""`),
        message: `metadata.annotations[${A.supersededBy}]: expected on a Job the operator deletes (it claims a Job before replacing it); found none`,
      },
      // UPDATE and DELETE: only the Jobs the operator watches; a claim stamped on any other Job would let it delete that Job.
      {
        expression: `request.operation == "CREATE" || variables.watchedWorker`,
        messageExpression: `${lit(`metadata: expected a worker Job the operator watches (a queue-id label, a QUEUE_ID env var or a <queue_id>-<target> name; not opted out with ${A.selfHealing}: disabled; not Litmus's; running as ${accounts.join(" or ")}); found `)} + variables.job.metadata.name`,
      },
    ],
  });

  return { policy, binding: denyBinding(name, labels, watch) };
}
