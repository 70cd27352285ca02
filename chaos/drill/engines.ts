/**
 * What litmus-go 3.28.0's engines do, step by step, over ports the drill supplies. Pure but for
 * the ports.
 */

export interface SerialPodDeletePorts<T> {
  now(): number;
  sleep(ms: number): Promise<void>;
  /**
   * Deletes the target (grace 0 with FORCE) and returns a promise that resolves once its owner
   * runs it again: the drill starts a killed broker at once, as Strimzi's pod set recreates a pod.
   */
  kill(target: T): Promise<void>;
}

export interface Kill<T> {
  readonly target: T;
  /** ms from the fault's start. */
  readonly at: number;
  /** ms from the kill until it ran again. */
  readonly back: number;
}

/**
 * Serial pod-delete (chaoslib/litmus/pod-delete/lib/pod-delete.go L83-158): while less than
 * TOTAL_CHAOS_DURATION has passed (checked before each round, L83), for each target in turn:
 * delete it, wait CHAOS_INTERVAL (L135-141), then wait until its owner's pods are Running
 * (L144-154, pkg/status/application.go L327-341). Nothing in it waits for the application to
 * recover beyond its pods running: a broker's partitions may still be catching up at the next kill.
 */
export async function serialPodDelete<T>(
  targets: readonly T[],
  durationMs: number,
  intervalMs: number,
  ports: SerialPodDeletePorts<T>,
): Promise<Kill<T>[]> {
  const start = ports.now();
  const kills: Kill<T>[] = [];
  while (ports.now() - start < durationMs)
    for (const target of targets) {
      const killed = ports.now();
      let backAt: number | undefined;
      const running = ports.kill(target).then(() => void (backAt = ports.now()));
      // Settled later; a failed restart surfaces at the await below.
      running.catch(() => undefined);
      await ports.sleep(intervalMs);
      await running;
      kills.push({ target, at: killed - start, back: backAt! - killed });
    }
  return kills;
}
