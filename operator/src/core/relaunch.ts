/**
 * The replacement of a Job: its spec with everything the API server owns or rejects removed,
 * the same env so the task resumes, a deterministic name, and annotations recording why.
 * Pure: a manifest in, a manifest out.
 */
import { ANNOTATIONS, type JobManifest, QUEUE_ID_LABEL, originalName } from "./jobs.js";
import type { RelaunchReason } from "./decide.js";
import { isDeepStrictEqual } from "node:util";

/** Labels the Job controller sets; a new Job with the old values would be rejected or mis-selected. */
const CONTROLLER_LABELS = ["controller-uid", "job-name", "batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name"];

/** Job names are at most 63 characters (they become label values). */
const MAX_NAME = 63;

/** `<original>-r<attempt>`, shortened from the original's end if needed; the same inputs always give the same name. */
export function replacementName(job: JobManifest, attempt: number): string {
  const suffix = `-r${attempt}`;
  const base = originalName(job)
    .slice(0, MAX_NAME - suffix.length)
    .replace(/-+$/, "");
  return `${base}${suffix}`;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function without(record: Record<string, string> | undefined, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(record ?? {}).filter(([k]) => !keys.includes(k)));
}

export interface ReplacementInput {
  readonly old: JobManifest;
  readonly attempt: number;
  readonly reason: RelaunchReason;
  readonly detail: string;
  /** Relaunch times (ms), this one (the decision time) last. */
  readonly history: readonly number[];
  /** The queue id to record as a label, when it is a valid label value. */
  readonly queueId: string | undefined;
}

/** `spec` (a copy, changed in place) without what the API server generates for each new Job: the selector and the controller's pod labels. */
function withoutGenerated(spec: NonNullable<JobManifest["spec"]>): NonNullable<JobManifest["spec"]> {
  delete spec.selector;
  delete spec.manualSelector;
  const template = spec.template ?? {};
  template.metadata = { ...template.metadata, labels: without(template.metadata?.labels, CONTROLLER_LABELS) };
  spec.template = template;
  return spec;
}

export function replacementJob({ old, attempt, reason, detail, history, queueId }: ReplacementInput): JobManifest {
  const spec = withoutGenerated(structuredClone(old.spec ?? {}));

  const labels = without(old.metadata.labels, CONTROLLER_LABELS);
  if (queueId !== undefined && queueId.length <= 63 && LABEL_VALUE.test(queueId)) labels[QUEUE_ID_LABEL] = queueId;
  const annotations = {
    ...without(old.metadata.annotations, [
      ANNOTATIONS.supersededBy,
      ANNOTATIONS.pending,
      ANNOTATIONS.gaveUp,
      "kubectl.kubernetes.io/last-applied-configuration",
    ]),
    [ANNOTATIONS.attempt]: String(attempt),
    [ANNOTATIONS.reason]: `${reason}: ${detail}`.slice(0, 1024),
    [ANNOTATIONS.relaunchedFrom]: old.metadata.name,
    [ANNOTATIONS.originalName]: originalName(old),
    [ANNOTATIONS.history]: history.map((t) => Math.round(t / 1000)).join(","),
    [ANNOTATIONS.relaunchedAt]: String(history[history.length - 1] ?? 0),
  };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: replacementName(old, attempt),
      namespace: old.metadata.namespace,
      labels,
      annotations,
      ...(Array.isArray(old.metadata.ownerReferences) ? { ownerReferences: old.metadata.ownerReferences } : {}),
    },
    spec,
  };
}

/** A Job as the API server keeps it, without what it generates for each new Job: the selector and the Job controller's labels. */
function asLaunched(job: JobManifest): Record<string, unknown> {
  // As JSON: the client's models carry unset fields as undefined, and dates as Date.
  const spec = withoutGenerated(JSON.parse(JSON.stringify(job.spec ?? {})) as NonNullable<JobManifest["spec"]>);
  const { ownerReferences = [], finalizers = [] } = JSON.parse(JSON.stringify(job.metadata)) as JobManifest["metadata"];
  return {
    metadata: {
      // The relaunch record's free text is the operator's word (why, when, the history); the rest is the predecessor's.
      annotations: without(job.metadata.annotations, [ANNOTATIONS.reason, ANNOTATIONS.history, ANNOTATIONS.relaunchedAt]),
      labels: without(job.metadata.labels, CONTROLLER_LABELS),
      ownerReferences,
      finalizers,
    },
    spec,
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The paths at which `a` and `b` differ, down to the first value that is not an object (a list is one value). */
function differences(a: unknown, b: unknown, path: string): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  if (!isRecord(a) || !isRecord(b)) return [path];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  // A label's or annotation's key in brackets: it holds dots and slashes of its own.
  const at = (k: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? (path ? `${path}.${k}` : k) : `${path}[${k}]`);
  return keys.flatMap((k) => differences(a[k], b[k], at(k)));
}

/**
 * Why `existing`, a Job that holds a replacement's name, is not the replacement `expected`
 * (undefined when it is), naming the fields that differ: an earlier try of this very relaunch
 * created it (the operator died before deleting the old Job), or someone else did. Only the first
 * may stand in for the worker the operator then deletes; a Job created in its place under that
 * name (its name is predictable) must not take over the queue's work. Compared as the API server
 * keeps both, without the selector and the controller's labels it generates for each new Job.
 */
export function notTheReplacement(existing: JobManifest, expected: JobManifest): string | undefined {
  const paths = differences(asLaunched(existing), asLaunched(expected), "");
  return paths.length > 0 ? `${paths.join(", ")} differ` : undefined;
}
