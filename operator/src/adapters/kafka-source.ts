/**
 * EventSource on kafkajs: one consumer group member reading every partition of the topic
 * (producers send without keys, so a queue's events are spread over all of them).
 *
 * Offsets: kafkajs fetches on from the offset last resolved, and would commit that same offset.
 * To keep fetching while earlier batches are still being applied (on the intake thread), each
 * batch is resolved as soon as it is handed over, auto-commit is off, and a partition's offset
 * is committed only up to the last batch whose application has completed. After any rejoin,
 * kafkajs reads on from the committed offsets: what was in flight is read again (the fold does
 * not mind duplicates), never skipped. One exception, kafkajs's own: a committed offset the
 * topic no longer holds (the operator was away for longer than its retention) is reset by
 * kafkajs itself, which commits the reset: to the earliest retained offset with
 * `fromBeginning` (the operator's default), else to the latest.
 */
import { readFileSync } from "node:fs";
import { type Consumer, Kafka, type KafkaConfig, type LogEntry, logLevel, type SASLOptions } from "kafkajs";
import type { Logger } from "pino";
import type { Clock, EventSource, RawBatch, SourceHealth } from "../ports.js";

export interface KafkaSourceOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly groupId: string;
  readonly clientId: string;
  readonly tls: boolean;
  readonly caPath?: string;
  readonly sasl?: { readonly mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; readonly username: string; readonly password: string };
  /** Start a new group (or one whose offsets are out of range) at the earliest offset instead of the latest. */
  readonly fromBeginning?: boolean;
  /** How often applied offsets are committed (default 1 s). */
  readonly commitIntervalMs?: number;
}

/**
 * kafkajs's `ssl`. kafkajs 2.2.4 hands it to Node's `tls.connect` (src/network/socketFactory.js
 * L12-15), whose `ca` strings may each hold several PEM certificates (Node's tls.createSecureContext
 * docs), so the file at `caPath` may be a bundle (the Kafka CA copy's `ca-bundle.pem`): every
 * certificate in it is trusted.
 */
export function kafkaTls(tls: boolean, caPath: string | undefined): KafkaConfig["ssl"] {
  if (!tls) return false;
  return caPath ? { ca: [readFileSync(caPath, "utf8")] } : true;
}

/** Log lines of kafkajs that mean a broker could not be reached. */
const BROKER_TROUBLE = /connection error|ECONNREFUSED|ECONNRESET|ETIMEDOUT|closed connection|not available|failed to connect/i;

const LEVELS: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/** Batches handed over but not yet applied: bounds memory when applying falls behind fetching. */
const MAX_BATCHES_IN_FLIGHT = 4;

export class KafkajsSource implements EventSource {
  private readonly consumer: Consumer;
  private readonly log: Logger;
  private connected = false;
  private stopping = false;
  /** Applying a batch failed: nothing more is committed, the process is going down. */
  private failed = false;
  private running = false;
  /**
   * Bumped at every group join. kafkajs then fetches again from the committed offsets, so
   * batches handed over before the join no longer decide what may be committed.
   */
  private generation = 0;
  private lastFetchAt = 0;
  private lastErrorAt = 0;
  private lastJoinAt = 0;
  private readonly lagByPartition = new Map<number, number>();
  /** Per partition, the offset after the last applied batch of this generation (what a commit may record): only partitions fetched since the last join, so only ours. */
  private readonly applied = new Map<number, bigint>();
  private readonly committed = new Map<number, bigint>();
  private readonly inFlight = new Set<Promise<void>>();
  private commitTimer: NodeJS.Timeout | undefined;
  /** Commits run one after another. */
  private committing: Promise<void> = Promise.resolve();

  /** `onFatal`: intake cannot go on (a batch could not be applied, or the consumer crashed for good); the process should exit and start over from the committed offsets. */
  constructor(
    private readonly options: KafkaSourceOptions,
    private readonly clock: Clock,
    log: Logger,
    private readonly onFatal: (err: Error) => void,
  ) {
    this.log = log.child({ component: "event-source" });
    const kafkaLog = log.child({ component: "kafkajs" });
    const kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      ssl: kafkaTls(options.tls, options.caPath),
      ...(options.sasl ? { sasl: options.sasl as SASLOptions } : {}),
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log: entry }: LogEntry) => {
          const { message, ...rest } = entry;
          // kafkajs reports lost brokers only in its logs: remember when, for the health check.
          if (level === logLevel.ERROR && BROKER_TROUBLE.test(`${message} ${String(rest.error ?? "")}`))
            this.lastErrorAt = this.clock.now();
          kafkaLog[LEVELS[level] ?? "info"](rest, message);
        },
    });
    this.consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
    const { GROUP_JOIN, FETCH, DISCONNECT, CRASH, STOP } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, () => {
      this.connected = true;
      this.lastJoinAt = this.clock.now();
      // A rebalance may have moved partitions away, and every partition is read again from its
      // committed offset: lag and offsets seen before are no longer ours to report or commit.
      this.generation += 1;
      this.lagByPartition.clear();
      this.applied.clear();
      this.committed.clear();
    });
    this.consumer.on(FETCH, () => (this.lastFetchAt = this.clock.now()));
    for (const down of [DISCONNECT, CRASH, STOP]) this.consumer.on(down, () => (this.connected = false));
    this.consumer.on(CRASH, ({ payload }) => {
      // kafkajs restarts itself after retriable errors; after any other it stays down for good.
      if (!payload.restart && !this.stopping) this.onFatal(payload.error);
    });
  }

  async start(onBatch: (batch: RawBatch) => Promise<void>): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: this.options.fromBeginning ?? false });
    this.commitTimer = setInterval(() => void this.commit(), this.options.commitIntervalMs ?? 1000);
    this.commitTimer.unref();
    this.running = true;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (this.stopping || !payload.isRunning() || payload.isStale()) return;
        const { partition } = batch;
        const next = BigInt(batch.lastOffset()) + 1n;
        const generation = this.generation;
        const done: Promise<void> = onBatch({ partition, messages: batch.messages })
          .then(
            () => this.markApplied(generation, partition, next),
            (err: unknown) => {
              // State now has a gap: commit nothing more, and start over from the committed offsets.
              this.failed = true;
              this.log.error({ err, partition }, "Applying a batch failed; its offsets will not be committed");
              this.onFatal(err instanceof Error ? err : new Error(String(err)));
            },
          )
          .finally(() => this.inFlight.delete(done));
        this.inFlight.add(done);
        payload.resolveOffset(batch.lastOffset());
        this.lagByPartition.set(partition, Number(batch.offsetLag()));
        while (this.inFlight.size >= MAX_BATCHES_IN_FLIGHT) await Promise.race(this.inFlight);
        await payload.heartbeat();
      },
    });
  }

  private markApplied(generation: number, partition: number, next: bigint): void {
    if (generation !== this.generation) return;
    // The intake applies batches in the order given, so the newest is the furthest.
    if (next > (this.applied.get(partition) ?? -1n)) this.applied.set(partition, next);
  }

  /** Commits what was applied and not yet committed, after any commit still running. */
  private commit(): Promise<void> {
    this.committing = this.committing.then(async () => {
      if (this.failed) return;
      const generation = this.generation;
      const offsets = [...this.applied]
        .filter(([partition, offset]) => this.committed.get(partition) !== offset)
        .map(([partition, offset]) => ({ topic: this.options.topic, partition, offset: offset.toString() }));
      if (offsets.length === 0) return;
      try {
        await this.consumer.commitOffsets(offsets);
        if (generation === this.generation) for (const { partition, offset } of offsets) this.committed.set(partition, BigInt(offset));
      } catch (err) {
        // A rebalance or a broker away: the next round retries; until then a restart re-reads, never skips.
        this.log.warn({ err }, "Committing offsets failed; will retry");
      }
    });
    return this.committing;
  }

  /** Stops fetching, waits for handed-over batches to be applied, commits them, leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.commitTimer) clearInterval(this.commitTimer);
    // Without new batches taken, kafkajs would fetch the same offsets over and over until disconnected.
    if (this.running) this.consumer.pause([{ topic: this.options.topic }]);
    await Promise.all([...this.inFlight]);
    await this.commit();
    await this.consumer.disconnect();
    this.connected = false;
  }

  health(): SourceHealth {
    const lag = this.lagByPartition.size === 0 ? undefined : [...this.lagByPartition.values()].reduce((a, b) => a + b, 0);
    return {
      connected: this.connected && !this.failed,
      lag,
      lastFetchAt: this.lastFetchAt,
      lastErrorAt: this.lastErrorAt,
      lastJoinAt: this.lastJoinAt,
    };
  }
}
