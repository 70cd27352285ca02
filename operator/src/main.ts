/**
 * Entry point, wiring only. Reads settings (exits 2 with every bad variable named), serves probes
 * and metrics, elects a leader through a Lease, and on the leader the Manager runs intake and the
 * decision loop. SIGTERM: finish the round in progress, stop fetching, commit what was applied,
 * disconnect, release the Lease, exit 0. Anything fatal: stop acting at once, exit 1.
 */
import { hostname } from "node:os";
import type * as k8s from "@kubernetes/client-node";
import { pino } from "pino";
import { KafkajsSource } from "./adapters/kafka-source.js";
import { KubeJobs, connectToKubernetes } from "./adapters/kube.js";
import { LeaseElector, kubeLeaseStore } from "./adapters/leader.js";
import { Controller } from "./controller.js";
import { ThreadIntake } from "./intake.js";
import { Manager } from "./manager.js";
import { createMetrics } from "./metrics.js";
import { systemClock } from "./ports.js";
import { startServer } from "./server.js";
import { SettingsError, loadSettings } from "./settings.js";

const COMPONENT = "streamforge-self-healing-operator";

async function main(): Promise<void> {
  let settings;
  try {
    settings = loadSettings(process.env, hostname());
  } catch (err) {
    if (err instanceof SettingsError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = pino({ level: settings.LOG_LEVEL, base: { component: COMPONENT, identity: settings.identity } });
  const metrics = createMetrics();
  const clock = systemClock;
  /** Set by the first fatal error: the rest only wait for the exit. */
  let dying = false;
  let kc: k8s.KubeConfig;
  try {
    kc = await connectToKubernetes(settings.WATCH_NAMESPACE);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }

  const kube = new KubeJobs(
    kc,
    settings.WATCH_NAMESPACE,
    COMPONENT,
    settings.identity,
    clock,
    (err, retryInMs) => log.warn({ err, retryInMs: Math.round(retryInMs) }, "Job watch failed; restarting it after a backoff"),
    (obj) =>
      log.warn({ name: (obj as { metadata?: { name?: unknown } } | null)?.metadata?.name }, "Skipped an unreadable Job from the watch"),
  );
  const source = new KafkajsSource(
    {
      brokers: settings.KAFKA_BROKERS,
      topic: settings.KAFKA_TOPIC,
      groupId: settings.KAFKA_GROUP_ID,
      clientId: settings.KAFKA_CLIENT_ID,
      tls: settings.KAFKA_TLS,
      fromBeginning: settings.KAFKA_FROM_BEGINNING,
      ...(settings.KAFKA_CA_PATH ? { caPath: settings.KAFKA_CA_PATH } : {}),
      ...(settings.KAFKA_SASL_MECHANISM !== "none"
        ? { sasl: { mechanism: settings.KAFKA_SASL_MECHANISM, username: settings.KAFKA_USERNAME!, password: settings.KAFKA_PASSWORD! } }
        : {}),
    },
    clock,
    log,
    (err) => fatal(err, "Event intake cannot go on"),
  );
  const intake = new ThreadIntake(
    {
      parseLimits: { maxBytes: settings.KAFKA_MAX_MESSAGE_BYTES, maxFutureSkewMs: 60_000 },
      maxEventAgeMs: settings.policy.maxEventAgeMs,
      retentionMs: settings.policy.signalRetentionMs,
    },
    (err) => fatal(err, "The intake thread failed"),
  );
  const manager = new Manager(
    kube,
    (gated) =>
      new Controller(source, intake, gated, clock, metrics, log, {
        policy: settings.policy,
        dryRun: settings.DRY_RUN,
        maxLag: settings.KAFKA_MAX_LAG,
        staleAfterMs: settings.KAFKA_STALE_AFTER_MS,
      }),
    clock,
    metrics,
    log,
    { tickIntervalMs: settings.TICK_INTERVAL_MS, maxFailedRounds: settings.MAX_FAILED_ROUNDS },
    fatal,
  );
  const elector = new LeaseElector(kubeLeaseStore(kc, settings.leaseNamespace, settings.LEASE_NAME), settings.identity, clock, {
    onStartedLeading: () => manager.startLeading(),
    // As controller-runtime does: a replica that lost the Lease stops acting and exits, to restart as a follower.
    onStoppedLeading: () => manager.stopLeading(),
    onError: (err) => log.warn({ err }, "Lease renewal failed"),
    onTerminal: (err) => fatal(err, `Cannot hold the Lease in ${settings.leaseNamespace} (${err.status}): ${err.message}`),
  });

  let shuttingDown = false;
  const probes = {
    live: () => shuttingDown || manager.live(),
    ready: () => kube.ready() && manager.ready(),
  };
  const health = await startServer(settings.BIND_ADDRESS, settings.HEALTH_PORT, { probes });
  const metricsServer = await startServer(settings.BIND_ADDRESS, settings.METRICS_PORT, { registry: metrics.registry });
  await kube.start();
  elector.start();
  log.info({ namespace: settings.WATCH_NAMESPACE, topic: settings.KAFKA_TOPIC, dryRun: settings.DRY_RUN }, "Started the operator");

  async function shutdown(signal: string): Promise<void> {
    if (shuttingDown || dying) return;
    shuttingDown = true;
    log.info({ signal }, "Shutting down");
    await manager.stop();
    await source.stop().catch((err: unknown) => log.warn({ err }, "Consumer disconnect failed"));
    await intake.close();
    await elector.stop();
    await kube.stop();
    health.close();
    metricsServer.close();
    process.exit(0);
  }

  function fatal(err: unknown, message: string): void {
    // One way out, however many parts report the same failure.
    if (dying) return;
    dying = true;
    // No write is sent from here on; the Lease is released (if still held) for the next leader.
    manager.halt();
    log.fatal({ err }, message);
    void Promise.allSettled([source.stop(), elector.stop()]).finally(() => process.exit(1));
  }

  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`Operator failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
