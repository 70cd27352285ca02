/**
 * EventSource on kafkajs: one consumer group member reading every partition of the topic
 * (producers send without keys, so a queue's events are spread over all of them). Offsets are
 * resolved only after the controller applied the message, and committed per batch.
 */
import { readFileSync } from "node:fs";
import { type Consumer, Kafka, type LogEntry, logLevel, type SASLOptions } from "kafkajs";
import type { Logger } from "pino";
import type { Clock, EventSource, RawMessage, SourceHealth } from "../ports.js";

export interface KafkaSourceOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly groupId: string;
  readonly clientId: string;
  readonly tls: boolean;
  readonly caPath?: string;
  readonly sasl?: { readonly mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; readonly username: string; readonly password: string };
  /** Start a new group at the earliest offset instead of the latest. */
  readonly fromBeginning?: boolean;
}

/** Log lines of kafkajs that mean a broker could not be reached. */
const BROKER_TROUBLE = /connection error|ECONNREFUSED|ECONNRESET|ETIMEDOUT|closed connection|not available|failed to connect/i;

const LEVELS: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

export class KafkajsSource implements EventSource {
  private readonly consumer: Consumer;
  private connected = false;
  private lastFetchAt = 0;
  private lastErrorAt = 0;
  private readonly lagByPartition = new Map<number, number>();

  constructor(
    private readonly options: KafkaSourceOptions,
    private readonly clock: Clock,
    log: Logger,
  ) {
    const kafkaLog = log.child({ component: "kafkajs" });
    const kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      ssl: options.tls ? (options.caPath ? { ca: [readFileSync(options.caPath, "utf8")] } : true) : false,
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
      // A rebalance may have moved partitions away: their lag is no longer ours to report.
      this.lagByPartition.clear();
    });
    this.consumer.on(FETCH, () => (this.lastFetchAt = this.clock.now()));
    for (const down of [DISCONNECT, CRASH, STOP]) this.consumer.on(down, () => (this.connected = false));
  }

  async start(onMessage: (message: RawMessage) => void): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: this.options.fromBeginning ?? false });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        for (const message of batch.messages) {
          if (!payload.isRunning() || payload.isStale()) break;
          onMessage({ value: message.value, partition: batch.partition, offset: message.offset });
          payload.resolveOffset(message.offset);
        }
        this.lagByPartition.set(batch.partition, Number(batch.offsetLag()));
        await payload.commitOffsetsIfNecessary();
        await payload.heartbeat();
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    this.connected = false;
  }

  health(): SourceHealth {
    const lag = this.lagByPartition.size === 0 ? undefined : [...this.lagByPartition.values()].reduce((a, b) => a + b, 0);
    return { connected: this.connected, lag, lastFetchAt: this.lastFetchAt, lastErrorAt: this.lastErrorAt };
  }
}
