/**
 * The restricted Pod Security checks, RBAC, service exposure, Kafka durability and the environment
 * rule, each passing on what the prod stack really renders and failing on one change to it.
 */
import type { DeclaredResource } from "../../infra/render/render";
import { renderStack } from "../../infra/render/render";
import { ENVIRONMENT_TAG } from "../rules/common";
import { environmentDeclared } from "../rules/environment";
import { kafkaBrokers, kafkaDurability } from "../rules/kafka";
import { podSecurity } from "../rules/pod-security";
import { rbacLeastPrivilege } from "../rules/rbac";
import { serviceExposure } from "../rules/services";
import { type RunOptions, runResourcePolicy, runStackPolicy } from "./harness";

const PROD: RunOptions = { stack: "prod", tags: { [ENVIRONMENT_TAG]: "prod" } };

let prod: readonly DeclaredResource[];
beforeAll(async () => {
  prod = (await renderStack("prod")).resources;
});

/** A deep copy of a rendered resource, changed by `edit`. */
function rendered(name: string, edit: (inputs: any) => void = () => {}): { type: string; name: string; inputs: any } {
  const r = prod.find((x) => x.name === name);
  if (!r) throw new Error(`prod renders no resource "${name}"`);
  const inputs = JSON.parse(JSON.stringify(r.inputs));
  edit(inputs);
  return { type: r.type, name: r.name, inputs };
}

const violations = async (rule: { policy: any }, resource: { type: string; name: string; inputs: any }, options: RunOptions = PROD) =>
  (await runResourcePolicy(rule.policy, resource, options)).violations;

const OPERATOR = "self-healing-deployment";
const OP = 'Deployment stf/streamforge-self-healing-operator (resource "self-healing-deployment")';
const OP_C = `${OP}, container "operator" (spec.template.spec.containers[0])`;

describe("pod-security-restricted: the checks of Pod Security admission (v1.34), on the operator's Deployment", () => {
  it("passes the Deployment as prod renders it", async () => {
    expect(await violations(podSecurity, rendered(OPERATOR))).toEqual([]);
  });

  it("host namespaces, host ports and probe hosts (check_hostNamespaces, check_hostPorts, check_hostProbesAndhostLifecycle)", async () => {
    const bad = rendered(OPERATOR, (d) => {
      const pod = d.spec.template.spec;
      pod.hostNetwork = true;
      pod.hostPID = true;
      pod.containers[0].ports = [{ containerPort: 8080, hostPort: 8080 }];
      pod.containers[0].livenessProbe = { httpGet: { path: "/", port: 8081, host: "169.254.169.254" } };
    });
    expect(await violations(podSecurity, bad)).toEqual([
      `${OP}: spec.template.spec.hostNetwork: expected false or unset (no host namespace); found true`,
      `${OP}: spec.template.spec.hostPID: expected false or unset (no host namespace); found true`,
      `${OP_C}: ports[0].hostPort: expected 0 or unset; found 8080`,
      `${OP_C}: livenessProbe.httpGet.host: expected unset (the pod's own IP); found "169.254.169.254"`,
    ]);
  });

  it("capabilities: drop ALL, add only NET_BIND_SERVICE (check_capabilities_restricted)", async () => {
    const bad = rendered(OPERATOR, (d) => {
      d.spec.template.spec.containers[0].securityContext.capabilities = { drop: ["NET_RAW"], add: ["NET_BIND_SERVICE", "SYS_ADMIN"] };
    });
    expect(await violations(podSecurity, bad)).toEqual([
      `${OP_C}: securityContext.capabilities.drop: expected ["ALL"]; found ["NET_RAW"]`,
      `${OP_C}: securityContext.capabilities.add: expected nothing or only "NET_BIND_SERVICE"; found ["SYS_ADMIN"]`,
    ]);
  });

  it("seccomp: a container's Unconfined fails; no pod profile leaves every unset container failing (check_seccompProfile_restricted)", async () => {
    const bad = rendered(OPERATOR, (d) => {
      const pod = d.spec.template.spec;
      delete pod.securityContext.seccompProfile;
      for (const c of pod.containers) delete c.securityContext.seccompProfile;
      pod.containers[0].securityContext.seccompProfile = { type: "Unconfined" };
    });
    const found = await violations(podSecurity, bad);
    expect(found).toContain(
      `${OP_C}: securityContext.seccompProfile.type: expected "RuntimeDefault" or "Localhost" (on the container or spec.template.spec.securityContext); found "Unconfined"`,
    );
    // A Windows pod is exempt (the 1_25 variant of the check).
    const windows = rendered(OPERATOR, (d) => {
      const pod = d.spec.template.spec;
      delete pod.securityContext.seccompProfile;
      for (const c of pod.containers) delete c.securityContext.seccompProfile;
      pod.os = { name: "windows" };
    });
    expect((await violations(podSecurity, windows)).filter((v) => v.includes("seccompProfile"))).toEqual([]);
  });

  it("volumes: hostPath and nfs are refused, emptyDir/secret/projected pass (check_restrictedVolumes)", async () => {
    const bad = rendered(OPERATOR, (d) => {
      d.spec.template.spec.volumes = [
        ...(d.spec.template.spec.volumes ?? []),
        { name: "docker", hostPath: { path: "/var/run/docker.sock" } },
        { name: "share", nfs: { server: "nfs", path: "/" } },
      ];
    });
    const n = (bad.inputs.spec.template.spec.volumes as unknown[]).length;
    expect(await violations(podSecurity, bad)).toEqual([
      `${OP}: spec.template.spec.volumes[${n - 2}] ("docker"): expected one of configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret; found hostPath`,
      `${OP}: spec.template.spec.volumes[${n - 1}] ("share"): expected one of configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret; found nfs`,
    ]);
  });

  it("an ephemeral container is checked like the others (policy/visitor.go)", async () => {
    const bad = rendered(OPERATOR, (d) => {
      d.spec.template.spec.ephemeralContainers = [{ name: "debug", image: "busybox:1.36", securityContext: { runAsNonRoot: false } }];
    });
    const E = `${OP}, container "debug" (spec.template.spec.ephemeralContainers[0])`;
    expect(await violations(podSecurity, bad)).toEqual([
      `${E}: securityContext.capabilities.drop: expected ["ALL"]; found none`,
      `${E}: securityContext.allowPrivilegeEscalation: expected false; found none`,
      `${E}: securityContext.runAsNonRoot: expected true or unset; found false`,
    ]);
  });

  it("privileged, procMount, SELinux, AppArmor, sysctls, hostProcess, root (the remaining baseline and restricted checks)", async () => {
    const bad = rendered(OPERATOR, (d) => {
      const pod = d.spec.template.spec;
      const sc = pod.containers[0].securityContext;
      Object.assign(sc, {
        privileged: true,
        procMount: "Unmasked",
        seLinuxOptions: { type: "spc_t", user: "system_u" },
        appArmorProfile: { type: "Unconfined" },
        runAsUser: 0,
      });
      pod.securityContext.sysctls = [{ name: "kernel.msgmax", value: "65536" }];
      pod.securityContext.windowsOptions = { hostProcess: true };
    });
    expect(await violations(podSecurity, bad)).toEqual([
      `${OP_C}: securityContext.privileged: expected false or unset; found true`,
      `${OP_C}: securityContext.appArmorProfile.type: expected unset, "RuntimeDefault" or "Localhost"; found "Unconfined"`,
      `${OP_C}: securityContext.seLinuxOptions.type: expected unset or one of container_t, container_init_t, container_kvm_t, container_engine_t; found "spc_t"`,
      `${OP_C}: securityContext.seLinuxOptions.user: expected unset; found "system_u"`,
      `${OP_C}: securityContext.procMount: expected "Default" or unset; found "Unmasked"`,
      `${OP}: spec.template.spec.securityContext.sysctls[0].name: expected a safe sysctl (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range, net.ipv4.ip_unprivileged_port_start, net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes, net.ipv4.tcp_rmem, net.ipv4.tcp_wmem); found "kernel.msgmax"`,
      `${OP}: spec.template.spec.securityContext.windowsOptions.hostProcess: expected false or unset; found true`,
      `${OP_C}: securityContext.runAsUser: expected a non-zero user id; found 0 (root)`,
    ]);
  });
});

describe("rbac-no-wildcards-or-escalation (mandatory)", () => {
  const CR = 'ClusterRole argo-rollouts (resource "rollouts-rbac")';
  it("passes the Argo Rollouts controller's ClusterRole as prod renders it (rollouts/spec.ts controllerRbac)", async () => {
    expect(await violations(rbacLeastPrivilege, rendered("rollouts-rbac"))).toEqual([]);
  });
  it("flags wildcards, escalation verbs and token minting; a named exception with a reason exempts the role", async () => {
    const bad = rendered("rollouts-rbac", (r) => {
      r.rules.push(
        { apiGroups: ["*"], resources: ["*/scale"], verbs: ["*"] },
        { apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["bind", "escalate"] },
        { apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] },
      );
    });
    const n = bad.inputs.rules.length;
    expect(await violations(rbacLeastPrivilege, bad)).toEqual([
      `${CR}: rules[${n - 3}].verbs: expected named verbs, no wildcard; found ["*"]`,
      `${CR}: rules[${n - 3}].resources: expected named resources, no wildcard; found ["*/scale"]`,
      `${CR}: rules[${n - 3}].apiGroups: expected named apiGroups, no wildcard; found ["*"]`,
      `${CR}: rules[${n - 2}].verbs: expected none of escalate, bind, impersonate (they grant more than the role holds); found ["bind","escalate"]`,
      `${CR}: rules[${n - 1}]: expected no "create" on "serviceaccounts/token" (it mints any service account's token); found {"apiGroups":[""],"resources":["serviceaccounts/token"],"verbs":["create"]}`,
    ]);
    const excepted = {
      ...PROD,
      config: { "rbac-no-wildcards-or-escalation": { exceptions: { "rollouts-rbac": "test: a reviewed grant" } } },
    };
    expect(await violations(rbacLeastPrivilege, bad, excepted)).toEqual([]);
    // An exception without a reason is none.
    const unexplained = { ...PROD, config: { "rbac-no-wildcards-or-escalation": { exceptions: { "rollouts-rbac": " " } } } };
    expect(await violations(rbacLeastPrivilege, bad, unexplained)).toHaveLength(5);
  });
});

describe("service-exposure (mandatory, prod)", () => {
  const QM = 'Service stf/queue-manager (resource "queue-manager-svc-queue-manager")';
  it("passes prod's ClusterIP Service and its Kafka external listener (the default named exception)", async () => {
    expect(await violations(serviceExposure, rendered("queue-manager-svc-queue-manager"))).toEqual([]);
    expect(await violations(serviceExposure, rendered("kafka-kafka"))).toEqual([]);
  });
  it("flags a NodePort or LoadBalancer Service and a listener not named in `allowed`", async () => {
    const nodePort = rendered("queue-manager-svc-queue-manager", (s) => (s.spec.type = "NodePort"));
    expect(await violations(serviceExposure, nodePort)).toEqual([
      `${QM}: spec.type: expected ClusterIP in production (or name "queue-manager-svc-queue-manager" with a reason in the rule's config "allowed"); found "NodePort"`,
    ]);
    const allowed = {
      ...PROD,
      config: { "service-exposure": { allowed: { "queue-manager-svc-queue-manager": "test: behind a firewall" } } },
    };
    expect(await violations(serviceExposure, nodePort, allowed)).toEqual([]);
    // A config that names something else replaces the default: the Kafka listener is then refused.
    expect(await violations(serviceExposure, rendered("kafka-kafka"), allowed)).toEqual([
      'Kafka kafka/k3 (resource "kafka-kafka"): spec.kafka.listeners[1] ("external").type: expected internal or cluster-ip in production (or name "kafka-kafka/external" with a reason in the rule\'s config "allowed"); found "loadbalancer"',
    ]);
  });
  it("does not apply to a stack declared dev", async () => {
    const lb = rendered("queue-manager-svc-queue-manager", (s) => (s.spec.type = "LoadBalancer"));
    expect((await runResourcePolicy(serviceExposure.policy, lb, { tags: { [ENVIRONMENT_TAG]: "dev" } })).notApplicable).toBe(
      "applies to production stacks only",
    );
  });
});

describe("kafka-production-durability (mandatory, prod)", () => {
  const K3 = 'Kafka kafka/k3 (resource "kafka-kafka")';
  it("passes prod's Kafka, node pools and topics", async () => {
    for (const r of prod.filter((x) => kafkaDurability.appliesTo(x.type)))
      expect(await violations(kafkaDurability, rendered(r.name))).toEqual([]);
    expect(prod.filter((x) => kafkaDurability.appliesTo(x.type)).length).toBeGreaterThan(3);
  });
  it("flags min ISR not below RF, unclean election, topic deletion on", async () => {
    const bad = rendered("kafka-kafka", (k) => {
      Object.assign(k.spec.kafka.config, { "min.insync.replicas": 3, "unclean.leader.election.enable": true });
      delete k.spec.kafka.config["delete.topic.enable"];
    });
    expect(await violations(kafkaDurability, bad)).toEqual([
      `${K3}: spec.kafka.config["min.insync.replicas"]: expected below spec.kafka.config["default.replication.factor"] (3), so one replica can be down and acks=all writes go on; found 3`,
      `${K3}: spec.kafka.config["unclean.leader.election.enable"]: expected false or unset (an out-of-sync leader drops acknowledged writes); found true`,
      `${K3}: spec.kafka.config["delete.topic.enable"]: expected false (Kafka's default is true; a topic goes only by retiring it, docs/data-safety.md); found none`,
    ]);
  });
  it("flags deleteClaim not false inside JBOD, and ephemeral storage on a broker pool", async () => {
    const P = 'KafkaNodePool kafka/brokers (resource "kafka-pool-brokers")';
    const claims = rendered("kafka-pool-brokers", (p) => {
      p.spec.storage.volumes[1].deleteClaim = true;
      delete p.spec.storage.volumes[0].deleteClaim;
    });
    expect(await violations(kafkaDurability, claims)).toEqual([
      `${P}: spec.storage.volumes[0].deleteClaim: expected false (the volumes outlive the cluster); found none`,
      `${P}: spec.storage.volumes[1].deleteClaim: expected false (the volumes outlive the cluster); found true`,
    ]);
    const ephemeral = rendered("kafka-pool-brokers", (p) => (p.spec.storage = { type: "ephemeral" }));
    expect(await violations(kafkaDurability, ephemeral)).toEqual([
      `${P}: spec.storage.type: expected "persistent-claim" (or "jbod" of them) for a broker's log; found "ephemeral"`,
    ]);
  });
});

describe("kafka-production-brokers (mandatory, prod, over the stack)", () => {
  const stack = (edit: (pools: any[]) => void = () => {}) => {
    const all = prod.map((r) => rendered(r.name));
    edit(all.filter((r) => r.type.endsWith(":KafkaNodePool")));
    return all;
  };
  it("passes prod: three brokers in the broker pool (the controller pool does not count)", async () => {
    expect((await runStackPolicy(kafkaBrokers.policy, stack(), PROD)).violations).toEqual([]);
  });
  it("flags two brokers, naming the pools it counted", async () => {
    const two = stack((pools) => (pools.find((p) => p.name === "kafka-pool-brokers").inputs.spec.replicas = 2));
    expect((await runStackPolicy(kafkaBrokers.policy, two, PROD)).violations).toEqual([
      'Kafka kafka/k3 (resource "kafka-kafka"): brokers (spec.replicas of the KafkaNodePools labelled strimzi.io/cluster="k3" with the broker role): expected >= 3; found 2 (kafka-pool-brokers: 2) [kafka-kafka]',
    ]);
  });
});

describe("stack-environment-declared (mandatory, over the stack)", () => {
  it("passes a stack tag or the pack's config; flags neither, and a value that is not an environment", async () => {
    const run = (options: RunOptions) => runStackPolicy(environmentDeclared.policy, [], options);
    expect((await run(PROD)).violations).toEqual([]);
    expect((await run({ config: { "stack-environment-declared": { environment: "dev" } } })).violations).toEqual([]);
    expect((await run({})).violations).toEqual([
      `Stack: expected the stack tag "${ENVIRONMENT_TAG}" (pulumi stack tag set ${ENVIRONMENT_TAG} <local|dev|prod>) or "environment" in the policy pack's config; found neither, so the production rules apply`,
    ]);
    expect((await run({ config: { "stack-environment-declared": { environment: "Prod" } } })).violations).toEqual([
      `Stack: the policy config's "environment": expected one of local, dev, prod; found "Prod", so the production rules apply`,
    ]);
  });
});
