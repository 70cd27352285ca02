/**
 * The relaunch guard's judgement (operator/src/relaunch-guard.ts serves it as a validating
 * admission webhook): a Job the operator's account creates is a replacement of a Job that exists,
 * that the operator claimed for it, and it is what replacementJob builds from that Job. A
 * ValidatingAdmissionPolicy cannot judge this: it cannot read another object, and one whose
 * parameters are the namespace's Jobs cannot require the named Job to exist (docs/security.md).
 * Pure: the candidate and the predecessor as the API server holds them, the reason to refuse out.
 */
import { ANNOTATIONS, type JobManifest, QUEUE_ID_LABEL, attemptOf, parseHistory, queueOf } from "./jobs.js";
import { notTheReplacement, replacementJob, replacementName } from "./relaunch.js";

/** How far the guard's clock, the API server's and the operator's may disagree. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** The queue id a replacement of `old` records as its label: the operator's own choice (controller.ts relaunch). */
export function replacementQueueId(old: JobManifest): string | undefined {
  return old.metadata.labels?.[QUEUE_ID_LABEL] ?? queueOf(old);
}

/**
 * The relaunch record's times, which the operator reads back (core/decide.ts: the restart budget
 * counts the history; events before `relaunched-at` belong to the predecessor): the predecessor's
 * times it keeps, then this relaunch's, which has happened (not in the future, not before the
 * predecessor existed), and `relaunched-at` that same moment. A forged future time would spend the
 * budget for good, or hide every event the new Job sends.
 */
function timesProblem(candidate: JobManifest, predecessor: JobManifest, now: number): string | undefined {
  const annotations = candidate.metadata.annotations ?? {};
  const from = predecessor.metadata.name;
  const history = parseHistory(annotations[ANNOTATIONS.history]);
  const last = history[history.length - 1];
  if (last === undefined)
    return `metadata.annotations[${ANNOTATIONS.history}]: expected the relaunch times (epoch seconds), this one last; found ${annotations[ANNOTATIONS.history] ?? "none"}`;
  const kept = new Set(parseHistory(predecessor.metadata.annotations?.[ANNOTATIONS.history]));
  const foreign = history.slice(0, -1).filter((t) => !kept.has(t));
  if (foreign.length > 0)
    return `metadata.annotations[${ANNOTATIONS.history}]: expected earlier times from ${from}'s history only; found ${foreign.map((t) => t / 1000).join(", ")}, which it does not hold`;
  const created = new Date(predecessor.metadata.creationTimestamp ?? Number.NaN).getTime();
  if (last > now + CLOCK_SKEW_MS || (Number.isFinite(created) && last < created - CLOCK_SKEW_MS))
    return `metadata.annotations[${ANNOTATIONS.history}]: expected this relaunch's time last, after ${from} was created and not in the future; found ${last / 1000}`;
  const at = Number(annotations[ANNOTATIONS.relaunchedAt]);
  if (!Number.isFinite(at) || Math.abs(at - last) >= 1000)
    return `metadata.annotations[${ANNOTATIONS.relaunchedAt}]: expected the last relaunch time of the history in ms (${last}, to the second); found ${annotations[ANNOTATIONS.relaunchedAt] ?? "none"}`;
  return undefined;
}

/**
 * Why `candidate` may not be created by the operator (undefined: it may). `predecessor` is the Job
 * it names in `relaunched-from`, read from the API server just now (undefined: there is none);
 * `now`, the guard's clock (ms).
 */
export function replacementRefusal(candidate: JobManifest, predecessor: JobManifest | undefined, now: number): string | undefined {
  const annotations = candidate.metadata.annotations ?? {};
  const from = annotations[ANNOTATIONS.relaunchedFrom];
  if (!from) return `metadata.annotations[${ANNOTATIONS.relaunchedFrom}]: expected the name of the Job this one replaces; found none`;
  if (!predecessor)
    return `metadata.annotations[${ANNOTATIONS.relaunchedFrom}]: expected a Job that exists in ${candidate.metadata.namespace ?? "the namespace"}; found ${from}, which does not`;
  const claim = predecessor.metadata.annotations?.[ANNOTATIONS.supersededBy];
  if (claim !== candidate.metadata.name)
    return `${from}.metadata.annotations[${ANNOTATIONS.supersededBy}]: expected the predecessor claimed for ${candidate.metadata.name} before its replacement is created; found ${claim ?? "no claim"}`;
  const attempt = attemptOf(predecessor.metadata.annotations) + 1;
  if (annotations[ANNOTATIONS.attempt] !== String(attempt))
    return `metadata.annotations[${ANNOTATIONS.attempt}]: expected ${attempt}, one more than ${from}'s; found ${annotations[ANNOTATIONS.attempt] ?? "none"}`;
  // One Job per relaunch: the name the operator gives it, so no second copy of a worker runs under another.
  const name = replacementName(predecessor, attempt);
  if (candidate.metadata.name !== name)
    return `metadata.name: expected ${name}, the replacement's name for ${from} at attempt ${attempt}; found ${candidate.metadata.name}`;
  const times = timesProblem(candidate, predecessor, now);
  if (times) return times;
  // The reason is the operator's word; the times are checked above; the rest is the predecessor's.
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
