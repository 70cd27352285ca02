/**
 * The operator's real image: operator/Dockerfile built with `buildah bud` from local stand-ins of
 * its base images (local/operator-image.sh build; reused when its inputs have not changed), then
 * run with podman against the local Kafka (TLS + SCRAM) and API server the way the Deployment runs
 * it: the image's own user, a read-only root with a small tmpfs /tmp, no capabilities, settings
 * from the environment, credentials mounted read-only. The container shares the host network
 * (BIND_ADDRESS=127.0.0.1). Prints the image size and the start-to-ready time.
 */
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import type { Producer } from "kafkajs";
import {
  REPO_ROOT,
  createNamespace,
  createTopic,
  deleteNamespace,
  env,
  eventually,
  kubeClients,
  listJobs,
  metric,
  publish,
  queueManagerJob,
  SHORT_POLICY,
  status,
  unique,
  workerProducer,
} from "./platform.js";
import { operatorIdentity } from "./identity.js";

const SCRIPT = join(REPO_ROOT, "local", "operator-image.sh");
/** runc and explicit ulimits: crun fails on this machine's cgroups, runc without ulimits on setrlimit. */
const PODMAN = ["--runtime", "/usr/sbin/runc"];
const ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];
const NONROOT = 65532;
/**
 * A request on a connection of its own, as the kubelet's probes make them: a pooled keep-alive
 * socket can be closed by the server's 5 s idle timeout just as a late timer reuses it ("other
 * side closed", seen once on a loaded machine).
 */
const probe = (url: string) => fetch(url, { headers: { connection: "close" } });

const HEALTH_PORT = 18881;
const METRICS_PORT = 18880;
/** Where the Deployment mounts the CA (infra/self-healing/manifests.ts) and where this test mounts the kubeconfig. */
const CA_IN_CONTAINER = "/etc/kafka-ca/ca.crt";
const KUBECONFIG_IN_CONTAINER = "/etc/streamforge/kubeconfig";

function tail(text: string, lines = 25): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}

/** Runs a command to completion; throws naming it, with the end of its output, when it fails. */
function run(what: string, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): string {
  const res: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    encoding: "utf8",
    env: opts.env ?? process.env,
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.error || res.status !== 0)
    throw new Error(
      `${what} failed (${cmd} ${args.join(" ")}: ${res.error ? res.error.message : `exit ${res.status ?? res.signal}`}):\n${tail(`${res.stdout}\n${res.stderr}`)}`,
    );
  return res.stdout;
}

const podman = (what: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }) =>
  run(what, "podman", [...PODMAN, ...args], opts);

interface Inspect {
  State: { Status: string; Pid: number; ExitCode: number; Running: boolean };
  HostConfig: { ReadonlyRootfs: boolean };
  Config: { User: string };
}

const inspect = (name: string) => (JSON.parse(podman("podman inspect", ["container", "inspect", name])) as Inspect[])[0]!;

/** `node -e SCRIPT` inside the running container (the image has no shell); stdout, or the error. */
function nodeInContainer(name: string, script: string): string {
  return podman("podman exec", ["exec", name, "/nodejs/bin/node", "-e", script]).trim();
}

/** The local addresses of the TCP sockets that process PID listens on (host network: the host's tables). */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: "utf8" }));
    if (m) inodes.add(m[1]!);
  }
  const found: string[] = [];
  for (const table of ["tcp", "tcp6"]) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, "utf8").trim().split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // st 0A: LISTEN; the address is hex, little-endian per 32-bit word.
      if (f[3] !== "0A" || !inodes.has(f[9]!)) continue;
      const [hex, port] = f[1]!.split(":") as [string, string];
      const words = hex.match(/.{8}/g)!.map((w) =>
        w
          .match(/../g)!
          .reverse()
          .map((b) => parseInt(b, 16)),
      );
      const bytes = words.flat();
      const addr =
        bytes.length === 4
          ? bytes.join(".")
          : bytes.slice(0, 12).every((b, i) => b === (i < 10 ? 0 : 255))
            ? bytes.slice(12).join(".")
            : bytes.every((b) => b === 0)
              ? "::"
              : `ipv6:${hex}`;
      found.push(`${addr}:${parseInt(port, 16)}`);
    }
  }
  return found.sort();
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe("the operator image, built and run with podman", () => {
  const ns = unique("it-image");
  const topic = unique("queue-events");
  const name = `${ns}-operator`;
  const secrets = mkdtempSync(join(tmpdir(), "operator-image-"));
  let image = "";
  let pid = 0;
  let producer: Producer | undefined;
  let started = false;

  beforeAll(async () => {
    // 1. The image: built, or reused when its inputs are unchanged. A failure names the script's step.
    try {
      image = run("building the operator image (local/operator-image.sh build)", "bash", [SCRIPT, "build"], { timeoutMs: 20 * 60_000 })
        .trim()
        .split("\n")
        .pop()!;
    } catch (err) {
      const message = (err as Error).message;
      // The script's own verdict names the step that failed; the log's tail follows.
      const verdict = /^\[operator-image\] ERROR: .*$/m.exec(message)?.[0];
      throw new Error(`The operator image could not be built, so it cannot be run${verdict ? `: ${verdict}` : ""}\n${message}`, {
        cause: err,
      });
    }
    expect(image).toMatch(/^localhost\/streamforge\/self-healing-operator:[0-9a-f]{16}$/);
    const size = Number(podman("podman image inspect", ["image", "inspect", "--format", "{{.Size}}", image]).trim());
    console.log(`operator image ${image}: ${(size / 1024 / 1024).toFixed(0)} MiB (${size} bytes)`);

    // 2. What it talks to: a fresh namespace and topic, a worker simulator.
    await createNamespace(ns);
    await createTopic(topic);
    producer = await workerProducer();
    // Its own identity: the stack's ServiceAccount and Roles in this namespace, a token of that ServiceAccount.
    const identity = await operatorIdentity(ns);

    // 3. Credentials as the Deployment mounts them: readable by the image's user only.
    mkdirSync(secrets, { recursive: true });
    for (const [file, from] of [
      ["kubeconfig", identity.kubeconfig],
      ["ca.crt", env.caPath()],
    ] as const) {
      writeFileSync(join(secrets, file), readFileSync(from), { mode: 0o400 });
      chownSync(join(secrets, file), NONROOT, NONROOT);
    }
    const settings: Record<string, string> = {
      KUBECONFIG: KUBECONFIG_IN_CONTAINER,
      KAFKA_BROKERS: env.tlsBootstrap(),
      KAFKA_TLS: "true",
      KAFKA_CA_PATH: CA_IN_CONTAINER,
      KAFKA_SASL_MECHANISM: "scram-sha-512",
      KAFKA_USERNAME: env.adminUser(),
      KAFKA_PASSWORD: env.adminPassword(),
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: `${ns}-operator`,
      KAFKA_STALE_AFTER_MS: "5000",
      WATCH_NAMESPACE: ns,
      POD_NAME: name,
      BIND_ADDRESS: "127.0.0.1",
      HEALTH_PORT: String(HEALTH_PORT),
      METRICS_PORT: String(METRICS_PORT),
      TICK_INTERVAL_MS: "500",
      LOG_LEVEL: "info",
      SELF_HEALING_POLICY: JSON.stringify(SHORT_POLICY),
    };

    // 4. Run it. Values reach the container by name only (`-e NAME`), so the password is not on a command line.
    const t0 = Date.now();
    podman(
      "podman run",
      [
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "host",
        ...ULIMITS,
        "--read-only",
        "--read-only-tmpfs=false",
        "--tmpfs",
        "/tmp:rw,size=16m,mode=1777",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "-v",
        `${join(secrets, "kubeconfig")}:${KUBECONFIG_IN_CONTAINER}:ro`,
        "-v",
        `${join(secrets, "ca.crt")}:${CA_IN_CONTAINER}:ro`,
        ...Object.keys(settings).flatMap((k) => ["-e", k]),
        image,
      ],
      { env: { ...process.env, ...settings } },
    );
    started = true;
    // Polls CHECK until it holds; fails at once, with the container's log, if the container exits.
    const whileRunning = (what: string, check: () => Promise<boolean>) =>
      eventually(
        what,
        async () => {
          if (!inspect(name).State.Running) return "exited";
          return (await check().catch(() => false)) ? "ok" : undefined;
        },
        60_000,
      ).then((outcome) => {
        if (outcome === "exited") {
          const state = inspect(name).State;
          throw new Error(`The container exited (code ${state.ExitCode}) before ${what}:\n${tail(podman("podman logs", ["logs", name]))}`);
        }
      });
    await whileRunning("/readyz answered 200", async () => (await probe(`http://127.0.0.1:${HEALTH_PORT}/readyz`)).status === 200);
    const readyMs = Date.now() - t0;
    // Ready (its probe) comes before leading: then the Lease and the consumer's first fetch.
    await whileRunning(
      "it led with a healthy consumer",
      async () =>
        (await metric(METRICS_PORT, "streamforge_operator_leader")) === 1 &&
        (await metric(METRICS_PORT, "streamforge_operator_event_source_healthy")) === 1,
    );
    const leadingMs = Date.now() - t0;
    // When the process itself said it had started (settings read, probes and metrics served, Jobs watched).
    const startedAt = podman("podman logs", ["logs", name])
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { time: number; msg: string })
      .find((l) => l.msg === "Started the operator")?.time;
    console.log(
      `start to ready (podman run to /readyz 200): ${seconds(readyMs)}` +
        (startedAt ? ` (process up, "Started the operator", after ${seconds(startedAt - t0)})` : "") +
        `; to leading with a healthy consumer: ${seconds(leadingMs)}`,
    );
    pid = inspect(name).State.Pid;
  }, 25 * 60_000);

  afterAll(async () => {
    if (started) {
      const logDir = join(REPO_ROOT, "out", "itest");
      mkdirSync(logDir, { recursive: true });
      const logs = spawnSync("podman", [...PODMAN, "logs", name], { encoding: "utf8" });
      writeFileSync(join(logDir, `${name}.log`), `${logs.stdout ?? ""}${logs.stderr ?? ""}`);
      spawnSync("podman", [...PODMAN, "rm", "-f", "-t", "0", name], { encoding: "utf8" });
    }
    await producer?.disconnect();
    await deleteNamespace(ns);
    rmSync(secrets, { recursive: true, force: true });
  });

  it("runs node as PID 1, as uid/gid 65532, without capabilities", () => {
    expect(inspect(name).Config.User).toBe(`${NONROOT}:${NONROOT}`);
    const procStatus = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (key: string) => new RegExp(`^${key}:\\s*(.*)$`, "m").exec(procStatus)![1]!.trim().split(/\s+/);
    expect(field("Uid")).toEqual(Array(4).fill(String(NONROOT)));
    expect(field("Gid")).toEqual(Array(4).fill(String(NONROOT)));
    expect(field("NSpid").at(-1)).toBe("1");
    expect(field("CapEff")).toEqual(["0000000000000000"]);
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean)).toEqual(["/nodejs/bin/node", "dist/main.js"]);
    // The distroless contract: no shell, no package manager.
    expect(
      nodeInContainer(
        name,
        'console.log(["/bin/sh", "/bin/bash", "/usr/bin/apt-get", "/usr/bin/dpkg"].filter((p) => require("fs").existsSync(p)).join(","))',
      ),
    ).toBe("");
  });

  it("has a read-only root filesystem: its code cannot be changed, only /tmp is writable", () => {
    expect(inspect(name).HostConfig.ReadonlyRootfs).toBe(true);
    // The container's own view of its root mount.
    const root = readFileSync(`/proc/${pid}/mountinfo`, "utf8")
      .split("\n")
      .map((l) => l.split(" "))
      .filter((f) => f[4] === "/")
      .pop()!;
    expect(root[5]!.split(",")).toContain("ro");
    // Writes from inside, as the operator's user.
    const attempt = (path: string) =>
      `try { require("fs").writeFileSync(${JSON.stringify(path)}, "x"); console.log("written") } catch (e) { console.log(e.code) }`;
    expect(nodeInContainer(name, attempt("/app/dist/main.js"))).toBe("EROFS");
    expect(nodeInContainer(name, attempt("/app/probe"))).toBe("EROFS");
    expect(nodeInContainer(name, attempt("/etc/probe"))).toBe("EROFS");
    expect(nodeInContainer(name, attempt("/tmp/probe"))).toBe("written");
  });

  it("serves /healthz, /readyz and /metrics on 127.0.0.1 only", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const res = await probe(`http://127.0.0.1:${HEALTH_PORT}${path}`);
      expect([path, res.status, await res.text()]).toEqual([path, 200, "ok"]);
    }
    const text = await (await probe(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();
    expect(text).toMatch(/^streamforge_operator_leader 1$/m);
    expect(text).toMatch(/^streamforge_operator_event_source_healthy 1$/m);
    expect(text).toMatch(/^# TYPE streamforge_operator_relaunches_total counter$/m);
    expect(listeningAddresses(pid)).toEqual([`127.0.0.1:${HEALTH_PORT}`, `127.0.0.1:${METRICS_PORT}`].sort());
  });

  it("relaunches a Job whose worker went silent after one event", async () => {
    const { batch } = kubeClients();
    await batch.createNamespacedJob({ namespace: ns, body: queueManagerJob("silent-1", "loader-producer") });
    await publish(producer!, topic, [status("silent-1", "loading", { message: "loaded 100 records", records_written: 100 })]);
    const sentAt = Date.now();
    // Then nothing: past the 4 s threshold, the operator replaces it (the original is deleted).
    await eventually(
      "the silent Job to be replaced",
      async () => {
        const names = (await listJobs(ns)).map((j) => j.metadata!.name!);
        return names.includes("silent-1-loader-producer-r1") ? true : undefined;
      },
      60_000,
    );
    console.log(`silent Job replaced ${seconds(Date.now() - sentAt)} after its only event (threshold 4 s)`);
    await eventually("the original Job to be deleted", async () =>
      (await listJobs(ns)).some((j) => j.metadata!.name === "silent-1-loader-producer") ? undefined : true,
    );
    expect((await listJobs(ns)).map((j) => j.metadata!.name)).toEqual(["silent-1-loader-producer-r1"]);
    const replacement = await batch.readNamespacedJob({ name: "silent-1-loader-producer-r1", namespace: ns });
    expect(replacement.metadata!.annotations).toMatchObject({
      "streamforge.io/relaunched-from": "silent-1-loader-producer",
      "streamforge.io/relaunch-reason": expect.stringMatching(/^stuck: no event for/),
    });
    expect(await metric(METRICS_PORT, 'streamforge_operator_relaunches_total{reason="stuck",result="created"}')).toBe(1);
  });

  it("stops cleanly on SIGTERM as PID 1: exit 0 within seconds, Lease released", async () => {
    const t0 = Date.now();
    // podman stop sends the image's stop signal (SIGTERM) to PID 1; SIGKILL only after 15 s.
    podman("podman stop", ["stop", "-t", "15", name], { timeoutMs: 30_000 });
    const stopMs = Date.now() - t0;
    console.log(`podman stop (SIGTERM to PID 1) to exit: ${seconds(stopMs)}`);
    const state = inspect(name).State;
    expect([state.Status, state.ExitCode]).toEqual(["exited", 0]);
    expect(stopMs).toBeLessThan(10_000);
    const lines = podman("podman logs", ["logs", name])
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { level: number; msg: string; signal?: string });
    expect(lines).toContainEqual(expect.objectContaining({ msg: "Shutting down", signal: "SIGTERM" }));
    expect(lines.filter((l) => l.level >= 60)).toEqual([]);
    // It gave the Lease up on the way out, so another replica would not wait for it to expire.
    const { kc } = kubeClients();
    const lease = await kc
      .makeApiClient(k8s.CoordinationV1Api)
      .readNamespacedLease({ name: "streamforge-self-healing-operator", namespace: ns });
    expect(lease.spec?.holderIdentity).toBeUndefined();
  });
});
