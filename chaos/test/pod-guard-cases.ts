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
          volumeMounts: [{ name: "cri-socket", mountPath: chaos.socketPath }],
          securityContext: { privileged: true, capabilities: { add: ["NET_ADMIN", "SYS_ADMIN"] } },
        },
      ],
    },
  };
}

/** [what, the fault whose token sends it, the object, the guard's refusal]. The pod-delete account may not create pods at all: RBAC refuses that one first. */
export function chaosAttacks(chaos: Pick<ChaosConfig, "runnerImage" | "socketPath">, namespace = "chaos"): [string, string, any, string][] {
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
      "a helper on the host's network",
      "pod-network-latency",
      helper((pod) => (pod.hostNetwork = true)),
      "spec.hostNetwork, hostIPC, hostPID, volumes[].hostPath, securityContext: expected nothing of the host in the experiment Job, and only " +
        `${chaos.socketPath} mounted in the helper; found hostNetwork, hostPath ${chaos.socketPath}`,
    ],
  ];
}
