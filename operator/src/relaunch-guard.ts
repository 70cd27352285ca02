/**
 * `node dist/relaunch-guard.js`: the relaunch guard, a validating admission webhook the API server
 * calls for each Job the operator's account creates in the watched namespace
 * (adapters/admission-review.ts, core/relaunch-review.ts). It runs under an account of its own
 * that may only read that namespace's Jobs, so a stolen operator token cannot answer for it.
 * Serves HTTPS only (the API server calls webhooks over TLS): POST /validate, GET /healthz. Logs
 * one JSON line per refusal. Exits 2 on bad settings.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import * as k8s from "@kubernetes/client-node";
import { pino } from "pino";
import { z } from "zod";
import { type AdmissionReview, judge } from "./adapters/admission-review.js";
import { readJob } from "./adapters/kube.js";

const settingsSchema = z.object({
  /** The operator's account as the API server names it: system:serviceaccount:<namespace>:<name>. */
  OPERATOR_USER: z.string().regex(/^system:serviceaccount:[a-z0-9-]+:[a-z0-9.-]+$/, "expected system:serviceaccount:<namespace>:<name>"),
  TLS_CERT_FILE: z.string().min(1),
  TLS_KEY_FILE: z.string().min(1),
  /** 0.0.0.0 in a pod (the API server calls through its Service); 127.0.0.1 on a machine of its own. */
  LISTEN_HOST: z.string().default("0.0.0.0"),
  PORT: z.coerce.number().int().min(1).max(65535).default(9443),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

/** A request body larger than this is not an AdmissionReview of a Job (etcd keeps objects under 1.5 MiB). */
const MAX_BODY = 3 * 1024 * 1024;

function main(): void {
  const parsed = settingsSchema.safeParse(process.env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) process.stderr.write(`${issue.path.join(".")}: ${issue.message}\n`);
    process.exit(2);
  }
  const settings = parsed.data;
  const log = pino({ level: settings.LOG_LEVEL, base: { component: "streamforge-relaunch-guard" } });
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const read = (namespace: string, name: string) => readJob(batch, namespace, name);

  const tls = () => ({
    cert: readFileSync(settings.TLS_CERT_FILE),
    key: readFileSync(settings.TLS_KEY_FILE),
    minVersion: "TLSv1.2" as const,
  });
  let served = tls();
  const server = createServer(served, (req, res) => {
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
          if (refusal) log.warn({ uid: verdict.response.uid, job: review.request?.object?.metadata?.name, refusal }, "Refused a Job");
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
  // A renewed certificate (its Secret's files change under the mount) is served without a restart.
  const reload = setInterval(() => {
    try {
      const next = tls();
      if (next.cert.equals(served.cert) && next.key.equals(served.key)) return;
      server.setSecureContext(next);
      served = next;
      log.info("Serving a renewed certificate");
    } catch (err) {
      log.warn({ err: (err as Error).message }, "Could not read the certificate; serving the previous one");
    }
  }, 30_000);
  reload.unref();
  server.listen(settings.PORT, settings.LISTEN_HOST, () => log.info({ host: settings.LISTEN_HOST, port: settings.PORT }, "Serving"));
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main();
