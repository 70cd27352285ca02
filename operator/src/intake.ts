/**
 * Where intake's fold runs. Parsing JSON costs more than kafkajs's own work per message, so
 * on the consumer's thread it would halve the rate the operator can read (`npm run bench`).
 * ThreadIntake runs the fold on a worker thread: the consumer hands over each batch as one
 * transferred buffer and goes on fetching; the batch's offsets are committed once the worker
 * says it was applied. InlineIntake runs the same fold in place, for tests with a fake clock.
 */
import { Worker } from "node:worker_threads";
import { type FoldOptions, type IntakeReport, type PackedBatch, SignalFold, packBatch } from "./core/intake.js";
import type { RawBatch } from "./ports.js";

export interface Intake {
  /** Folds a batch into state, batches in the order given; resolves once it is applied (its offsets may then be committed). */
  apply(batch: RawBatch, receivedAt: number): Promise<void>;
  /** What changed since the previous report. */
  report(now: number): Promise<IntakeReport>;
  close(): Promise<void>;
}

export class InlineIntake implements Intake {
  private readonly fold: SignalFold;
  constructor(options: FoldOptions) {
    this.fold = new SignalFold(options);
  }
  apply(batch: RawBatch, receivedAt: number): Promise<void> {
    // Packed as for the thread, so tests run the same path.
    this.fold.applyBatch(packBatch(batch, receivedAt));
    return Promise.resolve();
  }
  report(now: number): Promise<IntakeReport> {
    return Promise.resolve(this.fold.report(now));
  }
  async close(): Promise<void> {}
}

type WorkerRequest = { readonly type: "apply"; readonly batch: PackedBatch } | { readonly type: "report"; readonly now: number };
export type ToWorker = WorkerRequest & { readonly id: number };
export type FromWorker = { readonly id: number; readonly report?: IntakeReport };

export class ThreadIntake implements Intake {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (r: FromWorker) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private failure: Error | undefined;

  /**
   * `onFailure` is told once if the worker dies: state is then lost, and the process should
   * exit so that a fresh start re-reads everything not yet committed.
   */
  constructor(options: FoldOptions, onFailure: (err: Error) => void, script: URL = new URL("./intake-worker.js", import.meta.url)) {
    this.worker = new Worker(script, { workerData: options, name: "intake" });
    this.worker.on("message", (message: FromWorker) => {
      this.waiting.get(message.id)?.resolve(message);
      this.waiting.delete(message.id);
    });
    const fail = (err: Error) => {
      if (this.failure) return;
      this.failure = err;
      for (const { reject } of this.waiting.values()) reject(err);
      this.waiting.clear();
      onFailure(err);
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`the intake thread exited with code ${code}`)));
  }

  private call(message: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  async apply(batch: RawBatch, receivedAt: number): Promise<void> {
    const packed = packBatch(batch, receivedAt);
    await this.call({ type: "apply", batch: packed }, [
      packed.bytes.buffer as ArrayBuffer,
      packed.lengths.buffer as ArrayBuffer,
      packed.offsets.buffer as ArrayBuffer,
    ]);
  }

  async report(now: number): Promise<IntakeReport> {
    return (await this.call({ type: "report", now })).report!;
  }

  async close(): Promise<void> {
    // Closing on purpose is not a failure.
    this.failure ??= new Error("the intake thread was closed");
    await this.worker.terminate();
  }
}
