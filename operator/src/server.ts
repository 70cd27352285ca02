/** /healthz, /readyz and /metrics over plain HTTP (node:http: two endpoints need no framework). */
import { type Server, createServer } from "node:http";
import type { Registry } from "prom-client";

export interface Probes {
  /** The process is alive and its loop turns. */
  live(): boolean;
  /** Ready to act: Job cache synced and, on the leader, the event source healthy. */
  ready(): boolean;
}

export function startServer(host: string, port: number, routes: { probes?: Probes; registry?: Registry }): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const reply = (code: number, body: string, type = "text/plain") => {
      res.writeHead(code, { "Content-Type": type });
      res.end(body);
    };
    if (routes.probes && path === "/healthz")
      return reply(routes.probes.live() ? 200 : 500, routes.probes.live() ? "ok" : "decision rounds failing or stalled");
    if (routes.probes && path === "/readyz") return reply(routes.probes.ready() ? 200 : 503, routes.probes.ready() ? "ok" : "not ready");
    if (routes.registry && path === "/metrics") {
      void routes.registry.metrics().then(
        (text) => reply(200, text, routes.registry!.contentType),
        () => reply(500, "metrics unavailable"),
      );
      return;
    }
    reply(404, "not found");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
