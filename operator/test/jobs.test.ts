import { ANNOTATIONS, type JobManifest, observeJob as observeCached, queueKey, queueOf, targetOf, trimJob } from "../src/core/jobs.js";
import { notTheReplacement, replacementJob, replacementName } from "../src/core/relaunch.js";
import { launchedJob, s } from "./sim.js";

/** The operator reads a Job as its cache keeps it. */
const observeJob = (job: JobManifest) => observeCached(trimJob(job));

describe("correlation: which queue a Job runs", () => {
  it("prefers the streamforge.io/queue-id label", () => {
    const job = launchedJob("Q_1", "loader-producer");
    job.metadata.labels = { "streamforge.io/queue-id": "from-label" };
    expect(queueOf(job)).toBe("from-label");
  });

  it("falls back to the QUEUE_ID env var of the pod template", () => {
    expect(queueOf(launchedJob("Q_1", "loader-producer"))).toBe("q-1");
  });

  it("falls back to the <queue_id>-<target> name rule", () => {
    const job = launchedJob("wss-btcusdt-trades", "loader-ws");
    job.spec!.template!.spec!.containers![0]!.env = [];
    expect(queueOf(job)).toBe("wss-btcusdt-trades");
    expect(targetOf(job)).toBe("loader-ws");
  });

  it("keeps the original name's queue through relaunches", () => {
    const old = launchedJob("q9", "arango-connector");
    old.spec!.template!.spec!.containers![0]!.env = [];
    const next = replacementJob({ old, attempt: 1, reason: "stuck", detail: "d", history: [s(1)], queueId: undefined });
    expect(queueOf(next)).toBe("q9");
    expect(targetOf(next)).toBe("arango-connector");
  });

  it("normalises queue ids the way Job names are sanitised", () => {
    expect(queueKey("API_BTCUSDT.Trades 1m")).toBe("api-btcusdt-trades-1m");
  });

  it("reads the target from TELEMETRY_PRODUCER_ID", () => {
    const job = launchedJob("q", "gnn-trainer");
    job.metadata.name = "custom";
    expect(targetOf(job)).toBe("gnn-trainer");
  });

  it("reads phase, opt-out and relaunch history", () => {
    const job = launchedJob("q", "loader-producer", { phase: "Failed", annotations: { [ANNOTATIONS.history]: "100,200,junk" } });
    job.spec!.template!.metadata!.annotations = { [ANNOTATIONS.selfHealing]: "disabled" };
    expect(observeJob(job)).toMatchObject({
      phase: "failed",
      optedOut: true,
      relaunchHistory: [100_000, 200_000],
      attempt: 0,
      key: "stf/q-loader-producer",
    });
  });

  it("never manages a Litmus experiment's Job, even one whose name fits <queue_id>-<target>", () => {
    const plain = launchedJob("q", "loader-producer");
    expect(observeJob(plain).optedOut).toBe(false);
    const byUid = launchedJob("q", "loader-producer");
    byUid.metadata.labels = { chaosUID: "2f1c", name: "pod-delete" };
    expect(observeJob(byUid).optedOut).toBe(true);
    const byPartOf = launchedJob("q", "loader-producer");
    byPartOf.spec!.template!.metadata!.labels = { "app.kubernetes.io/part-of": "litmus" };
    expect(observeJob(byPartOf).optedOut).toBe(true);
  });
});

describe("replacementJob", () => {
  const old = launchedJob("q-1", "loader-producer");
  const next = replacementJob({ old, attempt: 1, reason: "stuck", detail: "no event for 121s", history: [s(-600), s(10)], queueId: "q-1" });

  it("drops what the API server owns or rejects", () => {
    expect(next.spec?.selector).toBeUndefined();
    expect(next.metadata.uid).toBeUndefined();
    expect(next.metadata.resourceVersion).toBeUndefined();
    expect(next.metadata.creationTimestamp).toBeUndefined();
    expect(next.status).toBeUndefined();
    expect(next.spec?.template?.metadata?.labels).toEqual({});
  });

  it("keeps the pod spec and its env, secret references included, so the task resumes", () => {
    expect(next.spec?.template?.spec).toEqual(old.spec?.template?.spec);
    expect(next.spec?.backoffLimit).toBe(4);
    expect(next.spec?.ttlSecondsAfterFinished).toBe(3600);
  });

  it("names it deterministically and records attempt, reason, predecessor and history", () => {
    expect(next.metadata.name).toBe("q-1-loader-producer-r1");
    expect(next.metadata.labels).toEqual({ "streamforge.io/queue-id": "q-1" });
    expect(next.metadata.annotations).toEqual({
      [ANNOTATIONS.attempt]: "1",
      [ANNOTATIONS.reason]: "stuck: no event for 121s",
      [ANNOTATIONS.relaunchedFrom]: "q-1-loader-producer",
      [ANNOTATIONS.originalName]: "q-1-loader-producer",
      [ANNOTATIONS.history]: `${Math.round(s(-600) / 1000)},${Math.round(s(10) / 1000)}`,
      [ANNOTATIONS.relaunchedAt]: String(s(10)),
    });
  });

  it("names the second relaunch after the original, not after the first replacement", () => {
    const third = replacementJob({ old: next, attempt: 2, reason: "stuck", detail: "d", history: [], queueId: "q-1" });
    expect(third.metadata.name).toBe("q-1-loader-producer-r2");
    expect(third.metadata.annotations?.[ANNOTATIONS.relaunchedFrom]).toBe("q-1-loader-producer-r1");
  });

  it("does not copy the superseded-by claim of its predecessor", () => {
    const claimed = structuredClone(old);
    claimed.metadata.annotations = { [ANNOTATIONS.supersededBy]: "x" };
    expect(
      replacementJob({ old: claimed, attempt: 1, reason: "stuck", detail: "d", history: [], queueId: "q-1" }).metadata.annotations?.[
        ANNOTATIONS.supersededBy
      ],
    ).toBeUndefined();
  });

  it("keeps names within 63 characters", () => {
    const long = launchedJob("q".repeat(60), "arango-connector");
    expect(replacementName(long, 12)).toHaveLength(63);
    expect(replacementName(long, 12).endsWith("-r12")).toBe(true);
  });

  it("does not label a queue id that is not a valid label value", () => {
    const r = replacementJob({ old, attempt: 1, reason: "stuck", detail: "d", history: [], queueId: "bad id/with slash" });
    expect(r.metadata.labels).toEqual({});
  });
});

describe("notTheReplacement: whether a Job holding the replacement's name is the replacement", () => {
  const old = launchedJob("q1", "loader-producer");
  const expected = replacementJob({ old, attempt: 1, reason: "stuck", detail: "d", history: [s(1)], queueId: "q1" });
  /** `job` as the API server returns it once created: a selector and the controller's labels of its own, and as the client's models hold it (unset fields undefined, dates as Date). */
  const stored = (job: JobManifest): JobManifest => {
    const copy = structuredClone(job) as any;
    const controller = {
      "batch.kubernetes.io/controller-uid": "uid-new",
      "batch.kubernetes.io/job-name": job.metadata.name,
      "controller-uid": "uid-new",
      "job-name": job.metadata.name,
    };
    copy.metadata.creationTimestamp = new Date(s(2));
    copy.metadata.uid = "uid-new";
    copy.spec.selector = { matchLabels: { "batch.kubernetes.io/controller-uid": "uid-new" } };
    copy.spec.template.metadata = { ...copy.spec.template.metadata, labels: { ...copy.spec.template.metadata?.labels, ...controller } };
    copy.spec.template.spec.containers[0].command = undefined;
    return copy;
  };

  it("an earlier try of the same relaunch is the replacement", () => {
    expect(notTheReplacement(stored(expected), expected)).toBeUndefined();
  });

  it.each<[string, (j: any) => void, string]>([
    [
      "another predecessor",
      (j) => (j.metadata.annotations[ANNOTATIONS.relaunchedFrom] = "ghost"),
      "metadata.annotations[streamforge.io/relaunched-from] differ",
    ],
    [
      "another attempt",
      (j) => (j.metadata.annotations[ANNOTATIONS.attempt] = "7"),
      "metadata.annotations[streamforge.io/relaunch-attempt] differ",
    ],
    [
      "another image",
      (j) => (j.spec.template.spec.containers[0].image = "ghcr.io/olehkondratow/streamforge-loader-producer:0.0.1"),
      "spec.template.spec.containers differ",
    ],
    ["another env value", (j) => (j.spec.template.spec.containers[0].env[0].value = "q2"), "spec.template.spec.containers differ"],
    ["a pod label of its own", (j) => (j.spec.template.metadata.labels.app = "queue-manager"), "spec.template.metadata.labels.app differ"],
    ["a label of its own", (j) => (j.metadata.labels.team = "miners"), "metadata.labels.team differ"],
    [
      "an owner",
      (j) => (j.metadata.ownerReferences = [{ apiVersion: "v1", kind: "ConfigMap", name: "x", uid: "u" }]),
      "metadata.ownerReferences differ",
    ],
  ])("a Job with %s is not", (_, edit, why) => {
    const squatter = stored(expected) as any;
    edit(squatter);
    expect(notTheReplacement(squatter, expected)).toBe(why);
  });
});
