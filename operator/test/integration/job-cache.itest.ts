/**
 * The Job cache against the real API server: Jobs listed (a page at a time) and Jobs watched are
 * held trimmed, each exactly as trimJob reads the whole Job the API server serves (the typed list
 * hands over Dates where the watch hands over strings).
 */
import { isDeepStrictEqual } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { cachedJobs, trimmedJobInformer } from "../../src/adapters/job-cache.js";
import { ANNOTATIONS, type CachedJob, type JobManifest, observeJob, trimJob } from "../../src/core/jobs.js";
import { createNamespace, deleteNamespace, eventually, kubeClients, queueManagerJob, unique } from "./platform.js";

const byName = (jobs: CachedJob[]) => [...jobs].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));

describe("the Job cache against a real API server", () => {
  const namespace = unique("job-cache");
  beforeAll(() => createNamespace(namespace));
  afterAll(() => deleteNamespace(namespace));

  it("holds listed and watched Jobs trimmed, as trimJob reads the Jobs the API server serves", async () => {
    const { kc, batch } = kubeClients();
    const create = (queueId: string, annotations?: Record<string, string>) => {
      const job = queueManagerJob(queueId, "loader-producer");
      return batch.createNamespacedJob({ namespace, body: { ...job, metadata: { ...job.metadata, annotations } } });
    };
    // Listed: three Jobs in pages of two.
    for (const q of ["q-a", "q-b", "q-c"]) await create(q);
    const skipped: unknown[] = [];
    const pages: (string | undefined)[] = [];
    const informer = trimmedJobInformer(
      `/apis/batch/v1/namespaces/${namespace}/jobs`,
      new k8s.Watch(kc),
      (token) => {
        pages.push(token);
        return batch.listNamespacedJob({ namespace, limit: 2, ...(token ? { _continue: token } : {}) });
      },
      (obj) => skipped.push(obj),
    );
    await informer.start();
    try {
      expect(pages).toHaveLength(2);
      expect(cachedJobs(informer, namespace)).toHaveLength(3);
      // Watched: one more, with a relaunch record and an annotation the operator does not read.
      await create("q-d", { [ANNOTATIONS.attempt]: "2", [ANNOTATIONS.reason]: "stuck: no event for 130s" });
      const served = async () => byName((await batch.listNamespacedJob({ namespace })).items.map((j) => trimJob(j as JobManifest)));
      // The Job controller goes on writing status (startTime): compare once both have caught up.
      const held = await eventually("the cache to hold every served Job, trimmed", async () => {
        const [want, got] = [await served(), byName(cachedJobs(informer, namespace))];
        return got.length === 4 && isDeepStrictEqual(got, want) ? got : undefined;
      });
      expect(held.find((j) => j.metadata.name === "q-d-loader-producer")?.metadata.annotations).toEqual({ [ANNOTATIONS.attempt]: "2" });
      expect(
        held.map((j) => observeJob(j)).every((j) => j.queue?.startsWith("q-") && j.target === "loader-producer" && j.createdAt > 0),
      ).toBe(true);
      expect(skipped).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
});
