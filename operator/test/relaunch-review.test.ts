/**
 * The relaunch guard's judgement (core/relaunch-review.ts) on the replacements the operator's own
 * code builds, and on what a stolen operator token could send instead.
 * operator/test/integration/relaunch-guard.itest.ts serves it to the real API server.
 */
import { ANNOTATIONS, type JobManifest } from "../src/core/jobs.js";
import { replacementJob } from "../src/core/relaunch.js";
import { replacementQueueId, replacementRefusal } from "../src/core/relaunch-review.js";
import { pendingAnnotations } from "../src/core/resume.js";
import { launchedJob, s } from "./sim.js";

/** The guard's clock: a few seconds after the relaunch was decided. */
const NOW = s(5);
const PENDING = { name: "q1-loader-producer-r1", reason: "stuck" as const, detail: "no events for 300s", attempt: 1, history: [s(1)] };
/** `old` after the operator's claim for `pending`. */
const claimed = (old: JobManifest, pending = PENDING): JobManifest => ({
  ...old,
  metadata: { ...old.metadata, annotations: { ...old.metadata.annotations, ...pendingAnnotations({ ...pending, queueId: "q1" }) } },
});
const old = claimed(launchedJob("q1", "loader-producer"));
/** What the operator creates for `predecessor` (controller.ts relaunch), changed by `edit`. */
function replacement(predecessor = old, edit: (j: any) => void = () => {}, pending = PENDING): any {
  const job: any = replacementJob({ old: predecessor, ...pending, queueId: replacementQueueId(predecessor) });
  edit(job);
  return job;
}

describe("the relaunch guard's judgement", () => {
  it("admits the operator's replacement of a claimed Job, whatever its reason says", () => {
    expect(replacementRefusal(replacement(), old, NOW)).toBeUndefined();
    const other = replacementJob({
      old,
      ...PENDING,
      reason: "job-failed",
      detail: "BackoffLimitExceeded",
      queueId: "q1",
    });
    expect(replacementRefusal(other, old, NOW)).toBeUndefined();
  });

  it("admits a replacement of a replacement", () => {
    const first = replacement();
    // Its history keeps the first relaunch's time, then its own.
    const next = { ...PENDING, name: "q1-loader-producer-r2", attempt: 2, history: [s(1), s(3)] };
    const second = claimed(first as JobManifest, next);
    expect(
      replacementRefusal(
        replacement(second, () => {}, next),
        second,
        NOW,
      ),
    ).toBeUndefined();
  });

  it.each<[string, JobManifest | undefined, (j: any) => void, string]>([
    [
      "a predecessor that does not exist (or was just deleted)",
      undefined,
      () => {},
      "metadata.annotations[streamforge.io/relaunched-from]: expected a Job that exists in stf; found q1-loader-producer, which does not",
    ],
    [
      "a predecessor nobody claimed",
      launchedJob("q1", "loader-producer"),
      () => {},
      "q1-loader-producer.metadata.annotations[streamforge.io/superseded-by]: expected the predecessor claimed for q1-loader-producer-r1 before its replacement is created; found no claim",
    ],
    [
      "a predecessor claimed for another replacement",
      old,
      (j) => (j.metadata.name = "q1-loader-producer-r9"),
      "q1-loader-producer.metadata.annotations[streamforge.io/superseded-by]: expected the predecessor claimed for q1-loader-producer-r9 before its replacement is created; found q1-loader-producer-r1",
    ],
    [
      "an attempt that is not the next",
      old,
      (j) => (j.metadata.annotations[ANNOTATIONS.attempt] = "999999"),
      "metadata.annotations[streamforge.io/relaunch-attempt]: expected 1, one more than q1-loader-producer's; found 999999",
    ],
    [
      "another image of the allowed registry",
      old,
      (j) => (j.spec.template.spec.containers[0].image = "ghcr.io/olehkondratow/streamforge-loader-producer:0.0.1"),
      "expected q1-loader-producer's replacement as the operator builds it; spec.template.spec.containers differ",
    ],
    [
      "another ServiceAccount and a security context",
      old,
      (j) => Object.assign(j.spec.template.spec, { serviceAccountName: "arango-connector", securityContext: { runAsUser: 0 } }),
      "expected q1-loader-producer's replacement as the operator builds it; spec.template.spec.securityContext, spec.template.spec.serviceAccountName differ",
    ],
    [
      "a queue-id label naming another queue",
      old,
      (j) => (j.metadata.labels["streamforge.io/queue-id"] = "q2"),
      "expected q1-loader-producer's replacement as the operator builds it; metadata.labels[streamforge.io/queue-id] differ",
    ],
    [
      "labels, annotations and finalizers of its own on its pods",
      old,
      (j) => (j.spec.template.metadata = { labels: { app: "queue-manager" }, finalizers: ["example.com/never"] }),
      "expected q1-loader-producer's replacement as the operator builds it; spec.template.metadata.finalizers, spec.template.metadata.labels.app differ",
    ],
    [
      "an annotation of its own (opting out of self-healing) and a finalizer that keeps it forever",
      old,
      (j) => {
        j.metadata.annotations[ANNOTATIONS.selfHealing] = "disabled";
        j.metadata.finalizers = ["example.com/never"];
      },
      "expected q1-loader-producer's replacement as the operator builds it; metadata.annotations[streamforge.io/self-healing], metadata.finalizers differ",
    ],
    [
      // A token that may stamp the claim names any replacement in it: a second copy of the worker under another queue's name.
      "another name, claimed for it",
      claimed(launchedJob("q1", "loader-producer"), { ...PENDING, name: "q2-loader-producer-r1" }),
      (j) => (j.metadata.name = "q2-loader-producer-r1"),
      "metadata.name: expected q1-loader-producer-r1, the replacement's name for q1-loader-producer at attempt 1; found q2-loader-producer-r1",
    ],
    [
      "a relaunch time in the future (the restart budget spent for good)",
      old,
      (j) => (j.metadata.annotations[ANNOTATIONS.history] = String(s(86_400) / 1000)),
      `metadata.annotations[streamforge.io/relaunch-history]: expected this relaunch's time last, after q1-loader-producer was created and not in the future; found ${s(86_400) / 1000}`,
    ],
    [
      "earlier relaunch times the predecessor never had",
      old,
      (j) => (j.metadata.annotations[ANNOTATIONS.history] = `${s(-60) / 1000},${s(-30) / 1000},${s(1) / 1000}`),
      `metadata.annotations[streamforge.io/relaunch-history]: expected earlier times from q1-loader-producer's history only; found ${s(-60) / 1000}, ${s(-30) / 1000}, which it does not hold`,
    ],
    [
      "a relaunched-at that hides the new Job's events",
      old,
      (j) => (j.metadata.annotations[ANNOTATIONS.relaunchedAt] = String(s(86_400))),
      `metadata.annotations[streamforge.io/relaunched-at]: expected the last relaunch time of the history in ms (${s(1)}, to the second); found ${s(86_400)}`,
    ],
  ])("refuses a replacement of %s", (_, predecessor, edit, message) => {
    expect(replacementRefusal(replacement(old, edit), predecessor, NOW)).toBe(message);
  });

  it("refuses a Job that names no predecessor", () => {
    const job = replacement();
    delete job.metadata.annotations[ANNOTATIONS.relaunchedFrom];
    expect(replacementRefusal(job, old, NOW)).toBe(
      "metadata.annotations[streamforge.io/relaunched-from]: expected the name of the Job this one replaces; found none",
    );
  });
});
