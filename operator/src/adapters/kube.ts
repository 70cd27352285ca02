/** KubePort on @kubernetes/client-node: a Job informer for one namespace and the few writes the operator makes. */
import * as k8s from "@kubernetes/client-node";
import type { JobManifest } from "../core/jobs.js";
import { ApiError, type CreateResult, type KubePort } from "../ports.js";

const isStatus = (err: unknown, code: number): boolean => err instanceof k8s.ApiException && err.code === code;

/** The error as the controller classifies it: the API server's status and its message. */
function apiError(err: unknown): ApiError {
  if (err instanceof k8s.ApiException) {
    const body: unknown = err.body;
    const stated = typeof body === "object" && body !== null && "message" in body ? body.message : body;
    const message = typeof stated === "string" && stated !== "" ? stated : err.message;
    return new ApiError(err.code, message);
  }
  return new ApiError(undefined, err instanceof Error ? err.message : String(err));
}

const mergePatch = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);

export class KubeJobs implements KubePort {
  private readonly batch: k8s.BatchV1Api;
  private readonly core: k8s.CoreV1Api;
  private readonly informer: k8s.Informer<k8s.V1Job> & k8s.ObjectCache<k8s.V1Job>;
  private synced = false;

  constructor(
    kc: k8s.KubeConfig,
    readonly namespace: string,
    private readonly component: string,
    private readonly identity: string,
    onWatchError: (err: unknown) => void,
  ) {
    this.batch = kc.makeApiClient(k8s.BatchV1Api);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.informer = k8s.makeInformer(kc, `/apis/batch/v1/namespaces/${namespace}/jobs`, () => this.batch.listNamespacedJob({ namespace }));
    this.informer.on("connect", () => (this.synced = true));
    this.informer.on("error", (err) => {
      this.synced = false;
      onWatchError(err);
      // The informer stops on error; restart it after a pause, as client-go's reflector does.
      setTimeout(() => void this.informer.start().catch(onWatchError), 2000);
    });
  }

  async start(): Promise<void> {
    await this.informer.start();
    this.synced = true;
  }

  async stop(): Promise<void> {
    await this.informer.stop();
  }

  ready(): boolean {
    return this.synced;
  }

  jobs(): JobManifest[] {
    return this.informer.list(this.namespace) as unknown as JobManifest[];
  }

  async readJob(name: string): Promise<JobManifest | undefined> {
    try {
      return (await this.batch.readNamespacedJob({ name, namespace: this.namespace })) as unknown as JobManifest;
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw apiError(err);
    }
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

  async recordEvent(job: JobManifest, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
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
