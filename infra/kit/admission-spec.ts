/**
 * The admission guards' shapes, as plain data: a ValidatingAdmissionPolicy and the binding that
 * enforces it in one namespace. Every area that guards its objects with CEL (chaos/guard.ts,
 * infra/self-healing/guard.ts) builds its policy and binding through these. Pure.
 */
import { namespaceSelector } from "./network-spec";

/** A ValidatingAdmissionPolicy named `name`; `spec` (its rules) is the caller's. */
export function validatingPolicy<S extends object>(name: string, labels: Readonly<Record<string, string>>, spec: S) {
  return {
    apiVersion: "admissionregistration.k8s.io/v1" as const,
    kind: "ValidatingAdmissionPolicy" as const,
    metadata: { name, labels },
    spec,
  };
}

/** Binds the policy of the same name so that it refuses (Deny) what breaks it, in `namespace` only. */
export function denyBinding(name: string, labels: Readonly<Record<string, string>>, namespace: string) {
  return denyBindingWhere(name, labels, { namespaceSelector: namespaceSelector(namespace) });
}

/**
 * The same, for a policy with a paramKind: `param` is the object its rules read. A missing
 * parameter refuses (parameterNotFoundAction Deny) rather than admits.
 */
export function paramDenyBinding(
  name: string,
  labels: Readonly<Record<string, string>>,
  namespace: string,
  param: { readonly name: string; readonly namespace: string },
) {
  const binding = denyBinding(name, labels, namespace);
  return { ...binding, spec: { ...binding.spec, paramRef: { ...param, parameterNotFoundAction: "Deny" } } };
}

/** The same, in the namespaces named (or, with "all", in every namespace). */
export function denyBindingIn(name: string, labels: Readonly<Record<string, string>>, namespaces: readonly string[] | "all") {
  return denyBindingWhere(
    name,
    labels,
    namespaces === "all"
      ? {}
      : { namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [...namespaces] }] } },
  );
}

function denyBindingWhere<M extends object>(name: string, labels: Readonly<Record<string, string>>, matchResources: M) {
  return {
    apiVersion: "admissionregistration.k8s.io/v1" as const,
    kind: "ValidatingAdmissionPolicyBinding" as const,
    metadata: { name, labels },
    spec: { policyName: name, validationActions: ["Deny"], matchResources },
  };
}

// ---- CEL pieces the guards share --------------------------------------------------------------

/** A CEL string literal (CEL's escapes include JSON's). */
export const lit = (s: string): string => JSON.stringify(s);
/** A CEL list of string literals. */
export const list = (items: readonly string[]): string => `[${items.map(lit).join(", ")}]`;

/**
 * A pod's PriorityClass: none, or one the stack lists under `key`, and no scheduling group. The
 * class decides what the pod may preempt (`system-node-critical` evicts anything); its priority
 * number and preemption policy follow it, since Kubernetes' Priority admission refuses a pod that
 * sets them otherwise, and that admission writes the cluster's `globalDefault` class into a pod
 * naming none before any policy sees it (kubernetes v1.37.2 plugin/pkg/admission/priority/admission.go
 * `admitPod`), so a cluster with such a class lists it. A grouped pod preempts with its PodGroup's
 * priority instead (pkg/scheduler/framework/preemption/types.go L44-57), a class this rule cannot
 * see, so `schedulingGroup` is refused. `pod` is a CEL pod spec; `where` the CEL path before it.
 */
export function priorityClassRule(pod: string, where: string, allowed: readonly string[], key: string) {
  const expected = allowed.length ? `none or one of ${allowed.join(", ")}` : "none";
  return {
    expression: priorityClassAllowed(pod, allowed),
    messageExpression: `${where} + ${lit(`priorityClassName, schedulingGroup: expected ${expected} (${key}) and no scheduling group, whose PodGroup's class would decide what the pod preempts; found `)} + (has(${pod}.schedulingGroup) ? "schedulingGroup " + ${pod}.schedulingGroup.?podGroupName.orValue("") : ${pod}.priorityClassName)`,
  };
}

/** CEL: the pod spec `pod` is in no scheduling group and names no PriorityClass or one of `allowed` (priorityClassRule). */
export const priorityClassAllowed = (pod: string, allowed: readonly string[]): string =>
  `!has(${pod}.schedulingGroup) && ${pod}.?priorityClassName.orValue("") in ${list(["", ...allowed])}`;

/** `system:serviceaccount:<namespace>:<name>`: how the API server names a ServiceAccount's token. */
export const serviceAccountUser = (namespace: string, name: string): string => `system:serviceaccount:${namespace}:${name}`;

/** A pod's three container lists, each checked on its own (their CEL types differ). */
export const CONTAINER_LISTS = ["containers", "initContainers", "ephemeralContainers"] as const;

/** `ok` holds for every container of `variables.pod` (`c` is the container). */
export const everyContainer = (ok: string): string =>
  CONTAINER_LISTS.map((l) => `variables.pod.?${l}.orValue([]).all(c, ${ok})`).join(" && ");

/** The containers of `variables.pod` for which `ok` fails, as `containers[name]` joined with ", " (`show` adds what was found). */
export const failingContainers = (ok: string, show = ""): string =>
  `(${CONTAINER_LISTS.map((l) => `variables.pod.?${l}.orValue([]).filter(c, !(${ok})).map(c, ${lit(`${l}[`)} + c.name + "]"${show})`).join(
    " + ",
  )}).join(", ")`;

/**
 * The ServiceAccounts `variables.pod` runs as, as the variable `accounts`: serviceAccount is the
 * deprecated alias of serviceAccountName (the API server copies one to the other), so both are
 * read, each distinct name once; a pod that names none runs as "default".
 */
export const ACCOUNT_VARIABLES = [
  { name: "account", expression: 'variables.pod.?serviceAccountName.orValue("")' },
  { name: "aliasAccount", expression: 'variables.pod.?serviceAccount.orValue("")' },
  {
    name: "namedAccounts",
    expression:
      '(variables.account == variables.aliasAccount ? [variables.account] : [variables.account, variables.aliasAccount]).filter(s, s != "")',
  },
  { name: "accounts", expression: 'size(variables.namedAccounts) == 0 ? ["default"] : variables.namedAccounts' },
] as const;
