/**
 * Leader election on a coordination.k8s.io/v1 Lease, with controller-runtime's timings: a 15 s
 * lease, renewed every 2 s, given up if not renewed within 10 s. @kubernetes/client-node has
 * Lease objects but no elector, so this is the small loop client-go's leaderelection runs,
 * judging expiry by this replica's own clock (core/lease.ts), never by the holder's renewTime.
 */
import * as k8s from "@kubernetes/client-node";
import { type LeaseRecord, type Observation, mayAcquire, observe } from "../core/lease.js";
import { classify } from "../core/failures.js";
import { ApiError, type Clock } from "../ports.js";
import { apiError } from "./kube.js";

export interface LeaderTimings {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export const DEFAULT_TIMINGS: LeaderTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** One Lease as the elector sees it; `version` guards a write against a concurrent one. */
export interface StoredLease {
  readonly record: LeaseRecord;
  readonly version: string;
}

/** The Lease API the elector needs; Kubernetes' below, an in-memory one in tests. */
export interface LeaseStore {
  read(): Promise<StoredLease | undefined>;
  /** False when someone created it first. */
  create(record: LeaseRecord & { acquireTime: string }): Promise<boolean>;
  /** False when the Lease changed since `version` was read. */
  update(version: string, record: LeaseRecord & { acquireTime?: string }): Promise<boolean>;
  /** Empties the holder, if it is still `identity`, so another replica takes over at once. */
  release(identity: string): Promise<void>;
}

export class LeaseElector {
  private leading = false;
  private lastRenewed = 0;
  private seen: Observation | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly store: LeaseStore,
    readonly identity: string,
    private readonly clock: Clock,
    private readonly callbacks: {
      onStartedLeading: () => void;
      onStoppedLeading: () => void;
      /** A failure that may pass: the next round tries again. */
      onError: (err: unknown) => void;
      /** The API server will keep refusing (no rights, namespace gone): retrying cannot help. */
      onTerminal: (err: ApiError) => void;
    },
    private readonly timings: LeaderTimings = DEFAULT_TIMINGS,
  ) {}

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      await this.step();
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.timings.retryPeriodMs);
    };
    void loop();
  }

  /** One round: acquire or renew, then give up leading if renewals failed for the renew deadline. */
  async step(): Promise<void> {
    try {
      const held = await this.tryAcquireOrRenew();
      if (held) this.lastRenewed = this.clock.now();
      if (held && !this.leading) {
        this.leading = true;
        this.callbacks.onStartedLeading();
      }
    } catch (err) {
      if (err instanceof ApiError && classify(err.status) === "terminal") this.callbacks.onTerminal(err);
      else this.callbacks.onError(err);
    }
    if (this.leading && this.clock.now() - this.lastRenewed > this.timings.renewDeadlineMs) {
      this.leading = false;
      this.callbacks.onStoppedLeading();
    }
  }

  /** Stops renewing and, if leading, releases the Lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      await this.store.release(this.identity);
    } catch (err) {
      this.callbacks.onError(err);
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const renewTime = new Date(now).toISOString();
    const durationSeconds = Math.round(this.timings.leaseDurationMs / 1000);
    const current = await this.store.read();
    if (!current) return this.store.create({ holder: this.identity, renewTime, acquireTime: renewTime, durationSeconds, transitions: 0 });
    this.seen = observe(this.seen, current.record, now);
    if (!mayAcquire(this.identity, current.record, this.seen, now)) return false;
    const takingOver = current.record.holder !== this.identity;
    return this.store.update(current.version, {
      holder: this.identity,
      renewTime,
      durationSeconds,
      transitions: current.record.transitions + (takingOver ? 1 : 0),
      ...(takingOver ? { acquireTime: renewTime } : {}),
    });
  }
}

/** The Lease in the API server. `replace` carries the resourceVersion read: two contenders cannot both win. */
export function kubeLeaseStore(kc: k8s.KubeConfig, namespace: string, name: string): LeaseStore {
  const api = kc.makeApiClient(k8s.CoordinationV1Api);
  const conflict = (err: unknown) => err instanceof k8s.ApiException && err.code === 409;
  const toRecord = (lease: k8s.V1Lease): LeaseRecord => ({
    holder: lease.spec?.holderIdentity || undefined,
    renewTime: lease.spec?.renewTime ? new Date(lease.spec.renewTime).toISOString() : undefined,
    durationSeconds: lease.spec?.leaseDurationSeconds ?? 15,
    transitions: lease.spec?.leaseTransitions ?? 0,
  });
  const toSpec = (r: LeaseRecord & { acquireTime?: string }): k8s.V1LeaseSpec => ({
    holderIdentity: r.holder,
    leaseDurationSeconds: r.durationSeconds,
    renewTime: r.renewTime ? new k8s.V1MicroTime(r.renewTime) : undefined,
    leaseTransitions: r.transitions,
    ...(r.acquireTime ? { acquireTime: new k8s.V1MicroTime(r.acquireTime) } : {}),
  });
  const read = async () => {
    try {
      return await api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (err instanceof k8s.ApiException && err.code === 404) return undefined;
      throw apiError(err);
    }
  };
  return {
    async read() {
      const lease = await read();
      return lease && { record: toRecord(lease), version: lease.metadata?.resourceVersion ?? "" };
    },
    async create(record) {
      try {
        await api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: toSpec(record) } });
        return true;
      } catch (err) {
        if (conflict(err)) return false;
        throw apiError(err);
      }
    },
    async update(version, record) {
      const lease = await read();
      if (!lease || lease.metadata?.resourceVersion !== version) return false;
      try {
        await api.replaceNamespacedLease({ name, namespace, body: { ...lease, spec: { ...lease.spec, ...toSpec(record) } } });
        return true;
      } catch (err) {
        if (conflict(err)) return false;
        throw apiError(err);
      }
    },
    async release(identity) {
      const lease = await read();
      if (lease?.spec?.holderIdentity !== identity) return;
      lease.spec.holderIdentity = undefined;
      await api.replaceNamespacedLease({ name, namespace, body: lease });
    },
  };
}
