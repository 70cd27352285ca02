/**
 * Where intake's fold runs. Parsing JSON costs more than kafkajs's own work per message, so
 * on the consumer's thread it would halve the rate the operator can read (`npm run bench`).
 * ThreadIntake runs the fold on a worker thread: the consumer hands over each batch as one
 * transferred buffer and goes on fetching; the batch's offsets are committed once the worker
 * says it was applied. InlineIntake runs the same fold in place, for tests with a fake clock.
 */
import { Worker } from "node:worker_threads";
import { type FoldOptions, type IntakeReport, type PackedBatch, SignalFold, packBatch } from "./core/signal-fold.js";
import type { RawBatch } from "./ports.js";

export interface Intake {
  /**
   * Folds a batch into state, batches in the order given; resolves once it is applied (its offsets may then be committed).
   * `clusterOffsetMs`: the cluster's clock minus ours, which dates the events' stamps in our time.
   */
  apply(batch: RawBatch, receivedAt: number, clusterOffsetMs?: number): Promise<void>;
  /** What changed since the previous report; first drops `forget` (queues the controller found stale and unused) if they are still stale. */
  report(now: number, forget: readonly string[]): Promise<IntakeReport>;
  close(): Promise<void>;
}

export class InlineIntake implements Intake {
  private readonly fold: SignalFold;
  constructor(options: FoldOptions) {
    this.fold = new SignalFold(options);
  }
  apply(batch: RawBatch, receivedAt: number, clusterOffsetMs = 0): Promise<void> {
    // Packed as for the thread, so tests run the same path.
    this.fold.applyBatch(packBatch(batch, receivedAt, clusterOffsetMs));
    return Promise.resolve();
  }
  report(now: number, forget: readonly string[]): Promise<IntakeReport> {
    this.fold.forget(forget, now);
    return Promise.resolve(this.fold.report());
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

type WorkerRequest =
  | { readonly type: "apply"; readonly batch: PackedBatch }
  | { readonly type: "report"; readonly now: number; readonly forget: readonly string[] };
export type ToWorker = WorkerRequest & { readonly id: number };
export type FromWorker = { readonly id: number; readonly report?: IntakeReport };

export class ThreadIntake implements Intake {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (r: FromWorker) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private failure: Error | undefined;
  private closing = false;

  /**
   * `onFailure` is told once if the thread dies or a batch cannot be handed to it: state then
   * has a gap, and the process should exit so that a fresh start re-reads what was not committed.
   */
  constructor(
    options: FoldOptions,
    private readonly onFailure: (err: Error) => void,
    script: URL = new URL("./intake-thread.js", import.meta.url),
  ) {
    this.worker = new Worker(script, { workerData: options, name: "intake" });
    this.worker.on("message", (message: FromWorker) => {
      this.waiting.get(message.id)?.resolve(message);
      this.waiting.delete(message.id);
    });
    this.worker.on("messageerror", (err) => this.fail(err));
    this.worker.on("error", (err) => this.fail(err));
    this.worker.on("exit", (code) => this.fail(new Error(`the intake thread exited with code ${code}`)));
  }

  private fail(cause: unknown): void {
    if (this.failure) return;
    const err = cause instanceof Error ? cause : new Error(String(cause));
    this.failure = err;
    for (const { reject } of this.waiting.values()) reject(err);
    this.waiting.clear();
    // Closing on purpose is not a failure to report.
    if (!this.closing) this.onFailure(err);
  }

  private call(message: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      try {
        this.worker.postMessage({ ...message, id }, transfer);
      } catch (err) {
        this.fail(err);
      }
    });
  }

  async apply(batch: RawBatch, receivedAt: number, clusterOffsetMs = 0): Promise<void> {
    let packed: PackedBatch;
    try {
      packed = packBatch(batch, receivedAt, clusterOffsetMs);
    } catch (err) {
      this.fail(err);
      throw err;
    }
    await this.call({ type: "apply", batch: packed }, [
      packed.bytes.buffer as ArrayBuffer,
      packed.lengths.buffer as ArrayBuffer,
      packed.offsets.buffer as ArrayBuffer,
    ]);
  }

  async report(now: number, forget: readonly string[]): Promise<IntakeReport> {
    return (await this.call({ type: "report", now, forget })).report!;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.fail(new Error("the intake thread was closed"));
    await this.worker.terminate();
  }
}
