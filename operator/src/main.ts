/**
 * Entry point. Reads settings (exits 2 with every bad variable named), serves probes and
 * metrics, elects a leader through a Lease, and on the leader runs intake and the decision
 * loop. SIGTERM: stop fetching, commit what was applied, disconnect, release the Lease, exit 0.
 */
import { hostname } from "node:os";
import type * as k8s from "@kubernetes/client-node";
import { pino } from "pino";
import { KafkajsSource } from "./adapters/kafka-source.js";
import { KubeJobs, connectToKubernetes } from "./adapters/kube.js";
import { LeaseElector, kubeLeaseStore } from "./adapters/leader.js";
import { Controller } from "./controller.js";
import { nextWakeIn } from "./core/decide.js";
import { ThreadIntake } from "./intake.js";
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

  const kube = new KubeJobs(kc, settings.WATCH_NAMESPACE, COMPONENT, settings.identity, (err) =>
    log.warn({ err }, "Job watch failed; restarting it"),
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
  const controller = new Controller(source, intake, kube, clock, metrics, log, {
    policy: settings.policy,
    dryRun: settings.DRY_RUN,
    maxLag: settings.KAFKA_MAX_LAG,
    staleAfterMs: settings.KAFKA_STALE_AFTER_MS,
  });

  let lastTickAt = clock.now();
  let ticking: NodeJS.Timeout | undefined;
  let shuttingDown = false;

  const elector = new LeaseElector(kubeLeaseStore(kc, settings.leaseNamespace, settings.LEASE_NAME), settings.identity, clock, {
    onStartedLeading: () => {
      metrics.leader.set(1);
      log.info({ lease: settings.LEASE_NAME }, "Acquired the Lease; starting intake and decisions");
      controller.startIntake().catch((err: unknown) => fatal(err, "Event intake failed to start"));
      const loop = async () => {
        let wait = settings.TICK_INTERVAL_MS;
        try {
          // Sleep until the next verdict is due, so detection does not wait for a whole interval.
          wait = nextWakeIn(await controller.tick(), clock.now(), settings.TICK_INTERVAL_MS);
        } catch (err) {
          log.error({ err }, "Decision round failed");
        }
        lastTickAt = clock.now();
        if (!shuttingDown) ticking = setTimeout(() => void loop(), wait);
      };
      void loop();
    },
    // As controller-runtime does: a replica that lost the Lease exits and restarts as a follower.
    onStoppedLeading: () => fatal(new Error("lost the Lease"), "Lost leadership"),
    onError: (err) => log.warn({ err }, "Lease renewal failed"),
    onTerminal: (err) => fatal(err, `Cannot hold the Lease in ${settings.leaseNamespace} (${err.status}): ${err.message}`),
  });

  const probes = {
    live: () => shuttingDown || !elector.isLeader() || clock.now() - lastTickAt < 10 * settings.TICK_INTERVAL_MS + 30_000,
    ready: () => kube.ready() && (!elector.isLeader() || controller.sourceHealthy()),
  };
  const health = await startServer(settings.BIND_ADDRESS, settings.HEALTH_PORT, { probes });
  const metricsServer = await startServer(settings.BIND_ADDRESS, settings.METRICS_PORT, { registry: metrics.registry });
  await kube.start();
  elector.start();
  log.info({ namespace: settings.WATCH_NAMESPACE, topic: settings.KAFKA_TOPIC, dryRun: settings.DRY_RUN }, "Started the operator");

  async function shutdown(signal: string): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, "Shutting down");
    if (ticking) clearTimeout(ticking);
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
    log.fatal({ err }, message);
    void source.stop().finally(() => process.exit(1));
  }

  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`Operator failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
