/** The experiment Job, the latency helper and the attacks on the chaos pod guard, for its unit test and its itest. */
import type { ChaosConfig } from "../config";

/** The experiment Job chaos-runner makes from a ChaosExperiment definition (chaos-runner 3.18.0 pkg/utils/builders.go). */
export function experimentJob(
  fault: string,
  definition: { image: string; command: readonly string[]; args: readonly string[]; securityContext?: any },
  namespace = "chaos",
) {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: `${fault}-x7k2ab`, namespace },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          serviceAccountName: `chaos-${fault}`,
          restartPolicy: "Never",
          securityContext: definition.securityContext?.podSecurityContext,
          containers: [
            {
              name: fault,
              image: definition.image,
              command: [...definition.command],
              args: [...definition.args],
              securityContext: definition.securityContext?.containerSecurityContext,
            },
          ],
        },
      },
    },
  };
}

/** The network-latency helper as litmus-go 3.28.0 makes it (chaoslib/litmus/network-chaos/lib/network-chaos.go L181-239). */
export function helperPod(chaos: Pick<ChaosConfig, "runnerImage" | "socketPath">, namespace = "chaos") {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "pod-network-latency-helper-abcde", namespace },
    spec: {
      hostPID: true,
      serviceAccountName: "chaos-pod-network-latency",
      restartPolicy: "Never",
      nodeName: "node-1",
      volumes: [{ name: "cri-socket", hostPath: { path: chaos.socketPath } }],
      containers: [
        {
          name: "pod-network-latency",
          image: chaos.runnerImage,
          command: ["/bin/bash"],
          args: ["-c", "./helpers -name network-chaos"],
          // getPodEnv (network-chaos.go L271-294); empty values are left out (common.go SetEnv L128-136).
          env: [
            { name: "TARGETS", value: "q1-loader-producer-abcde:stf:loader-producer" },
            { name: "TOTAL_CHAOS_DURATION", value: "60" },
            { name: "CHAOS_NAMESPACE", value: namespace },
            { name: "CHAOSENGINE", value: "worker-network-latency-1" },
            { name: "CHAOS_UID", value: "5f0c5e4a-1b2c-4d3e-8f90-123456789abc" },
            { name: "CONTAINER_RUNTIME", value: "containerd" },
            { name: "NETEM_COMMAND", value: "netem delay 200ms 20ms" },
            { name: "NETWORK_INTERFACE", value: "eth0" },
            { name: "EXPERIMENT_NAME", value: "pod-network-latency" },
            { name: "SOCKET_PATH", value: chaos.socketPath },
            { name: "DESTINATION_IPS", value: "10.0.0.10,10.0.0.11" },
            { name: "POD_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
          ],
          volumeMounts: [{ name: "cri-socket", mountPath: chaos.socketPath }],
          securityContext: { privileged: true, capabilities: { add: ["NET_ADMIN", "SYS_ADMIN"] } },
        },
      ],
    },
  };
}

/** [what, the fault whose token sends it, the object, the guard's refusal]. The pod-delete account may not create pods at all: RBAC refuses that one first. */
export function chaosAttacks(
  chaos: Pick<ChaosConfig, "runnerImage" | "socketPath" | "priorityClasses">,
  namespace = "chaos",
): [string, string, any, string][] {
  const def = { image: chaos.runnerImage, command: ["/bin/bash"], args: ["-c", "./experiments -name pod-delete"] };
  const job = (edit: (pod: any) => void) => {
    const j: any = experimentJob("pod-delete", def, namespace);
    edit(j.spec.template.spec);
    return j;
  };
  const helper = (edit: (pod: any) => void) => {
    const p: any = helperPod(chaos, namespace);
    edit(p.spec);
    return p;
  };
  const image = chaos.runnerImage;
  const priorities = chaos.priorityClasses.length ? `none or one of ${chaos.priorityClasses.join(", ")}` : "none";
  return [
    [
      "a root shell on the node from the experiment Job",
      "pod-delete",
      job((pod) => {
        Object.assign(pod, { hostPID: true, volumes: [{ name: "root", hostPath: { path: "/" } }] });
        pod.containers[0].securityContext = { privileged: true };
      }),
      "spec.template.spec.hostNetwork, hostIPC, hostPID, volumes[].hostPath, securityContext: expected nothing of the host in the experiment Job, and only " +
        `${chaos.socketPath} mounted in the helper; found hostPID, hostPath /, privileged or escalating pod-delete`,
    ],
    [
      "another image",
      "pod-delete",
      job((pod) => (pod.containers[0].image = "docker.io/library/alpine:3")),
      `spec.template.spec.containers: expected one container, ${image} running /bin/bash -c ./experiments -name pod-delete; found docker.io/library/alpine:3 /bin/bash -c ./experiments -name pod-delete`,
    ],
    [
      "another command",
      "pod-delete",
      job((pod) => (pod.containers[0].args = ["-c", "nsenter -t 1 -m sh"])),
      `spec.template.spec.containers: expected one container, ${image} running /bin/bash -c ./experiments -name pod-delete; found ${image} /bin/bash -c nsenter -t 1 -m sh`,
    ],
    [
      "another fault's account",
      "pod-delete",
      job((pod) => (pod.serviceAccountName = "chaos-pod-network-latency")),
      "spec.template.spec.serviceAccountName: expected chaos-pod-delete, the fault's own; found chaos-pod-network-latency",
    ],
    [
      "a pod made by the pod-delete account",
      "pod-delete",
      helperPod(chaos, namespace),
      "kind: expected the experiment Job, or the network-latency helper pod; found a Pod made by system:serviceaccount:" +
        namespace +
        ":chaos-pod-delete",
    ],
    [
      "a helper mounting the node's root",
      "pod-network-latency",
      helper((pod) => pod.volumes.push({ name: "root", hostPath: { path: "/" } })),
      "spec.hostNetwork, hostIPC, hostPID, volumes[].hostPath, securityContext: expected nothing of the host in the experiment Job, and only " +
        `${chaos.socketPath} mounted in the helper; found hostPath ${chaos.socketPath}, hostPath /`,
    ],
    [
      "a helper running a shell of its own",
      "pod-network-latency",
      helper((pod) => (pod.containers[0].args = ["-c", "chroot /proc/1/root sh"])),
      `spec.containers: expected one container, ${image} running /bin/bash -c ./helpers -name network-chaos; found ${image} /bin/bash -c chroot /proc/1/root sh`,
    ],
    [
      "a helper whose netem command runs a shell on the node (netem.go L193-198 runs it through bash -c)",
      "pod-network-latency",
      helper((pod) =>
        pod.containers[0].env.splice(6, 1, { name: "NETEM_COMMAND", value: "netem delay 1ms 0ms; nsenter -t 1 -m -u -i -n -p -- sh" }),
      ),
      "spec.containers[0].env, spec.volumes: expected the helper's env as litmus-go builds it (names TARGETS, TOTAL_CHAOS_DURATION, CHAOS_NAMESPACE, CHAOSENGINE, CHAOS_UID, CONTAINER_RUNTIME, NETEM_COMMAND, NETWORK_INTERFACE, EXPERIMENT_NAME, SOCKET_PATH, INSTANCE_ID, DESTINATION_IPS, DESTINATION_IPS_SERVICE_MESH, SOURCE_PORTS, DESTINATION_PORTS, OTEL_EXPORTER_OTLP_ENDPOINT, TRACE_PARENT, POD_NAME from metadata.name) and only the runtime socket and the API token mounted; found env NETEM_COMMAND",
    ],
    [
      "a helper running ./helpers from a downwardAPI file in its working directory",
      "pod-network-latency",
      helper((pod) => {
        pod.containers[0].workingDir = "/x";
        pod.volumes.push({
          name: "x",
          downwardAPI: { items: [{ path: "helpers", fieldRef: { fieldPath: "metadata.annotations['x']" } }] },
        });
      }),
      "spec.containers[].workingDir, envFrom: expected neither (chaos-runner and litmus-go set none); found them in containers[pod-network-latency]",
    ],
    [
      "an experiment Job as root with added capabilities and no seccomp",
      "pod-delete",
      job((pod) => {
        pod.securityContext = { runAsUser: 0, seccompProfile: { type: "Unconfined" } };
        pod.containers[0].securityContext = { capabilities: { add: ["SYS_MODULE", "SYS_ADMIN"] } };
      }),
      "spec.template.spec.securityContext, volumes: expected no root, no added capabilities, no Unconfined seccomp or AppArmor profile, and only configMap and secret volumes in the experiment Job",
    ],
    [
      "a helper on the host's network",
      "pod-network-latency",
      helper((pod) => (pod.hostNetwork = true)),
      "spec.hostNetwork, hostIPC, hostPID, volumes[].hostPath, securityContext: expected nothing of the host in the experiment Job, and only " +
        `${chaos.socketPath} mounted in the helper; found hostNetwork, hostPath ${chaos.socketPath}`,
    ],
    [
      "an experiment Job whose priority class preempts the brokers",
      "pod-delete",
      job((pod) => (pod.priorityClassName = "system-node-critical")),
      `spec.template.spec.priorityClassName, schedulingGroup: expected ${priorities} (streamforge:chaos.priorityClasses) and no scheduling group, whose PodGroup's class would decide what the pod preempts; found system-node-critical`,
    ],
    [
      "a helper whose priority class preempts what runs on its node",
      "pod-network-latency",
      helper((pod) => (pod.priorityClassName = "system-cluster-critical")),
      `spec.priorityClassName, schedulingGroup: expected ${priorities} (streamforge:chaos.priorityClasses) and no scheduling group, whose PodGroup's class would decide what the pod preempts; found system-cluster-critical`,
    ],
  ];
}
