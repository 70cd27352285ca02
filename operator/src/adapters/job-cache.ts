/**
 * The Job informer's cache, holding each Job as `trimJob` leaves it. client-node's ListWatch has
 * no transform hook, so the transform sits at its two inlets: every watch event's object and
 * every listed item are trimmed before ListWatch stores them, as client-go calls an informer's
 * TransformFunc "for each object which is about to be stored" (tools/cache/shared_informer.go,
 * SharedInformer.SetTransform, kubernetes/client-go@32ce75a7d6bc6960fd048d3d1e3b34185418d8c8).
 * The whole Job is never kept: a replacement is built from a fresh read (KubePort.readJob).
 */
import * as k8s from "@kubernetes/client-node";
import { type CachedJob, type JobManifest, trimJob } from "../core/jobs.js";

/** What ListWatch calls: `Watch.watch`'s signature. */
export interface WatchLike {
  watch(
    path: string,
    queryParams: Record<string, unknown>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<{ abort(): void }>;
}

/** One page of a Job list: client-node's V1JobList, or the same shape from a fake. */
export interface JobPage {
  readonly metadata?: { readonly resourceVersion?: string; readonly _continue?: string };
  readonly items: readonly unknown[];
}

/**
 * The trimmed Job, or undefined when the object is not a Job the readers can read (no name, or a
 * shape they throw on). Such an object is skipped, never stored, so it cannot stop the operator:
 * ListWatch's watch handler is async and reads `obj.metadata.namespace`, and Watch does not await
 * it, so an object without metadata would be an unhandled rejection, which ends a Node process
 * (@kubernetes/client-node 2.0.1, dist/cache.js ListWatch.watchHandler, dist/watch.js).
 */
export function trimmed(obj: unknown): CachedJob | undefined {
  const name = (obj as { metadata?: { name?: unknown } } | null)?.metadata?.name;
  if (typeof name !== "string" || name === "") return undefined;
  try {
    return trimJob(obj as JobManifest);
  } catch {
    return undefined;
  }
}

/** `watch` with each Job event's object trimmed; other events (ERROR, BOOKMARK) pass as they are. */
export function trimmingWatch(watch: WatchLike, onSkipped: (obj: unknown) => void): WatchLike {
  return {
    watch: (path, queryParams, callback, done) =>
      watch.watch(
        path,
        queryParams,
        (phase, obj) => {
          if (phase !== "ADDED" && phase !== "MODIFIED" && phase !== "DELETED") return callback(phase, obj);
          const job = trimmed(obj);
          if (job) callback(phase, job);
          else onSkipped(obj);
        },
        done,
      ),
  };
}

/** Page size of a list, as client-go's reflector lists through its pager (tools/pager/pager.go, defaultPageSize, same commit). */
export const LIST_PAGE_SIZE = 500;

/**
 * Lists all Jobs a page at a time, trimming each page before the next is read, so a relist of
 * 100k Jobs holds one page of whole Jobs at a time rather than all of them. The pages share one
 * snapshot (the continue token carries it); the watch starts from its resourceVersion.
 */
export async function listTrimmed(
  listPage: (continueToken: string | undefined) => Promise<JobPage>,
  onSkipped: (obj: unknown) => void,
): Promise<{ metadata: { resourceVersion: string }; items: CachedJob[] }> {
  const items: CachedJob[] = [];
  let token: string | undefined;
  let resourceVersion = "";
  do {
    const page = await listPage(token);
    for (const obj of page.items) {
      const job = trimmed(obj);
      if (job) items.push(job);
      else onSkipped(obj);
    }
    resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    token = page.metadata?._continue || undefined;
  } while (token);
  return { metadata: { resourceVersion }, items };
}

/** ListWatch's own type for what it stores; a CachedJob is one (name, namespace, resourceVersion). */
type Stored = k8s.KubernetesObject;

/** A ListWatch (started by the caller) whose store holds only trimmed Jobs. */
export function trimmedJobInformer(
  path: string,
  watch: WatchLike,
  listPage: (continueToken: string | undefined) => Promise<JobPage>,
  onSkipped: (obj: unknown) => void,
): k8s.ListWatch<Stored> {
  const list = async () => (await listTrimmed(listPage, onSkipped)) as unknown as k8s.KubernetesListObject<Stored>;
  return new k8s.ListWatch<Stored>(path, trimmingWatch(watch, onSkipped) as unknown as k8s.Watch, list, false);
}

/** The cache's Jobs of `namespace`. */
export function cachedJobs(informer: k8s.ListWatch<Stored>, namespace: string): CachedJob[] {
  return informer.list(namespace) as unknown as CachedJob[];
}
