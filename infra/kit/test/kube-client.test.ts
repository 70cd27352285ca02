/**
 * The program's own reads of the API server (infra/kit/kube-client.ts) retry as client-go does:
 * the real @kubernetes/client-node against a local HTTP server that answers as the API server does
 * while a watch cache (re)initializes (429, `Retry-After`, k8s.io/apiserver v0.37.2
 * `pkg/storage/cacher/cacher.go`).
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { MAX_RETRIES, retryAfterSeconds, withApiRetries } from "../kube-client";

const RELOADING = JSON.stringify({
  kind: "Status",
  apiVersion: "v1",
  status: "Failure",
  message: "storage is (re)initializing",
  reason: "TooManyRequests",
  details: { retryAfterSeconds: 1 },
  code: 429,
});

/** An API server stand-in: each path answers from `replies` in turn (the last one repeats). */
async function server(replies: (path: string) => { status: number; headers?: Record<string, string>; body: string }) {
  const seen: string[] = [];
  const s = http.createServer((req, res) => {
    seen.push(req.url ?? "");
    const r = replies(req.url ?? "");
    res.writeHead(r.status, { "content-type": "application/json", ...r.headers });
    res.end(r.body);
  });
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kube-client-"));
  const kubeconfigPath = path.join(dir, "kubeconfig");
  fs.writeFileSync(
    kubeconfigPath,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server: url, "insecure-skip-tls-verify": true } }],
      users: [{ name: "u", user: { token: "t" } }],
      contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
      "current-context": "x",
    }),
  );
  return { seen, target: { kubeconfigPath, context: "x", server: url }, close: () => new Promise((r) => s.close(r)) };
}

const where = { clusterName: "streamforge", kafkaNamespace: "kafka", usersNamespace: "stf", catalogue: true };

/**
 * readLiveKafka as the program runs it: in Node 22 itself, which loads the ES-module-only client
 * (Jest's module system cannot), transpiled as `pulumi` runs the program (ts-node).
 */
function readLiveKafka(
  target: object,
): Promise<{ live?: { topics: { name: string }[] }; error?: string; runError?: boolean; stack?: string }> {
  const script = `require("./infra/kafka/live").readLiveKafka(${JSON.stringify(target)}, ${JSON.stringify(where)})
    .then((live) => console.log(JSON.stringify({ live })),
      (e) => console.log(JSON.stringify({ error: e.message, runError: require("@pulumi/pulumi").RunError.isInstance(e), stack: e.stack })));`;
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "-e", script],
      { cwd: path.join(__dirname, "..", "..", "..") },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))),
    ),
  );
}

describe("reads of the API server retry as client-go does", () => {
  it("readLiveKafka waits out a watch cache that (re)initializes, with the real client", async () => {
    const failures = new Map<string, number>();
    const api = await server((url) => {
      const left = failures.get(url) ?? 2;
      failures.set(url, left - 1);
      if (left > 0) return { status: 429, headers: { "retry-after": "1" }, body: RELOADING };
      const items = url.includes("/kafkatopics")
        ? [{ metadata: { name: "queue-events", namespace: "kafka" }, spec: { partitions: 3 } }]
        : [];
      return { status: 200, body: JSON.stringify({ apiVersion: "kafka.strimzi.io/v1", kind: "List", items }) };
    });
    try {
      const { live, error } = await readLiveKafka(api.target);
      expect(error).toBeUndefined();
      expect(live?.topics.map((t) => t.name)).toEqual(["queue-events"]);
      // Each of the four lists was refused twice, then answered.
      expect(api.seen.length).toBe(12);
    } finally {
      await api.close();
    }
  });

  it("readLiveKafka gives up after client-go's ten retries, naming what it read", async () => {
    const api = await server(() => ({ status: 429, headers: { "retry-after": "0" }, body: RELOADING }));
    try {
      const { error, runError, stack } = await readLiveKafka(api.target);
      expect(error).toMatch(
        /^reading (kafkas|kafkanodepools|kafkatopics|kafkausers) in namespace (kafka|stf) from http:\/\/127\.0\.0\.1:\d+ failed: HTTP-Code: 429/,
      );
      // A RunError whose stack is its message: the runtime prints the message alone, and fast.
      expect([runError, stack]).toEqual([true, `LiveReadError: ${error}`]);
      expect(api.seen.filter((u) => u.includes("/kafkatopics")).length).toBe(MAX_RETRIES + 1);
    } finally {
      await api.close();
    }
  });

  it("what is retried: a 429 or a 5xx with a numeric Retry-After, nothing else", () => {
    expect(retryAfterSeconds({ code: 429, headers: { "retry-after": "3" } })).toBe(3);
    expect(retryAfterSeconds({ code: 503, headers: { "Retry-After": "1" } })).toBe(1);
    expect(retryAfterSeconds({ code: 429, headers: {} })).toBeUndefined();
    expect(retryAfterSeconds({ code: 429, headers: { "retry-after": "Wed, 21 Oct 2026 07:28:00 GMT" } })).toBeUndefined();
    expect(retryAfterSeconds({ code: 404, headers: { "retry-after": "1" } })).toBeUndefined();
    expect(retryAfterSeconds({ code: 409, headers: { "retry-after": "1" } })).toBeUndefined();
    expect(retryAfterSeconds(new Error("socket hang up"))).toBeUndefined();
  });

  it("withApiRetries waits what the server asked, then returns the answer", async () => {
    const waits: number[] = [];
    let calls = 0;
    const answer = await withApiRetries(
      async () => {
        calls += 1;
        if (calls < 3) throw Object.assign(new Error("HTTP-Code: 429"), { code: 429, headers: { "retry-after": String(calls) } });
        return "listed";
      },
      async (s) => {
        waits.push(s);
      },
    );
    expect([answer, calls, waits]).toEqual(["listed", 3, [1, 2]]);
  });
});
