/**
 * The Job cache keeps each Job trimmed (trimJob at the informer's edge). These pin that the
 * trimmed Job keeps everything the operator reads: over varied Jobs the operator decides and
 * acts exactly as it did when the cache kept whole Jobs, and builds replacements from the whole
 * Job read from the API server.
 */
import { Controller } from "../src/controller.js";
import { type WatchLike, cachedJobs, trimmedJobInformer } from "../src/adapters/job-cache.js";
import { DEFAULT_PARSE_LIMITS } from "../src/core/events.js";
import { ANNOTATIONS, type JobManifest, observeJob, originalName, trimJob } from "../src/core/jobs.js";
import { DEFAULT_POLICY } from "../src/core/policy.js";
import { replacementJob } from "../src/core/relaunch.js";
import { pendingAnnotations } from "../src/core/resume.js";
import { InlineIntake } from "../src/intake.js";
import { createMetrics } from "../src/metrics.js";
import { FakeClock, FakeKube, FakeSource, settle, silentLog } from "./fakes.js";
import { T0, documented, launchedJob, loading, s } from "./sim.js";

/** A Job with what the API server and kubectl add that the operator never reads. */
function asServed(job: JobManifest): JobManifest {
  job.metadata.managedFields = [{ manager: "kubectl", operation: "Update", fieldsV1: { "f:spec": { "f:template": {} } } }];
  job.metadata.annotations = {
    "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({ spec: job.spec }),
    ...job.metadata.annotations,
  };
  return job;
}

/** Varied Jobs: every way the operator reads a queue, a target, a phase, an opt-out and a relaunch record. */
function variedJobs(): JobManifest[] {
  const byLabels = launchedJob("labelled", "loader-ws", {
    annotations: {
      [ANNOTATIONS.attempt]: "1",
      [ANNOTATIONS.history]: String(Math.round(s(-600) / 1000)),
      [ANNOTATIONS.relaunchedAt]: String(s(-601)),
      [ANNOTATIONS.originalName]: "labelled-loader-ws",
      [ANNOTATIONS.reason]: `stuck: ${"x".repeat(900)}`,
      [ANNOTATIONS.relaunchedFrom]: "labelled-loader-ws",
    },
  });
  byLabels.metadata.name = "labelled-loader-ws-r1";
  byLabels.metadata.labels = { "streamforge.io/queue-id": "labelled", "streamforge.io/target": "loader-ws", team: "data" };

  const byName = launchedJob("by-name", "arango-connector");
  byName.spec!.template!.spec!.containers![0]!.env = [];

  const byProducer = launchedJob("producer", "gnn-trainer");
  byProducer.metadata.name = "custom-name";

  const sidecar = launchedJob("sidecar", "graph-builder");
  const [main] = sidecar.spec!.template!.spec!.containers!;
  sidecar.spec!.template!.spec!.containers = [{ name: "proxy", image: "envoy", env: [{ name: "LOG", value: "info" }] }, main!];

  const rich = launchedJob("rich", "visualizer");
  Object.assign(rich.spec!.template!.spec!, {
    volumes: [{ name: "ca", secret: { secretName: "kafka-ca" } }],
    tolerations: [{ key: "spot", operator: "Exists" }],
    serviceAccountName: "workers",
  });
  rich.spec!.template!.spec!.containers![0]!.resources = { limits: { memory: "512Mi" } };

  const templateOptOut = launchedJob("opted-template", "loader-producer");
  templateOptOut.spec!.template!.metadata = {
    ...templateOptOut.spec!.template!.metadata,
    annotations: { [ANNOTATIONS.selfHealing]: "disabled" },
  };
  const jobOptOut = launchedJob("opted-job", "loader-producer", { annotations: { [ANNOTATIONS.selfHealing]: "disabled" } });
  const chaos = launchedJob("chaos", "loader-producer");
  chaos.metadata.labels = { chaosUID: "2f1c" };

  const failed = launchedJob("failed", "loader-producer", { phase: "Failed" });
  const complete = launchedJob("complete", "loader-producer", { phase: "Complete" });
  const deleting = launchedJob("deleting", "loader-producer");
  deleting.metadata.deletionTimestamp = new Date(s(5)).toISOString();

  const spent = launchedJob("spent", "loader-producer", {
    annotations: { [ANNOTATIONS.history]: [s(-300), s(-200), s(-100)].map((t) => Math.round(t / 1000)).join(",") },
  });

  // A relaunch claimed by an operator that died before creating the replacement.
  const claimed = launchedJob("claimed", "loader-producer", {
    annotations: pendingAnnotations({
      name: "claimed-loader-producer-r1",
      reason: "stuck",
      detail: "no event for 130s",
      attempt: 1,
      history: [s(-5)],
      queueId: "claimed",
    }),
  });
  claimed.spec!.template!.spec!.containers![0]!.resources = { requests: { cpu: "250m" } };

  return [byLabels, byName, byProducer, sidecar, rich, templateOptOut, jobOptOut, chaos, failed, complete, deleting, spent, claimed].map(
    asServed,
  );
}

/** One run of the operator over `jobs`: events, then rounds over 5 minutes; the world it leaves. */
async function run(cache: "trimmed" | "whole", jobs: readonly JobManifest[]) {
  const clock = new FakeClock(T0);
  const kube = new FakeKube(clock, cache);
  for (const job of jobs) kube.put(job);
  const source = new FakeSource(clock);
  const intake = new InlineIntake({
    parseLimits: DEFAULT_PARSE_LIMITS,
    maxEventAgeMs: DEFAULT_POLICY.maxEventAgeMs,
    retentionMs: DEFAULT_POLICY.signalRetentionMs,
  });
  const policy = { ...DEFAULT_POLICY, massSilence: { minJobs: 1000, fraction: 1 } };
  const controller = new Controller(source, intake, kube, clock, createMetrics(), silentLog, {
    policy,
    dryRun: false,
    maxLag: 1000,
    staleAfterMs: 1e9,
  });
  await controller.startIntake();
  // Critical errors for some, signs of life for others, silence for the rest.
  for (const q of ["by-name", "sidecar", "spent", "producer", "rich"]) await source.send(documented(q, "error", s(10), { reason: "boom" }));
  const decisions = [];
  for (let t = 20; t <= 290; t += 30) {
    clock.t = s(t);
    if (t <= 100) await source.send(loading("labelled", clock.t));
    decisions.push(await controller.tick());
  }
  const store = Object.fromEntries([...kube.store].sort(([a], [b]) => a.localeCompare(b)));
  return { decisions, store, events: kube.events };
}

describe("the trimmed Job cache", () => {
  it("leads to the same decisions, writes and replacements as caching whole Jobs, over varied Jobs", async () => {
    const jobs = variedJobs();
    const whole = await run("whole", jobs);
    const trimmed = await run("trimmed", jobs);
    expect(trimmed.decisions).toEqual(whole.decisions);
    expect(trimmed.store).toEqual(whole.store);
    expect(trimmed.events).toEqual(whole.events);

    // Not equal by doing nothing: the runs relaunched (some Jobs twice), finished a claim, gave up
    // and left Jobs alone.
    const names = Object.keys(trimmed.store);
    expect(names).toEqual(
      expect.arrayContaining(["by-name-arango-connector-r1", "sidecar-graph-builder-r1", "custom-name-r1", "labelled-loader-ws-r2"]),
    );
    expect(names).toEqual(expect.arrayContaining(["claimed-loader-producer-r2", "failed-loader-producer-r2"]));
    expect(names).toEqual(expect.arrayContaining(["opted-template-loader-producer", "chaos-loader-producer", "deleting-loader-producer"]));
    expect(trimmed.store["spent-loader-producer"]?.metadata.annotations?.[ANNOTATIONS.gaveUp]).toBeDefined();
  });

  it("builds each replacement from the whole Job read from the API server, not from the cache", async () => {
    const jobs = variedJobs();
    const { store } = await run("trimmed", jobs);
    const replacements = Object.values(store).filter((j) => j.metadata.annotations?.[ANNOTATIONS.relaunchedFrom] !== undefined);
    expect(replacements.length).toBeGreaterThanOrEqual(7);
    for (const made of replacements) {
      const old = jobs.find((j) => originalName(j) === made.metadata.annotations?.[ANNOTATIONS.originalName])!;
      const expected = replacementJob({ old, attempt: 1, reason: "stuck", detail: "", history: [], queueId: undefined });
      expect(made.spec).toEqual(expected.spec);
    }
    // What the cache never had: the sidecar, the volumes, the resources.
    expect(store["rich-visualizer-r1"]?.spec?.template?.spec).toMatchObject({ volumes: [{ name: "ca" }], serviceAccountName: "workers" });
  });

  it("reads each Job at the edge as the operator reads it", () => {
    const jobs = variedJobs();
    // Started a minute after it was created (its pod waited for a node): silence counts from then.
    jobs[4]!.status!.startTime = new Date(s(60)).toISOString();
    const seen = Object.fromEntries(jobs.map((j) => [j.metadata.name, observeJob(trimJob(j))]));
    const active = { phase: "active", optedOut: false, deleting: false, gaveUp: false, supersededBy: undefined };
    expect(seen).toEqual({
      "labelled-loader-ws-r1": expect.objectContaining({
        ...active,
        queue: "labelled",
        target: "loader-ws",
        attempt: 1,
        relaunchHistory: [s(-600)],
        relaunchedAt: s(-601),
        createdAt: T0,
        startedAt: T0,
        uid: "uid-labelled-loader-ws",
        key: "stf/labelled-loader-ws-r1",
      }),
      "by-name-arango-connector": expect.objectContaining({ ...active, queue: "by-name", target: "arango-connector" }),
      "custom-name": expect.objectContaining({ ...active, queue: "producer", target: "gnn-trainer" }),
      "sidecar-graph-builder": expect.objectContaining({ ...active, queue: "sidecar", target: "graph-builder" }),
      "rich-visualizer": expect.objectContaining({ ...active, queue: "rich", target: "visualizer", startedAt: s(60) }),
      "opted-template-loader-producer": expect.objectContaining({ optedOut: true }),
      "opted-job-loader-producer": expect.objectContaining({ optedOut: true }),
      "chaos-loader-producer": expect.objectContaining({ optedOut: true }),
      "failed-loader-producer": expect.objectContaining({ phase: "failed" }),
      "complete-loader-producer": expect.objectContaining({ phase: "complete" }),
      "deleting-loader-producer": expect.objectContaining({ deleting: true }),
      "spent-loader-producer": expect.objectContaining({ relaunchHistory: [s(-300), s(-200), s(-100)] }),
      "claimed-loader-producer": expect.objectContaining({ supersededBy: "claimed-loader-producer-r1" }),
    });
  });

  it("keeps none of what the operator does not read", () => {
    const job = variedJobs()[0]!;
    const cached = trimJob(job);
    expect(cached).not.toHaveProperty("spec");
    expect(cached).not.toHaveProperty("status");
    expect(Object.keys(cached.metadata).sort()).toEqual(["annotations", "name", "namespace", "resourceVersion", "uid"]);
    expect(Object.keys(cached.metadata.annotations ?? {}).sort()).toEqual(
      [ANNOTATIONS.attempt, ANNOTATIONS.history, ANNOTATIONS.relaunchedAt].sort(),
    );
    expect(JSON.stringify(cached).length).toBeLessThan(JSON.stringify(job).length / 5);
    // The queue is kept only where the name does not say it.
    expect(cached.queue).toBe("labelled");
    expect(trimJob(variedJobs()[1]!).queue).toBeUndefined();
  });
});

/** A watch whose events the test sends. */
class FakeWatch implements WatchLike {
  send: ((phase: string, obj: unknown) => void) | undefined;
  async watch(_path: string, _query: Record<string, unknown>, callback: (phase: string, obj: unknown) => void) {
    this.send = callback;
    return { abort() {} };
  }
}

describe("the Job informer's edge", () => {
  const served = (q: string) => asServed(launchedJob(q, "loader-producer"));

  it("stores listed and watched Jobs trimmed, and skips objects that are not readable Jobs", async () => {
    const watch = new FakeWatch();
    const skipped: unknown[] = [];
    const pages = [
      { metadata: { resourceVersion: "7", _continue: "next" }, items: [served("a"), { kind: "Status" }] },
      { metadata: { resourceVersion: "7" }, items: [served("b")] },
    ];
    const tokens: (string | undefined)[] = [];
    const informer = trimmedJobInformer(
      "/apis/batch/v1/namespaces/stf/jobs",
      watch,
      async (token) => {
        tokens.push(token);
        return pages[tokens.length - 1]!;
      },
      (obj) => skipped.push(obj),
    );
    await informer.start();
    expect(tokens).toEqual([undefined, "next"]);
    expect(informer.latestResourceVersion()).toBe("7");

    watch.send!("ADDED", served("c"));
    watch.send!("ADDED", { metadata: {} });
    watch.send!("ADDED", null);
    // A shape the readers throw on (containers not a list): skipped, not thrown into the watch.
    watch.send!("MODIFIED", { metadata: { name: "odd", namespace: "stf" }, spec: { template: { spec: { containers: 5 } } } });
    watch.send!("DELETED", served("a"));
    watch.send!("BOOKMARK", { metadata: { resourceVersion: "9" } });
    await settle();

    const jobs = cachedJobs(informer, "stf");
    expect(jobs.map((j) => j.metadata.name).sort()).toEqual(["b-loader-producer", "c-loader-producer"]);
    expect(jobs).toEqual([trimJob(served("b")), trimJob(served("c"))]);
    expect(skipped).toHaveLength(4);
    expect(informer.latestResourceVersion()).toBe("9");
    await informer.stop();
  });
});
