/**
 * `node dist/relaunch-guard.js`: the relaunch guard, a validating admission webhook the API server
 * calls for each Job the operator's account creates in the watched namespace
 * (adapters/admission-review.ts, core/relaunch-review.ts). It runs under an account of its own
 * that may only read that namespace's Jobs, its certificate's Secret and its own webhook
 * configuration, so a stolen operator token cannot answer for it. It keeps its serving
 * certificate itself (adapters/serving-cert.ts): issued into its Secret when missing or near its
 * end, and trusted through its configuration's caBundle, checked every SYNC_INTERVAL_MS. Serves
 * HTTPS only (the API server calls webhooks over TLS): POST /validate, GET /healthz. Logs one
 * JSON line per verdict and per renewal. Exits 2 on bad settings, 1 when it cannot get a
 * certificate at start.
 */
import { createServer } from "node:https";
import * as k8s from "@kubernetes/client-node";
import { pino } from "pino";
import { z } from "zod";
import { type AdmissionReview, judge } from "./adapters/admission-review.js";
import { apiError, readJob } from "./adapters/kube.js";
import { currentServingCert, trustInConfiguration } from "./adapters/serving-cert.js";
import { relaunchGuardSettingSchemas } from "./contract.js";
import type { ServingCert } from "./core/serving-cert.js";

/** A request body larger than this is not an AdmissionReview of a Job (etcd keeps objects under 1.5 MiB). */
const MAX_BODY = 3 * 1024 * 1024;

async function main(): Promise<void> {
  const parsed = z.object(relaunchGuardSettingSchemas).safeParse(process.env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) process.stderr.write(`${issue.path.join(".")}: ${issue.message}\n`);
    process.exit(2);
  }
  const settings = parsed.data;
  const log = pino({ level: settings.LOG_LEVEL, base: { component: "streamforge-relaunch-guard" } });
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  const read = (namespace: string, name: string) => readJob(batch, namespace, name);

  const certificate = async () => {
    const { cert, renewed } = await currentServingCert(core, settings.CERT_STORE, settings.SERVING_HOSTS, Date.now);
    if (renewed) log.info({ secret: settings.CERT_STORE, reason: renewed }, "Issued a serving certificate");
    return cert;
  };
  let served: ServingCert;
  try {
    served = await certificate();
  } catch (err) {
    log.fatal({ secret: settings.CERT_STORE, reason: apiError(err).message }, "No serving certificate");
    process.exit(1);
  }
  const tls = (cert: ServingCert) => ({ cert: cert.cert, key: cert.key, minVersion: "TLSv1.2" as const });
  const server = createServer(tls(served), (req, res) => {
    if (req.method === "GET" && req.url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (req.method !== "POST" || req.url?.split("?")[0] !== "/validate") {
      res.writeHead(404).end();
      return;
    }
    req.on("error", () => res.destroy());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(chunk);
    });
    req.on("end", () => {
      let review: AdmissionReview;
      try {
        review = JSON.parse(Buffer.concat(chunks).toString("utf8")) as AdmissionReview;
      } catch {
        res.writeHead(400, { "content-type": "text/plain" }).end("expected an AdmissionReview (JSON)\n");
        return;
      }
      judge(review, settings.OPERATOR_USER, read, Date.now)
        .then(({ verdict, refusal }) => {
          const job = review.request?.object?.metadata?.name;
          // Both verdicts are logged: a relaunch is rare, and the log is its audit trail.
          if (refusal) log.warn({ uid: verdict.response.uid, job, refusal }, "Refused a Job");
          else if (verdict.response.allowed) log.info({ uid: verdict.response.uid, job }, "Admitted a replacement");
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(verdict));
        })
        .catch((err: unknown) => {
          log.error({ err }, "Could not judge a request");
          res.writeHead(500).end();
        });
    });
  });
  // The API server waits 5 s for an answer (timeoutSeconds): a client slower than this is not it.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.maxConnections = 256;
  // A certificate another replica renewed is served without a restart; a configuration the stack
  // replaced (or created after the guard) is made to trust it again.
  let trusted = "";
  const sync = async () => {
    const next = await certificate();
    // The configuration trusts a renewed CA before this replica serves what it signed (the
    // bundle keeps the previous CA, so the other replica's certificate stays trusted meanwhile).
    const state = await trustInConfiguration(admission, settings.WEBHOOK_CONFIGURATION, settings.WEBHOOK_NAME, next.ca);
    if (state !== trusted) log.info({ configuration: settings.WEBHOOK_CONFIGURATION, webhook: settings.WEBHOOK_NAME, state }, "CA bundle");
    trusted = state;
    if (next.cert !== served.cert) {
      server.setSecureContext(tls(next));
      served = next;
      log.info("Serving a renewed certificate");
    }
  };
  let syncing = false;
  const tick = (): void => {
    if (syncing) return; // a slow API server: one sync at a time
    syncing = true;
    sync()
      .catch((err: unknown) => log.warn({ reason: apiError(err).message }, "Could not sync the certificate; serving the current one"))
      .finally(() => (syncing = false));
  };
  const timer = setInterval(tick, settings.SYNC_INTERVAL_MS);
  timer.unref();
  // Trusted only once it listens: the API server's first call then finds it.
  server.listen(settings.PORT, settings.LISTEN_HOST, () => {
    log.info({ host: settings.LISTEN_HOST, port: settings.PORT }, "Serving");
    tick();
  });
  const stop = () => {
    clearInterval(timer);
    server.close(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

await main();
