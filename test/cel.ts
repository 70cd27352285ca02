/**
 * A ValidatingAdmissionPolicy's CEL evaluated locally with cel-js, the way the API server runs it:
 * match conditions, then variables, then each validation in order; the first that fails is the
 * refusal. The guards' unit tests (chaos/test/guard.test.ts, infra/self-healing/test/operator-guard.test.ts) use it;
 * their itests run the same policies against the real API server.
 */
import { Environment } from "@marcbachmann/cel-js";

// The API server's CEL environment has optionals, and sees the objects as plain JSON.
const cel = new Environment({ enableOptionalTypes: true, unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false });
// And cel-go's lists library (Kubernetes 1.34+, apiserver pkg/cel/environment/base.go L186-191),
// whose sort() cel-js lacks. The policies sort Secret keys only: ASCII, where code-unit order is Go's.
cel.registerFunction("list.sort(): list", (items: unknown[]) => {
  if (!items.every((i): i is string => typeof i === "string")) throw new Error("sort() here sorts strings only");
  return [...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
});

/** The parts of a ValidatingAdmissionPolicy's spec that hold CEL. */
export interface PolicyCel {
  readonly matchConditions?: readonly { readonly expression: string }[];
  readonly variables?: readonly { readonly name: string; readonly expression: string }[];
  readonly validations: readonly { readonly expression: string; readonly message?: string; readonly messageExpression?: string }[];
}

/** The request as the policy sees it. */
export interface AdmissionRequest {
  readonly operation: "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
  /** The object written (none on DELETE). */
  readonly object?: object;
  /** The object before the request (UPDATE and DELETE). */
  readonly oldObject?: object;
  /** Who asks, where a policy reads it. */
  readonly userInfo?: { readonly username: string; readonly groups?: readonly string[] };
  /** The kind of the object, where a policy on several kinds reads it. */
  readonly kind?: { readonly kind: string };
  /** The subresource written (`ephemeralcontainers`), where there is one. */
  readonly subResource?: string;
  /** The request's namespace, where a policy reads it. */
  readonly namespace?: string;
  /** The object's name (a CONNECT request's pod), where a policy reads it. */
  readonly name?: string;
  /** The resource written, where a policy on several reads it. */
  readonly resource?: { readonly group: string; readonly version: string; readonly resource: string };
  /** The binding's parameter object, where the policy has a paramKind. */
  readonly params?: object;
}

/** What the API server answers: "admitted", "not checked" (a match condition is false), or the refusal's message. */
export function admit(policy: { readonly spec: PolicyCel }, request: AdmissionRequest): string {
  const { spec } = policy;
  const { operation, userInfo, kind, subResource, namespace, name, resource } = request;
  // A JSON copy: under Jest, objects made in another realm are refused by cel-js.
  const json = (o: object | undefined) => (o === undefined ? null : JSON.parse(JSON.stringify(o)));
  const ctx: Record<string, any> = {
    object: json(request.object),
    oldObject: json(request.oldObject),
    params: json(request.params),
    request: {
      operation,
      ...(userInfo === undefined ? {} : { userInfo }),
      ...(kind === undefined ? {} : { kind }),
      ...(subResource === undefined ? {} : { subResource }),
      // The API server always sets these ("" where there is none).
      namespace: namespace ?? "",
      name: name ?? "",
      ...(resource === undefined ? {} : { resource }),
    },
    variables: {},
  };
  if (!(spec.matchConditions ?? []).every((c) => cel.evaluate(c.expression, ctx) === true)) return "not checked";
  for (const v of spec.variables ?? []) ctx.variables[v.name] = cel.evaluate(v.expression, ctx);
  for (const v of spec.validations) {
    let ok: unknown;
    try {
      ok = cel.evaluate(v.expression, ctx);
    } catch (err) {
      return `error in ${v.expression}: ${(err as Error).message}`; // failurePolicy Fail: refused
    }
    if (ok !== true) return v.messageExpression !== undefined ? String(cel.evaluate(v.messageExpression, ctx)) : String(v.message);
  }
  return "admitted";
}
