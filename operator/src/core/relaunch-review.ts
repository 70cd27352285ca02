/**
 * The relaunch guard's judgement (operator/src/relaunch-guard.ts serves it as a validating
 * admission webhook): a Job the operator's account creates is a replacement of a Job that exists,
 * that the operator claimed for it, and it is what replacementJob builds from that Job. A
 * ValidatingAdmissionPolicy cannot judge this: it cannot read another object, and one whose
 * parameters are the namespace's Jobs cannot require the named Job to exist (docs/security.md).
 * Pure: the candidate and the predecessor as the API server holds them, the reason to refuse out.
 */
import { ANNOTATIONS, type JobManifest, QUEUE_ID_LABEL, queueOf } from "./jobs.js";
import { notTheReplacement, replacementJob } from "./relaunch.js";

/** The queue id a replacement of `old` records as its label: the operator's own choice (controller.ts relaunch). */
export function replacementQueueId(old: JobManifest): string | undefined {
  return old.metadata.labels?.[QUEUE_ID_LABEL] ?? queueOf(old);
}

/** The attempt recorded on a Job, as observeJob reads it: 0 for a Job queue-manager launched. */
function attemptOf(job: JobManifest): number {
  const attempt = Number(job.metadata.annotations?.[ANNOTATIONS.attempt] ?? "0");
  return Number.isInteger(attempt) && attempt >= 0 ? attempt : 0;
}

/**
 * Why `candidate` may not be created by the operator (undefined: it may). `predecessor` is the Job
 * it names in `relaunched-from`, read from the API server just now (undefined: there is none).
 */
export function replacementRefusal(candidate: JobManifest, predecessor: JobManifest | undefined): string | undefined {
  const annotations = candidate.metadata.annotations ?? {};
  const from = annotations[ANNOTATIONS.relaunchedFrom];
  if (!from) return `metadata.annotations[${ANNOTATIONS.relaunchedFrom}]: expected the name of the Job this one replaces; found none`;
  if (!predecessor)
    return `metadata.annotations[${ANNOTATIONS.relaunchedFrom}]: expected a Job that exists in ${candidate.metadata.namespace ?? "the namespace"}; found ${from}, which does not`;
  const claim = predecessor.metadata.annotations?.[ANNOTATIONS.supersededBy];
  if (claim !== candidate.metadata.name)
    return `${from}.metadata.annotations[${ANNOTATIONS.supersededBy}]: expected the predecessor claimed for ${candidate.metadata.name} before its replacement is created; found ${claim ?? "no claim"}`;
  const attempt = attemptOf(predecessor) + 1;
  if (annotations[ANNOTATIONS.attempt] !== String(attempt))
    return `metadata.annotations[${ANNOTATIONS.attempt}]: expected ${attempt}, one more than ${from}'s; found ${annotations[ANNOTATIONS.attempt] ?? "none"}`;
  // The relaunch record's free text (reason, history, when) is the operator's word; the rest is the predecessor's.
  const expected = replacementJob({
    old: predecessor,
    attempt,
    reason: "stuck",
    detail: "",
    history: [],
    queueId: replacementQueueId(predecessor),
  });
  const why = notTheReplacement(candidate, expected);
  return why ? `expected ${from}'s replacement as the operator builds it; ${why}` : undefined;
}
