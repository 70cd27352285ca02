/** In-memory stand-ins for the ports, for the controller's wiring tests. The real ones are tested against a real broker and API server. */
import { pino } from "pino";
import { type CachedJob, type JobManifest, type JobRef, trimJob } from "../src/core/jobs.js";
import type { Clock, CreateResult, EventSource, KubePort, RawBatch, SourceHealth, Timers } from "../src/ports.js";

/** Lets every promise chain that can go on without real I/O or real time run to its end. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A clock that moves only when told, with timers on it. `advance` only moves time; `elapse`
 * moves it to each timer due on the way, fires it, and lets what it started settle first.
 */
export class FakeClock implements Clock, Timers {
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => (this.timers = this.timers.filter((t) => t !== timer));
  }
  /** Timers not yet fired. */
  pending(): number {
    return this.timers.length;
  }
  /** Timers due at a time the clock was already moved past (by `advance` or `t`) fire at the current time. */
  async elapse(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = Math.max(this.t, end);
    await settle();
  }
}

/** Behaves like the API server for what the operator uses: resourceVersion preconditions, 409 on duplicate names, uid-checked deletes. */
export class FakeKube implements KubePort {
  readonly store = new Map<string, JobManifest>();
  readonly events: { job: string; type: string; reason: string; message: string }[] = [];
  private version = 1;
  /** Makes the next createJob fail once, to simulate a crash between claim and create. */
  failNextCreate = false;
  /** Errors the next createJob calls throw, in order (an API server refusing, or failing). */
  readonly createErrors: Error[] = [];
  createCalls = 0;
  /** Errors the next deleteJob calls throw, in order. */
  readonly deleteErrors: Error[] = [];

  /** The fake API server's clock minus the operator's: what it stamps, and what serverClockOffset reports. */
  serverSkewMs = 0;

  /**
   * `clock` stamps the Jobs this fake API server creates (shifted by serverSkewMs). `cache`: what
   * jobs() lists, as the operator's informer keeps it: "trimmed" (trimJob, as the operator runs),
   * or "whole", each Job's whole manifest with trimJob's reading beside it, as the cache kept
   * Jobs before it was trimmed.
   */
  constructor(
    private readonly clock: Clock,
    private readonly cache: "trimmed" | "whole" = "trimmed",
  ) {}

  serverClockOffset(): number {
    return this.serverSkewMs;
  }

  put(job: JobManifest): void {
    const copy = structuredClone(job);
    copy.metadata.resourceVersion = String(++this.version);
    copy.metadata.uid ??= `uid-${copy.metadata.name}-${this.version}`;
    copy.metadata.creationTimestamp ??= new Date().toISOString();
    this.store.set(copy.metadata.name, copy);
  }
  jobs(): CachedJob[] {
    return [...this.store.values()].map((j) =>
      this.cache === "trimmed"
        ? trimJob(structuredClone(j))
        : { ...structuredClone(j), ...trimJob(j), metadata: structuredClone(j.metadata) },
    );
  }
  async readJob(name: string): Promise<JobManifest | undefined> {
    const job = this.store.get(name);
    return job && structuredClone(job);
  }
  async annotateIfUnchanged(name: string, resourceVersion: string, annotations: Record<string, string>): Promise<boolean> {
    const job = this.store.get(name);
    if (!job || job.metadata.resourceVersion !== resourceVersion) return false;
    job.metadata.annotations = { ...job.metadata.annotations, ...annotations };
    job.metadata.resourceVersion = String(++this.version);
    return true;
  }
  async createJob(job: JobManifest): Promise<CreateResult> {
    this.createCalls += 1;
    const error = this.createErrors.shift();
    if (error) throw error;
    if (this.failNextCreate) {
      this.failNextCreate = false;
      throw new Error("connection reset");
    }
    if (this.store.has(job.metadata.name)) return "exists";
    this.put({ ...job, metadata: { ...job.metadata, creationTimestamp: new Date(this.clock.now() + this.serverSkewMs).toISOString() } });
    return "created";
  }
  async deleteJob(name: string, uid: string): Promise<void> {
    const error = this.deleteErrors.shift();
    if (error) throw error;
    if (this.store.get(name)?.metadata.uid === uid) this.store.delete(name);
  }
  async recordEvent(job: JobRef, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    this.events.push({ job: job.metadata.name, type, reason, message });
  }
}

export class FakeSource implements EventSource {
  handler: ((batch: RawBatch) => Promise<void>) | undefined;
  healthy: SourceHealth = { connected: true, lag: 0, lastFetchAt: 0, lastErrorAt: 0, lastJoinAt: 0 };
  private offset = 0;
  constructor(private readonly clock: Clock) {}
  async start(onBatch: (batch: RawBatch) => Promise<void>): Promise<void> {
    this.handler = onBatch;
  }
  async stop(): Promise<void> {
    this.handler = undefined;
  }
  health(): SourceHealth {
    return { ...this.healthy, lastFetchAt: this.clock.now() };
  }
  /** Delivers one message as a batch of its own; resolves once it is applied. */
  async send(body: unknown): Promise<void> {
    const value = Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
    const offset = this.offset++;
    await this.handler?.({ partition: offset % 3, messages: [{ value, offset: String(offset) }] });
  }
}

export const silentLog = pino({ level: "silent" });
