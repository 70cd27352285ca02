/**
 * The relaunch guard's side of a validating admission webhook (admission.k8s.io/v1 AdmissionReview,
 * k8s.io/api admission/v1/types.go): the request in, the response out, the predecessor read
 * through `read`. Only a Job CREATE by the operator's account is judged; anything else the API
 * server sends (a binding that matches too much) is admitted, as the policies' match conditions
 * would leave it alone.
 */
import { ANNOTATIONS, type JobManifest } from "../core/jobs.js";
import { replacementRefusal } from "../core/relaunch-review.js";

export interface AdmissionReview {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly request?: {
    readonly uid?: string;
    readonly operation?: string;
    readonly namespace?: string;
    readonly resource?: { readonly group?: string; readonly resource?: string };
    readonly userInfo?: { readonly username?: string };
    readonly object?: JobManifest;
    readonly dryRun?: boolean;
  };
}

export interface AdmissionVerdict {
  readonly apiVersion: "admission.k8s.io/v1";
  readonly kind: "AdmissionReview";
  readonly response: {
    readonly uid: string;
    readonly allowed: boolean;
    readonly status?: { readonly code: number; readonly message: string };
  };
}

/** The predecessor as the API server holds it now (undefined: none); throws when it cannot be read. */
export type ReadJob = (namespace: string, name: string) => Promise<JobManifest | undefined>;

/** What to answer `review`, and why, for the log. `operatorUser`: the operator's account, as the API server names it; `now`, the clock (ms). */
export async function judge(
  review: AdmissionReview,
  operatorUser: string,
  read: ReadJob,
  now: () => number,
): Promise<{ verdict: AdmissionVerdict; refusal: string | undefined }> {
  const request = review.request;
  const uid = request?.uid ?? "";
  const answer = (allowed: boolean, status?: { code: number; message: string }) => ({
    apiVersion: "admission.k8s.io/v1" as const,
    kind: "AdmissionReview" as const,
    response: { uid, allowed, ...(status ? { status } : {}) },
  });
  const isOperatorsJobCreate =
    request?.operation === "CREATE" &&
    request.resource?.group === "batch" &&
    request.resource.resource === "jobs" &&
    request.userInfo?.username === operatorUser;
  if (!isOperatorsJobCreate) return { verdict: answer(true), refusal: undefined };
  const job = request.object;
  const namespace = request.namespace ?? job?.metadata.namespace;
  if (!job?.metadata || !namespace) {
    const refusal = "object: expected a Job in a namespace; found none";
    return { verdict: answer(false, { code: 400, message: refusal }), refusal };
  }
  const from = job.metadata.annotations?.[ANNOTATIONS.relaunchedFrom];
  let predecessor: JobManifest | undefined;
  try {
    predecessor = from ? await read(namespace, from) : undefined;
  } catch (err) {
    const refusal = `could not read ${namespace}/${from} to judge its replacement: ${(err as Error).message}`;
    // 503: the operator retries soon (operator/src/core/failures.ts), as for any failure that may pass.
    return { verdict: answer(false, { code: 503, message: refusal }), refusal };
  }
  const refusal = replacementRefusal({ ...job, metadata: { ...job.metadata, namespace } }, predecessor, now());
  return refusal ? { verdict: answer(false, { code: 403, message: refusal }), refusal } : { verdict: answer(true), refusal: undefined };
}
