import * as pulumi from "@pulumi/pulumi";
import { ConfigError, SECRET_KEYS, loadPlatformConfig, parsePlatformConfig } from "../infra/config";
import { readStackConfig } from "../infra/render/render";
import { knownStacks } from "../infra/render/render";
import { committedConfig, rawStack, selfSignedCertificate, stackSecretKeys } from "./helpers";
import { relaunchGuardNamespace } from "../infra/self-healing/config";

/** A copy of a committed stack with one change applied. */
function variant(stack: string, change: (raw: any) => void): Record<string, unknown> {
  const raw = structuredClone(rawStack(stack));
  change(raw);
  return raw;
}

function problemsOf(raw: Record<string, unknown>, secretKeys: string[] = []): string[] {
  try {
    parsePlatformConfig(raw, new Set(secretKeys));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.key}: ${p.message}`);
  }
  throw new Error("expected a ConfigError");
}

describe("committed stacks", () => {
  it.each(knownStacks())("%s parses", (stack) => {
    expect(() => committedConfig(stack)).not.toThrow();
  });

  it("fills defaults the stack files leave out", () => {
    const local = committedConfig("local");
    expect(local.apps.namespace).toBe("stf");
    expect(local.namespaces.create).toBe(true);
    expect(local.kafka.metrics).toEqual({ jmxPrometheusExporter: true, kafkaExporter: true });
  });
});

describe("bad configuration names the key, what was expected and what was found", () => {
  it("rejects an unknown environment", () => {
    expect(problemsOf(variant("dev", (r) => (r.environment = "qa")))).toEqual([
      'streamforge:environment: expected one of "local", "dev", "prod"; found "qa" (string)',
    ]);
  });

  it("rejects a missing required key", () => {
    expect(problemsOf(variant("dev", (r) => delete r.kafka.replication))).toEqual([
      "streamforge:kafka.replication: expected a value of type object; found nothing (the key is missing)",
    ]);
  });

  it("rejects a misspelt key inside an object", () => {
    expect(problemsOf(variant("dev", (r) => (r.kafka.nodePools[0].replica = 3)))).toEqual([
      "streamforge:kafka.nodePools[0].replica: unknown key; check the spelling against Pulumi.yaml",
    ]);
  });

  it("rejects an unknown top-level key", () => {
    const problems = problemsOf(variant("dev", (r) => (r.kafkaa = {})));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^streamforge:kafkaa: unknown key; expected one of streamforge:environment, /);
  });

  it("rejects a value of the wrong type", () => {
    expect(problemsOf(variant("dev", (r) => (r.kafka.nodePools[0].replicas = "three")))).toEqual([
      'streamforge:kafka.nodePools[0].replicas: expected a value of type number; found "three" (string)',
    ]);
  });

  it("rejects a number out of range", () => {
    expect(problemsOf(variant("dev", (r) => (r.catalogue.topics["queue-events"].partitions = 0)))).toEqual([
      "streamforge:catalogue.topics.queue-events.partitions: expected a number >= 1; found 0 (number)",
    ]);
  });

  it("rejects a malformed quantity", () => {
    expect(problemsOf(variant("dev", (r) => (r.kafka.nodePools[0].resources.limits.memory = "1 GB")))).toEqual([
      'streamforge:kafka.nodePools[0].resources.limits.memory: expected a Kubernetes quantity such as 500m or 2Gi; found "1 GB" (string)',
    ]);
  });

  it("rejects an unknown storage type", () => {
    const problems = problemsOf(variant("dev", (r) => (r.kafka.nodePools[0].storage = { type: "hostpath" })));
    expect(problems).toEqual([
      'streamforge:kafka.nodePools[0].storage.type: expected one of "ephemeral", "persistent-claim"; found "hostpath" (string)',
    ]);
  });

  it("rejects a replication factor above the broker count, and each topic that inherits it", () => {
    const problems = problemsOf(variant("dev", (r) => (r.kafka.replication = { factor: 3, minInSyncReplicas: 2 })));
    expect(problems[0]).toBe("streamforge:kafka.replication.factor: expected at most the number of brokers (1); found 3");
    expect(problems).toContain("streamforge:catalogue.topics.queue-events.replicas: expected at most the number of brokers (1); found 3");
    expect(problems).toHaveLength(1 + 5);
  });

  it("rejects an even KRaft quorum", () => {
    const problems = problemsOf(variant("prod", (r) => (r.kafka.nodePools[0].replicas = 2)));
    expect(problems).toEqual(["streamforge:kafka.nodePools: expected an odd number of controllers for a KRaft quorum; found 2"]);
  });

  it("holds prod to production sizing", () => {
    const problems = problemsOf(
      variant("prod", (r) => {
        r.kafka.nodePools[1].storage = { type: "ephemeral" };
        r.kafka.replication.minInSyncReplicas = 1;
        delete r.kafka.podDisruptionBudget;
        r.kafka.listeners.plain = true;
      }),
    );
    expect(problems).toEqual([
      'streamforge:kafka.nodePools[1].storage.type: prod: expected "persistent-claim"; found "ephemeral"',
      "streamforge:kafka.replication.minInSyncReplicas: prod: expected at least 2; found 1",
      "streamforge:kafka.podDisruptionBudget: prod: expected a PodDisruptionBudget; found nothing",
      "streamforge:kafka.listeners.plain: prod: expected false: no unauthenticated listener in prod; found true",
    ]);
  });

  it("rejects a grant on a topic the catalogue does not have", () => {
    expect(problemsOf(variant("dev", (r) => (r.catalogue.users["queue-manager"].consume = ["queue-event"])))).toEqual([
      "streamforge:catalogue.users.queue-manager.consume[0]: expected a topic of streamforge:catalogue.topics (queue-control, queue-events, market-trades, market-orderbook, market-klines) or a prefix ending in '*'; found \"queue-event\"",
    ]);
  });

  it("requires the operator's user to exist and to read queue-events in its group", () => {
    expect(problemsOf(variant("dev", (r) => (r.operator.kafkaUser = "operator")))).toEqual([
      'streamforge:operator.kafkaUser: expected a user of streamforge:catalogue.users (queue-manager, loaders, arango-connector, self-healing-operator); found "operator"',
    ]);
    expect(problemsOf(variant("dev", (r) => (r.catalogue.users["self-healing-operator"].groups = ["other"])))).toEqual([
      'streamforge:catalogue.users.self-healing-operator: expected the operator\'s user to consume queue-events in group "streamforge-self-healing"; found consume [queue-events], groups [other]',
    ]);
  });

  it("rejects an image reference with spaces", () => {
    expect(problemsOf(variant("dev", (r) => (r.operator.image = { ref: "my image" })))).toEqual([
      expect.stringMatching(/^streamforge:operator\.image(\.ref)?: /),
    ]);
  });

  it("requires the admin connection when the Kafka API owns the catalogue", () => {
    expect(problemsOf(variant("dev", (r) => (r.catalogue.owner = "kafka-api")))).toEqual([
      "streamforge:kafkaApi: expected the admin connection (bootstrapServers, tls, sasl) because streamforge:catalogue.owner is kafka-api; found nothing",
    ]);
  });

  it("refuses a password given in plain text", () => {
    const raw = variant("local-kafka-api", (r) => {
      r.kafkaApi.sasl = { mechanism: "scram-sha512", username: "admin" };
      r.kafkaApiPassword = "hunter2";
    });
    expect(problemsOf(raw)).toEqual([
      "streamforge:kafkaApiPassword: must be a Pulumi secret; found plain text. Set it with `pulumi config set --secret kafkaApiPassword`",
    ]);
    expect(() => parsePlatformConfig(raw, new Set(["kafkaApiPassword"]))).not.toThrow();
  });

  it("requires the password when SASL is configured", () => {
    const raw = variant("local-kafka-api", (r) => (r.kafkaApi.sasl = { mechanism: "scram-sha512", username: "admin" }));
    expect(problemsOf(raw)).toEqual([
      "streamforge:kafkaApiPassword: expected a secret password because streamforge:kafkaApi.sasl is set; found nothing",
    ]);
  });

  it("takes a CA certificate for the admin connection over TLS, and names what is wrong with one", () => {
    const ca = selfSignedCertificate();
    const tls = (edit: (api: any) => void) =>
      variant("local-kafka-api", (r) => {
        r.kafkaApi.tls = true;
        edit(r.kafkaApi);
      });
    expect(parsePlatformConfig(tls((api) => (api.caCertificate = ca))).kafkaApi?.caCertificate).toBe(ca);
    expect(problemsOf(tls((api) => (api.caCertificate = ca.replace(/[A-Za-z]{8}\n/, "!!!!!!!!\n"))))).toEqual([
      expect.stringMatching(/^streamforge:kafkaApi\.caCertificate: expected PEM certificates .*; found "-----BEGIN CERTIFICATE-----/),
    ]);
    expect(problemsOf(tls((api) => (api.caCertificate = "/etc/ssl/kafka-ca.crt")))).toEqual([
      expect.stringMatching(
        /^streamforge:kafkaApi\.caCertificate: expected PEM certificates .*; found "\/etc\/ssl\/kafka-ca\.crt" \(string\)$/,
      ),
    ]);
    expect(problemsOf(tls((api) => Object.assign(api, { caCertificate: ca, skipTlsVerify: true })))).toEqual([
      "streamforge:kafkaApi.skipTlsVerify: expected false beside streamforge:kafkaApi.caCertificate (a CA is given to verify the brokers); found true",
    ]);
    expect(problemsOf(tls((api) => Object.assign(api, { caCertificate: ca, tls: false })))).toEqual([
      "streamforge:kafkaApi.caCertificate: expected streamforge:kafkaApi.tls true to use a CA certificate; found tls false",
    ]);
  });

  it("takes the relaunch guard's URL only as https, naming the key", () => {
    expect(problemsOf(variant("dev", (r) => (r.operator.relaunchGuard = { url: "http://127.0.0.1:19443/validate" })))).toEqual([
      'streamforge:operator.relaunchGuard.url: expected an https URL (the API server calls webhooks over TLS); found "http://127.0.0.1:19443/validate" (string)',
    ]);
    const accepted = parsePlatformConfig(variant("dev", (r) => (r.operator.relaunchGuard = { url: "https://127.0.0.1:19443/validate" })));
    expect(accepted.operator?.relaunchGuard).toEqual({ url: "https://127.0.0.1:19443/validate" });
    expect(problemsOf(variant("dev", (r) => (r.operator.relaunchGuard = { caBundle: "x" })))).toEqual([
      "streamforge:operator.relaunchGuard.caBundle: unknown key; check the spelling against Pulumi.yaml",
    ]);
  });

  it("puts the relaunch guard in a namespace of its own, never where the apps or the watched Jobs are", () => {
    expect(relaunchGuardNamespace(parsePlatformConfig(variant("dev", () => {})).operator!, "stf")).toBe("stf-relaunch-guard");
    const named = parsePlatformConfig(variant("dev", (r) => (r.operator.relaunchGuard = { namespace: "platform-guards" })));
    expect(relaunchGuardNamespace(named.operator!, named.apps.namespace)).toBe("platform-guards");
    // The apps, the watched Jobs, Kafka's, Strimzi's, Argo's, monitoring, the cluster's own.
    for (const shared of ["stf", "stf-jobs", "kafka", "strimzi", "argo-rollouts", "monitoring", "kube-system", "kube-anything", "default"])
      expect([
        shared,
        problemsOf(
          variant("dev", (r) => {
            r.operator.watchNamespace = "stf-jobs";
            r.operator.relaunchGuard = { namespace: shared };
          }),
        ),
      ]).toEqual([
        shared,
        [
          `streamforge:operator.relaunchGuard.namespace: expected a namespace of the relaunch guard's own, where no person holds edit and nothing else reads Secrets; found "${shared}", which the platform or the cluster uses for something else`,
        ],
      ]);
    const long = "a".repeat(50);
    expect(problemsOf(variant("dev", (r) => (r.apps = { ...r.apps, namespace: long })))).toContain(
      `streamforge:operator.relaunchGuard.namespace: expected a namespace name of at most 63 characters; the default "${long}-relaunch-guard" has 65: set one`,
    );
  });

  it("lets the API server's tunnel be named or turned off, never as a whole namespace", () => {
    const tunnel = (value: unknown) => variant("dev", (r) => (r.network = { ...r.network, apiServerTunnel: value }));
    expect(parsePlatformConfig(tunnel([])).network!.apiServerTunnel).toEqual([]);
    expect(parsePlatformConfig(variant("dev", () => {})).network!.apiServerTunnel.map((p) => p.podLabels)).toEqual([
      { "k8s-app": "konnectivity-agent" },
      { app: "konnectivity-agent" },
    ]);
    expect(problemsOf(tunnel([{ namespace: "kube-system", podLabels: {} }]))).toEqual([
      "streamforge:network.apiServerTunnel[0].podLabels: expected at least one pod label: without one, every pod of the namespace could call; found {} (object)",
    ]);
  });

  it("checks the operator's policy with the operator's own schema, naming the full key", () => {
    expect(problemsOf(variant("dev", (r) => (r.operator.policy = { budget: { maxRelaunches: -1, windowMs: 60000 } })))).toEqual([
      "streamforge:operator.policy.budget.maxRelaunches: expected a number >= 0; found -1 (number)",
    ]);
    expect(problemsOf(variant("dev", (r) => (r.operator.policy = { stuckAfter: 1 })))).toEqual([
      "streamforge:operator.policy.stuckAfter: unknown key; check the spelling against Pulumi.yaml",
    ]);
    expect(problemsOf(variant("dev", (r) => (r.operator.policy = { fatalMessagePattern: "fatal(" })))).toEqual([
      'streamforge:operator.policy.fatalMessagePattern: expected a valid regular expression; found "fatal(" (string)',
    ]);
    // At preview, not when the operator starts: a target no Job can have, a contradiction.
    expect(problemsOf(variant("dev", (r) => (r.operator.policy = { targets: { loader_producer: { stuckAfterMs: 60000 } } })))).toEqual([
      expect.stringMatching(
        /^streamforge:operator\.policy\.targets\.loader_producer: expected a target queue-manager launches .*; found "loader_producer", which no Job can have$/,
      ),
    ]);
    expect(problemsOf(variant("dev", (r) => (r.operator.policy = { targets: { "loader-ws": { minStuckAfterMs: 600000 } } })))).toEqual([
      "streamforge:operator.policy.targets.loader-ws.minStuckAfterMs: expected at most stuckAfterMs (120000); found 600000",
    ]);
  });

  it("refuses a stack that names no cluster, and says how to name one", () => {
    const problems = problemsOf(variant("dev", (r) => delete r.cluster));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^streamforge:cluster: expected a kubeconfig context or file; found nothing\. To fix it, /);
    expect(problems[0]).toContain("pulumi config set --path streamforge:cluster.context");
  });

  it("requires the API server's CIDR in every stack, and names the key it moved to", () => {
    for (const stack of knownStacks()) {
      const problems = problemsOf(
        variant(stack, (r) => delete r.network),
        [...stackSecretKeys(stack)],
      );
      expect(problems).toEqual([
        expect.stringMatching(
          /^streamforge:network\.apiServerCidr: expected the API server's endpoint address as a CIDR .*; found nothing\. `kubectl get endpoints kubernetes -n default`/,
        ),
      ]);
    }
    expect(problemsOf(variant("dev", (r) => (r.operator.apiServerCidr = "10.0.0.1/32")))).toEqual([
      'streamforge:operator.apiServerCidr: moved: expected it as streamforge:network.apiServerCidr, where every workload that reaches the API server reads it; found "10.0.0.1/32" here',
    ]);
    expect(problemsOf(variant("dev", (r) => (r.network.apiServerCidr = "10.0.0.300/32")))).toEqual([
      'streamforge:network.apiServerCidr: expected an IPv4 CIDR such as 10.0.0.1/32; found "10.0.0.300/32" (string)',
    ]);
  });

  it("refuses in prod any egress range wider than network.minEgressPrefixLength, 0.0.0.0/1 included", () => {
    const wide = (cidr: string) => problemsOf(variant("prod", (r) => (r.network.apiServerCidr = cidr)));
    for (const cidr of ["0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "10.0.0.0/8"])
      expect(wide(cidr)).toEqual([
        `streamforge:network.apiServerCidr: prod: expected an egress range of /16 or narrower (streamforge:network.minEgressPrefixLength); found "${cidr}"`,
      ]);
    expect(() => parsePlatformConfig(variant("prod", (r) => (r.network.apiServerCidr = "10.0.0.0/16")))).not.toThrow();
    const worker = variant(
      "prod",
      (r) => (r.apps = { ...r.apps, workerEgress: [{ name: "arangodb", ports: [8529], to: [{ cidr: "0.0.0.0/1" }] }] }),
    );
    expect(problemsOf(worker)).toEqual([
      'streamforge:apps.workerEgress[0].to[0].cidr: prod: expected an egress range of /16 or narrower (streamforge:network.minEgressPrefixLength); found "0.0.0.0/1"',
    ]);
    const loosened = variant("prod", (r) => {
      r.network.minEgressPrefixLength = 8;
      r.network.apiServerCidr = "10.0.0.0/8";
    });
    expect(() => parsePlatformConfig(loosened)).not.toThrow();
    // Outside prod the limit is not enforced, but nothing defaults to everywhere: the key is required.
    expect(() => parsePlatformConfig(variant("dev", (r) => (r.network.apiServerCidr = "10.0.0.0/8")))).not.toThrow();
  });

  it("refuses root as the apps' default user, naming the key", () => {
    for (const user of [0, -1, 1.5])
      expect(problemsOf(variant("dev", (r) => (r.apps = { ...r.apps, defaultRunAsUser: user })))).toEqual([
        expect.stringMatching(/^streamforge:apps\.defaultRunAsUser: expected .*; found /),
      ]);
    expect(parsePlatformConfig(variant("dev", (r) => (r.apps = { ...r.apps, defaultRunAsUser: 1000 }))).apps.defaultRunAsUser).toBe(1000);
    expect(parsePlatformConfig(variant("dev", () => {})).apps.defaultRunAsUser).toBe(65532);
  });

  it("takes PriorityClass names for the apps' pods, none by default, and names a bad one", () => {
    expect(parsePlatformConfig(variant("dev", () => {})).apps.priorityClasses).toEqual([]);
    const listed = variant("dev", (r) => (r.apps = { ...r.apps, priorityClasses: ["batch.low"] }));
    expect(parsePlatformConfig(listed).apps.priorityClasses).toEqual(["batch.low"]);
    expect(problemsOf(variant("dev", (r) => (r.apps = { ...r.apps, priorityClasses: ["System_Critical"] })))).toEqual([
      expect.stringMatching(
        /^streamforge:apps\.priorityClasses\[0\]: expected a lowercase DNS subdomain .*; found "System_Critical" \(string\)$/,
      ),
    ]);
  });

  it("refuses a Prometheus address no NetworkPolicy peer can name", () => {
    expect(problemsOf(variant("dev", (r) => (r.chaos.prometheusAddress = "https://prometheus.example.com")))).toEqual([
      'streamforge:chaos.prometheusAddress: expected a Service address such as http://prometheus-operated.monitoring:9090 or an IPv4 address, so its egress can be opened; found "https://prometheus.example.com"',
    ]);
  });

  it("refuses an external listener in prod that does not name its allowed source ranges", () => {
    expect(problemsOf(variant("prod", (r) => delete r.kafka.listeners.external.allowedSourceRanges))).toEqual([
      "streamforge:kafka.listeners.external.allowedSourceRanges: prod: expected the source ranges allowed to reach the external listener, none of them 0.0.0.0/0; found []",
    ]);
    expect(problemsOf(variant("prod", (r) => (r.kafka.listeners.external.allowedSourceRanges = ["0.0.0.0/0"])))).toHaveLength(1);
  });

  it("refuses a secret nothing uses, and asks for the one a registry login needs", () => {
    expect(
      problemsOf(
        variant("dev", (r) => (r.operatorRegistryPassword = "x")),
        ["operatorRegistryPassword"],
      ),
    ).toEqual([
      "streamforge:operatorRegistryPassword: expected a registry login to use it (streamforge:operator.image.username, or .pullCredentials); found none. Remove it or name the user",
    ]);
    expect(problemsOf(variant("local", (r) => delete r.operatorRegistryPassword))).toEqual([
      'streamforge:operatorRegistryPassword: expected the secret password of registry user "streamforge-ci"; found nothing',
    ]);
    expect(
      problemsOf(
        variant("dev", (r) => (r.kafkaApiPassword = "x")),
        ["kafkaApiPassword"],
      ),
    ).toEqual([
      "streamforge:kafkaApiPassword: expected streamforge:catalogue.owner kafka-api with streamforge:kafkaApi.sasl to use it; found neither. Remove it",
    ]);
  });

  it("reports every problem at once", () => {
    const problems = problemsOf(
      variant("dev", (r) => {
        r.environment = "staging";
        r.kafka.clusterName = "K3";
      }),
    );
    expect(problems).toHaveLength(2);
  });
});

/** The problems of loading the runtime's config; fails the test when it loads. */
function loadProblems(): string {
  try {
    loadPlatformConfig();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

/** Neither the secret nor any 4 characters of it in a row (a prefix, a tail) appear in `text`. */
function expectNotShown(text: string, secret: string): void {
  for (let i = 0; i + 4 <= secret.length; i++) expect(text).not.toContain(secret.slice(i, i + 4));
}

describe("secrets set the way Pulumi documents", () => {
  // The runtime's own config store, as the language host fills it for `pulumi preview`/`up`: every
  // value is text, a secret's the text it was set to (see decodeRawConfig in infra/config.ts).
  const runtimeWith = (secretKeys: string[], password = "hunter2-registry", more: Record<string, string> = {}) => {
    const { config } = readStackConfig("local");
    pulumi.runtime.setAllConfig({ ...config, "streamforge:operatorRegistryPassword": password, ...more }, secretKeys);
  };
  afterEach(() => pulumi.runtime.setAllConfig({}, []));

  it.each([
    ["digits only", "84731902"],
    ["true", "true"],
    ["null", "null"],
    ["an empty object's text", "{}"],
    ["JSON-looking text", '{"user":"x","n":[1,2]}'],
    ["a number in exponent form", "1e3"],
    ["whitespace", "  \t "],
    ["unicode", "pässwörd-🔑-密码"],
    ["very long text", "x7!".repeat(4000)],
  ])("accept any text as a password exactly as given: %s", async (_what, password) => {
    runtimeWith(["streamforge:operatorRegistryPassword"], password);
    const secret = loadPlatformConfig().operatorRegistryPassword!;
    expect(await pulumi.isSecret(secret)).toBe(true);
    expect(await new Promise((resolve) => secret.apply(resolve))).toBe(password);
  });

  it("accept a digits-only Kafka admin password too, exactly as given", async () => {
    const { config } = readStackConfig("local-kafka-api");
    const kafkaApi = { ...JSON.parse(config["streamforge:kafkaApi"]!), sasl: { mechanism: "scram-sha512", username: "admin" } };
    pulumi.runtime.setAllConfig(
      { ...config, "streamforge:kafkaApi": JSON.stringify(kafkaApi), "streamforge:kafkaApiPassword": "0084731902" },
      ["streamforge:kafkaApiPassword"],
    );
    const secret = loadPlatformConfig().kafkaApiPassword!;
    expect(await pulumi.isSecret(secret)).toBe(true);
    expect(await new Promise((resolve) => secret.apply(resolve))).toBe("0084731902");
  });

  it("refuse a digits-only password set in plain text without showing it", () => {
    runtimeWith([], "84731902");
    const message = loadProblems();
    expect(message).toContain(
      "streamforge:operatorRegistryPassword: must be a Pulumi secret; found plain text. Set it with `pulumi config set --secret operatorRegistryPassword`",
    );
    expectNotShown(message, "84731902");
  });

  it("refuse an empty password, naming the key, without showing anything of it", () => {
    runtimeWith(["streamforge:operatorRegistryPassword"], "");
    expect(loadProblems()).toContain(
      "streamforge:operatorRegistryPassword: expected a password: non-empty text set with `pulumi config set --secret operatorRegistryPassword`; found empty text",
    );
  });

  it("refuse a value of the wrong kind, naming the key and what was expected, never the value", () => {
    const raw = variant("local", (r) => (r.operatorRegistryPassword = 84731902));
    expect(problemsOf(raw, ["operatorRegistryPassword"])).toEqual([
      "streamforge:operatorRegistryPassword: expected a password: non-empty text set with `pulumi config set --secret operatorRegistryPassword`; found a number",
    ]);
    const object = variant("local", (r) => (r.operatorRegistryPassword = { k: "Zq9-hunter2" }));
    const [problem] = problemsOf(object, ["operatorRegistryPassword"]);
    expect(problem).toMatch(/^streamforge:operatorRegistryPassword: expected a password: .*; found an object$/);
    expectNotShown(problem!, JSON.stringify({ k: "Zq9-hunter2" }));
  });

  it("refuse a secret on a key the program uses in plain text, without showing it", () => {
    const { config } = readStackConfig("local");
    runtimeWith(["streamforge:operatorRegistryPassword", "streamforge:environment"], "hunter2-registry", {
      "streamforge:environment": "staging-Zq9x",
    });
    const message = loadProblems();
    expect(message).toContain(
      "streamforge:environment: expected plain config; found a Pulumi secret. The program uses this key in plain text: set it without --secret",
    );
    expectNotShown(message, "staging-Zq9x");
    expect(config["streamforge:environment"]).toBe("local");
  });

  it("are accepted and reach the program as secret Outputs", async () => {
    runtimeWith(["streamforge:operatorRegistryPassword"]);
    const config = loadPlatformConfig();
    expect(pulumi.Output.isInstance(config.operatorRegistryPassword)).toBe(true);
    expect(await pulumi.isSecret(config.operatorRegistryPassword!)).toBe(true);
  });

  it("are refused, naming the key, when set in plain text", () => {
    runtimeWith([]);
    expect(() => loadPlatformConfig()).toThrow(/streamforge:operatorRegistryPassword: must be a Pulumi secret; found plain text/);
  });

  it("every secret key is held as a secure value in a committed stack or has a test stack", () => {
    const secure = new Set(["dev", "prod", "local", "local-kafka-api"].flatMap((s) => readStackConfig(s).secretKeys));
    expect(SECRET_KEYS.filter((k) => secure.has(`streamforge:${k}`))).toEqual(["operatorRegistryPassword"]);
  });
});
