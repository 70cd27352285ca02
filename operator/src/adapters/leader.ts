/**
 * Leader election on a coordination.k8s.io/v1 Lease, with controller-runtime's timings: a 15 s
 * lease, renewed every 2 s, given up if not renewed within 10 s. @kubernetes/client-node has
 * Lease objects but no elector, so this is the small loop client-go's leaderelection runs.
 */
import * as k8s from "@kubernetes/client-node";
import type { Clock } from "../ports.js";

export interface LeaderTimings {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export const DEFAULT_TIMINGS: LeaderTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

export class LeaseElector {
  private readonly api: k8s.CoordinationV1Api;
  private leading = false;
  private lastRenewed = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    kc: k8s.KubeConfig,
    private readonly namespace: string,
    private readonly name: string,
    readonly identity: string,
    private readonly clock: Clock,
    private readonly callbacks: { onStartedLeading: () => void; onStoppedLeading: () => void; onError: (err: unknown) => void },
    private readonly timings: LeaderTimings = DEFAULT_TIMINGS,
  ) {
    this.api = kc.makeApiClient(k8s.CoordinationV1Api);
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      try {
        const held = await this.tryAcquireOrRenew();
        if (held) this.lastRenewed = this.clock.now();
        if (held && !this.leading) {
          this.leading = true;
          this.callbacks.onStartedLeading();
        }
      } catch (err) {
        this.callbacks.onError(err);
      }
      if (this.leading && this.clock.now() - this.lastRenewed > this.timings.renewDeadlineMs) {
        this.leading = false;
        this.callbacks.onStoppedLeading();
      }
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.timings.retryPeriodMs);
    };
    void loop();
  }

  /** Stops renewing and, if leading, releases the Lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace });
      if (lease.spec?.holderIdentity === this.identity) {
        lease.spec.holderIdentity = undefined;
        lease.spec.leaseDurationSeconds = 1;
        await this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body: lease });
      }
    } catch (err) {
      this.callbacks.onError(err);
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new k8s.V1MicroTime(this.clock.now());
    const durationSeconds = Math.round(this.timings.leaseDurationMs / 1000);
    let lease: k8s.V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace });
    } catch (err) {
      if (!(err instanceof k8s.ApiException && err.code === 404)) throw err;
      try {
        await this.api.createNamespacedLease({
          namespace: this.namespace,
          body: {
            metadata: { name: this.name, namespace: this.namespace },
            spec: {
              holderIdentity: this.identity,
              leaseDurationSeconds: durationSeconds,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        });
        return true;
      } catch (createErr) {
        if (createErr instanceof k8s.ApiException && createErr.code === 409) return false;
        throw createErr;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity;
    const renewedAt = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = renewedAt + (spec.leaseDurationSeconds ?? durationSeconds) * 1000 < this.clock.now();
    if (holder && holder !== this.identity && !expired) return false;
    const takingOver = holder !== this.identity;
    lease.spec = {
      ...spec,
      holderIdentity: this.identity,
      leaseDurationSeconds: durationSeconds,
      renewTime: now,
      ...(takingOver ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
    };
    try {
      // replace carries the resourceVersion read above: two contenders cannot both win.
      await this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body: lease });
      return true;
    } catch (err) {
      if (err instanceof k8s.ApiException && err.code === 409) return false;
      throw err;
    }
  }
}
