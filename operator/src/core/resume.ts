/**
 * Relaunches are claimed before they are carried out: the old Job gets the replacement's name
 * and the relaunch's record in annotations (a write that fails if anyone else changed the Job
 * first). A relaunch interrupted after its claim (a crash, a lost leadership) is finished from
 * those annotations: the replacement is created if missing and the old Job deleted. Pure.
 */
import type { RelaunchReason } from "./decide.js";
import { ANNOTATIONS, type CachedJob } from "./jobs.js";

export interface PendingRelaunch {
  readonly name: string;
  readonly reason: RelaunchReason;
  readonly detail: string;
  readonly attempt: number;
  readonly history: readonly number[];
  readonly queueId?: string;
}

export function pendingAnnotations(pending: PendingRelaunch): Record<string, string> {
  return { [ANNOTATIONS.supersededBy]: pending.name, [ANNOTATIONS.pending]: JSON.stringify(pending) };
}

/** Reads the claim from a Job's annotations: the cached Job's or the one read from the API server. */
export function readPending(job: {
  readonly metadata: { readonly annotations?: Readonly<Record<string, string>> };
}): PendingRelaunch | undefined {
  const text = job.metadata.annotations?.[ANNOTATIONS.pending];
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Partial<PendingRelaunch>;
    if (typeof value.name !== "string" || typeof value.attempt !== "number" || !Array.isArray(value.history)) return undefined;
    return value as PendingRelaunch;
  } catch {
    return undefined;
  }
}

export interface UnfinishedRelaunch {
  /** As cached: the replacement is built from the Job read again from the API server. */
  readonly old: CachedJob;
  readonly pending: PendingRelaunch;
  readonly replacementExists: boolean;
}

/** Claimed Jobs still present: their replacement is missing, or they were not deleted yet. */
export function unfinishedRelaunches(jobs: readonly CachedJob[]): UnfinishedRelaunch[] {
  const names = new Set(jobs.map((j) => j.metadata.name));
  return jobs
    .filter((j) => j.metadata.deletionTimestamp === undefined)
    .flatMap((old) => {
      const pending = readPending(old);
      return pending ? [{ old, pending, replacementExists: names.has(pending.name) }] : [];
    })
    .sort((a, b) => a.old.metadata.name.localeCompare(b.old.metadata.name));
}
