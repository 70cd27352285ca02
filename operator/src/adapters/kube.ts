/** KubePort on @kubernetes/client-node: a Job informer for one namespace and the few writes the operator makes. */
import * as k8s from "@kubernetes/client-node";
import type { CachedJob, JobManifest, JobRef } from "../core/jobs.js";
import { ApiError, type Clock, type CreateResult, type KubePort, type Timers } from "../ports.js";
import { cachedJobs, LIST_PAGE_SIZE, trimmedJobInformer } from "./job-cache.js";
import { WatchRestarts } from "./watch-restarts.js";

const isStatus = (err: unknown, code: number): boolean => err instanceof k8s.ApiException && err.code === code;

/** The error as the controller classifies it: the API server's status and its message. */
export function apiError(err: unknown): ApiError {
  if (err instanceof k8s.ApiException) {
    // client-node hands the Status over as a JSON text or as an object.
    let body: unknown = err.body;
    if (typeof body === "string")
      try {
        body = JSON.parse(body);
      } catch {
        // not JSON: the text is the message
      }
    const stated = typeof body === "object" && body !== null && "message" in body ? body.message : body;
    const message = typeof stated === "string" && stated !== "" ? stated : err.message;
    return new ApiError(err.code, message);
  }
  return new ApiError(undefined, err instanceof Error ? err.message : String(err));
}

const mergePatch = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);

/**
 * Request options that abort the request when `signal` does: how a deadline reaches the HTTP
 * request itself, as client-go passes its context to every call.
 */
export function abortWith(signal: AbortSignal | undefined): k8s.ConfigurationOptions | undefined {
  if (!signal) return undefined;
  return {
    middleware: [
      {
        pre: (context) => {
          context.setSignal(signal);
          return new k8s.Observable(Promise.resolve(context));
        },
        post: (response) => new k8s.Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: "append",
  };
}

/**
 * Loads the Kubernetes client's configuration, and checks before anything starts that it can
 * list Jobs in the watched namespace: with no kubeconfig, an unreachable API server or missing
 * rights the operator would otherwise say it started and then retry forever. Throws an Error
 * that says which.
 */
export async function connectToKubernetes(namespace: string, env: NodeJS.ProcessEnv = process.env): Promise<k8s.KubeConfig> {
  const kc = new k8s.KubeConfig();
  const inCluster = Boolean(env.KUBERNETES_SERVICE_HOST);
  try {
    kc.loadFromDefault();
  } catch (err) {
    throw new Error(
      `Cannot read the Kubernetes configuration from KUBECONFIG (${env.KUBECONFIG ?? "~/.kube/config"}): ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const server = kc.getCurrentCluster()?.server;
  // client-node falls back to localhost:8080 when it finds no configuration at all.
  if (!env.KUBECONFIG && !inCluster && (!server || server === "http://localhost:8080"))
    throw new Error("No Kubernetes configuration: not in a cluster, KUBECONFIG is unset and ~/.kube/config has none. Set KUBECONFIG.");
  const from = inCluster && !env.KUBECONFIG ? "the in-cluster ServiceAccount" : `KUBECONFIG (${env.KUBECONFIG ?? "~/.kube/config"})`;
  try {
    await kc.makeApiClient(k8s.BatchV1Api).listNamespacedJob({ namespace, limit: 1 });
  } catch (err) {
    const e = apiError(err);
    const why =
      e.status === 401 || e.status === 403
        ? `its credentials may not list Jobs in ${namespace} (${e.status}): ${e.message}`
        : e.status === 404
          ? `namespace ${namespace} does not exist`
          : `the API server did not answer (${e.status ?? e.message})`;
    throw new Error(`Cannot watch Jobs at ${server ?? "?"} with ${from}: ${why}`, { cause: err });
  }
  return kc;
}

/** The Job `name` in `namespace` as the API server holds it now; undefined when there is none. */
export async function readJob(batch: k8s.BatchV1Api, namespace: string, name: string): Promise<JobManifest | undefined> {
  try {
    return (await batch.readNamespacedJob({ name, namespace })) as unknown as JobManifest;
  } catch (err) {
    if (isStatus(err, 404)) return undefined;
    throw apiError(err);
  }
}

export class KubeJobs implements KubePort {
  private readonly batch: k8s.BatchV1Api;
  private readonly core: k8s.CoreV1Api;
  /** Holds each Job trimmed (job-cache.ts): about 0.4 KB a Job instead of 9 KB. */
  private readonly informer: ReturnType<typeof trimmedJobInformer>;
  private synced = false;
  /** The last few measurements of the API server's clock minus ours; their median is used. */
  private readonly offsets: number[] = [];
  /** Their median, or 0 while it is within the estimate's error. */
  private appliedOffset = 0;
  private offsetTimer: NodeJS.Timeout | undefined;
  private readonly restarts: WatchRestarts;

  constructor(
    kc: k8s.KubeConfig,
    readonly namespace: string,
    private readonly component: string,
    private readonly identity: string,
    clock: Clock & Timers,
    /** The Job watch stopped on `err` and starts again in `retryInMs`. */
    onWatchError: (err: unknown, retryInMs: number) => void,
    /** An object from the list or watch that is not a readable Job was skipped. */
    onSkipped: (obj: unknown) => void = () => {},
  ) {
    this.batch = kc.makeApiClient(k8s.BatchV1Api);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.informer = trimmedJobInformer(
      `/apis/batch/v1/namespaces/${namespace}/jobs`,
      new k8s.Watch(kc),
      (token) => this.batch.listNamespacedJob({ namespace, limit: LIST_PAGE_SIZE, ...(token ? { _continue: token } : {}) }),
      onSkipped,
    );
    // The informer stops on error; it is started again after client-go's reflector's backoff.
    this.restarts = new WatchRestarts(() => this.informer.start(), clock, onWatchError);
    this.informer.on("connect", () => (this.synced = true));
    this.informer.on("error", (err) => {
      this.synced = false;
      this.restarts.failed(err);
    });
  }

  async start(): Promise<void> {
    await this.measureClock();
    this.offsetTimer = setInterval(() => void this.measureClock(), 30_000);
    await this.informer.start();
    this.synced = true;
  }

  async stop(): Promise<void> {
    if (this.offsetTimer) clearInterval(this.offsetTimer);
    this.restarts.stop();
    await this.informer.stop();
  }

  /** Read for every fetched batch and every tick: the median is worked out once per measurement. */
  serverClockOffset(): number {
    return this.appliedOffset;
  }

  /**
   * The API server's clock against ours, from the Date header of a cheap request: that header has
   * whole seconds, so the estimate is within about a second, which is far below any threshold.
   */
  private async measureClock(): Promise<void> {
    try {
      const sent = Date.now();
      const response = await this.batch.listNamespacedJobWithHttpInfo({ namespace: this.namespace, limit: 1 });
      const received = Date.now();
      const date = Date.parse(response.headers["date"] ?? "");
      if (Number.isNaN(date)) return;
      // The server's second began at most 1 s before its stamp: take the middle.
      this.offsets.push(date + 500 - (sent + received) / 2);
      if (this.offsets.length > 5) this.offsets.shift();
      const sorted = [...this.offsets].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      // The estimate is only good to about a second (the Date header's resolution): below two
      // seconds it is noise, and shifting Job times by noise could date a Job after its first event.
      this.appliedOffset = Math.abs(median) < 2000 ? 0 : median;
    } catch {
      // Kept as it was; the informer reports a lost API server.
    }
  }

  ready(): boolean {
    return this.synced;
  }

  jobs(): CachedJob[] {
    return cachedJobs(this.informer, this.namespace);
  }

  readJob(name: string): Promise<JobManifest | undefined> {
    return readJob(this.batch, this.namespace, name);
  }

  async annotateIfUnchanged(name: string, resourceVersion: string, annotations: Record<string, string>): Promise<boolean> {
    try {
      // resourceVersion in a merge patch is a precondition: 409 if the Job changed since it was read.
      await this.batch.patchNamespacedJob(
        { name, namespace: this.namespace, body: { metadata: { resourceVersion, annotations } } },
        mergePatch,
      );
      return true;
    } catch (err) {
      if (isStatus(err, 409) || isStatus(err, 404)) return false;
      throw apiError(err);
    }
  }

  async createJob(job: JobManifest): Promise<CreateResult> {
    try {
      await this.batch.createNamespacedJob({ namespace: this.namespace, body: job as unknown as k8s.V1Job });
      return "created";
    } catch (err) {
      if (isStatus(err, 409)) return "exists";
      throw apiError(err);
    }
  }

  async deleteJob(name: string, uid: string): Promise<void> {
    try {
      await this.batch.deleteNamespacedJob({
        name,
        namespace: this.namespace,
        propagationPolicy: "Background",
        body: { preconditions: { uid } },
      });
    } catch (err) {
      // Gone already, or a different Job now has this name: either way not ours to delete.
      if (isStatus(err, 404) || isStatus(err, 409)) return;
      throw apiError(err);
    }
  }

  async recordEvent(job: JobRef, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const now = new Date();
    await this.core.createNamespacedEvent({
      namespace: this.namespace,
      body: {
        metadata: { generateName: `${job.metadata.name}.`, namespace: this.namespace },
        involvedObject: {
          apiVersion: "batch/v1",
          kind: "Job",
          name: job.metadata.name,
          namespace: this.namespace,
          ...(job.metadata.uid ? { uid: job.metadata.uid } : {}),
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.identity,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }
}
