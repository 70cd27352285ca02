/**
 * Leader election on a coordination.k8s.io/v1 Lease, with controller-runtime's timings: a 15 s
 * lease, renewed every 2 s, given up if not renewed within 10 s. @kubernetes/client-node has
 * Lease objects but no elector, so this is the small loop client-go's leaderelection runs,
 * judging expiry by this replica's own clock (core/lease.ts), never by the holder's renewTime.
 *
 * The renew deadline bounds the requests themselves, as in client-go (tools/leaderelection/
 * leaderelection.go, LeaderElector.renew: each attempt runs under a context that times out at
 * RenewDeadline, wait.PollImmediateUntil before v0.27, wait.PollUntilContextTimeout since, and
 * tryAcquireOrRenew passes it to every Lease request). A renewal that hangs is aborted and
 * leadership is given up when the deadline passes, not when the request returns: the 5 s between
 * the renew deadline and the lease duration are what keep the old leader from still acting
 * when another replica may take over.
 */
import * as k8s from "@kubernetes/client-node";
import { type LeaseRecord, type Observation, mayAcquire, observe } from "../core/lease.js";
import { classify } from "../core/failures.js";
import { ApiError, type Clock, type Timers } from "../ports.js";
import { abortWith, apiError } from "./kube.js";

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

/**
 * The Lease API the elector needs; Kubernetes' below, an in-memory one in tests. `signal` aborts
 * a request whose deadline passed.
 */
export interface LeaseStore {
  read(signal?: AbortSignal): Promise<StoredLease | undefined>;
  /** False when someone created it first. */
  create(record: LeaseRecord & { acquireTime: string }, signal?: AbortSignal): Promise<boolean>;
  /** False when the Lease changed since `version` was read. */
  update(version: string, record: LeaseRecord & { acquireTime?: string }, signal?: AbortSignal): Promise<boolean>;
  /** Empties the holder, if it is still `identity`, so another replica takes over at once. */
  release(identity: string, signal?: AbortSignal): Promise<void>;
}

/** A Lease request that did not answer by its deadline (it was aborted). */
export class LeaseDeadlineExceeded extends Error {
  constructor(what: string, ms: number) {
    super(`The Lease ${what} did not answer within ${ms} ms`);
    this.name = "LeaseDeadlineExceeded";
  }
}

export class LeaseElector {
  private leading = false;
  private lastRenewed = 0;
  private seen: Observation | undefined;
  private cancelNext: (() => void) | undefined;
  private stopped = false;
  /** The round under way, which stop() lets finish before releasing. */
  private inFlight: Promise<void> | undefined;
  /** Whether the last round that answered left this replica holding the Lease. */
  private holds = false;

  constructor(
    private readonly store: LeaseStore,
    readonly identity: string,
    private readonly clock: Clock & Timers,
    private readonly callbacks: {
      onStartedLeading: () => void;
      /** Called at the renew deadline at the latest, even while a renewal request hangs. */
      onStoppedLeading: () => void;
      /** A failure that may pass: the next round tries again. */
      onError: (err: unknown) => void;
      /** The API server will keep refusing (no rights, namespace gone): retrying cannot help. */
      onTerminal: (err: ApiError) => void;
    },
    private readonly timings: LeaderTimings = DEFAULT_TIMINGS,
  ) {
    // client-go's NewLeaderElector refuses the same: a renew deadline at or past the lease
    // duration would let the old leader act while another replica may take over.
    if (timings.leaseDurationMs <= timings.renewDeadlineMs) throw new Error("leaseDurationMs must be greater than renewDeadlineMs");
    if (timings.renewDeadlineMs <= timings.retryPeriodMs) throw new Error("renewDeadlineMs must be greater than retryPeriodMs");
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      this.inFlight = this.step();
      await this.inFlight;
      if (!this.stopped) this.cancelNext = this.clock.after(this.timings.retryPeriodMs, () => void loop());
    };
    void loop();
  }

  /**
   * One round: acquire or renew, within the deadline, then give up leading if renewals failed
   * for the renew deadline. While leading the deadline is the last renewal plus the renew
   * deadline; otherwise an attempt gets the renew deadline, so a hung request never stalls the loop.
   */
  async step(): Promise<void> {
    const startedAt = this.clock.now();
    const budget = this.leading ? Math.max(0, this.lastRenewed + this.timings.renewDeadlineMs - startedAt) : this.timings.renewDeadlineMs;
    try {
      const held = await this.withDeadline(budget, this.leading ? "renewal" : "acquisition", (signal) => this.tryAcquireOrRenew(signal));
      this.holds = held;
      if (held) this.lastRenewed = this.clock.now();
      if (held && !this.leading && !this.stopped) {
        this.leading = true;
        this.callbacks.onStartedLeading();
      }
    } catch (err) {
      if (err instanceof ApiError && classify(err.status) === "terminal") this.callbacks.onTerminal(err);
      else this.callbacks.onError(err);
    }
    if (this.leading && this.clock.now() - this.lastRenewed >= this.timings.renewDeadlineMs) {
      this.leading = false;
      this.callbacks.onStoppedLeading();
    }
  }

  /**
   * Stops renewing and, if holding the Lease, releases it so another replica takes over at once
   * (client-go's ReleaseOnCancel), within the renew deadline. A round under way finishes first,
   * as in client-go, whose renew loop (wait.Until) returns only after its tryAcquireOrRenew and
   * only then calls release (tools/leaderelection/leaderelection.go, LeaderElector.renew): a
   * release racing a renewal would be refused with 409 Conflict and leave the Lease held for a
   * whole lease. The round is bounded by its own deadline.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelNext?.();
    // A round's failures are its own to report (step catches them); only its end matters here.
    await this.inFlight?.catch(() => undefined);
    const holds = this.leading || this.holds;
    this.leading = false;
    this.holds = false;
    if (!holds) return;
    try {
      await this.withDeadline(this.timings.renewDeadlineMs, "release", (signal) => this.store.release(this.identity, signal));
    } catch (err) {
      this.callbacks.onError(err);
    }
  }

  /** `attempt`'s outcome, or LeaseDeadlineExceeded after `ms` (and the attempt's requests aborted). */
  private withDeadline<T>(ms: number, what: string, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    return new Promise<T>((resolve, reject) => {
      const cancel = this.clock.after(ms, () => {
        reject(new LeaseDeadlineExceeded(what, ms));
        abort.abort();
      });
      attempt(abort.signal).then(
        (value) => {
          cancel();
          resolve(value);
        },
        (err: unknown) => {
          cancel();
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = this.clock.now();
    const renewTime = new Date(now).toISOString();
    const durationSeconds = Math.round(this.timings.leaseDurationMs / 1000);
    const current = await this.store.read(signal);
    if (!current)
      return this.store.create({ holder: this.identity, renewTime, acquireTime: renewTime, durationSeconds, transitions: 0 }, signal);
    this.seen = observe(this.seen, current.record, now);
    if (!mayAcquire(this.identity, current.record, this.seen, now)) return false;
    const takingOver = current.record.holder !== this.identity;
    return this.store.update(
      current.version,
      {
        holder: this.identity,
        renewTime,
        durationSeconds,
        transitions: current.record.transitions + (takingOver ? 1 : 0),
        ...(takingOver ? { acquireTime: renewTime } : {}),
      },
      signal,
    );
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
  const read = async (signal?: AbortSignal) => {
    try {
      return await api.readNamespacedLease({ name, namespace }, abortWith(signal));
    } catch (err) {
      if (err instanceof k8s.ApiException && err.code === 404) return undefined;
      throw apiError(err);
    }
  };
  return {
    async read(signal) {
      const lease = await read(signal);
      return lease && { record: toRecord(lease), version: lease.metadata?.resourceVersion ?? "" };
    },
    async create(record, signal) {
      try {
        await api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: toSpec(record) } }, abortWith(signal));
        return true;
      } catch (err) {
        if (conflict(err)) return false;
        throw apiError(err);
      }
    },
    async update(version, record, signal) {
      const lease = await read(signal);
      if (!lease || lease.metadata?.resourceVersion !== version) return false;
      try {
        await api.replaceNamespacedLease(
          { name, namespace, body: { ...lease, spec: { ...lease.spec, ...toSpec(record) } } },
          abortWith(signal),
        );
        return true;
      } catch (err) {
        if (conflict(err)) return false;
        throw apiError(err);
      }
    },
    async release(identity, signal) {
      const lease = await read(signal);
      if (lease?.spec?.holderIdentity !== identity) return;
      lease.spec.holderIdentity = undefined;
      await api.replaceNamespacedLease({ name, namespace, body: lease }, abortWith(signal));
    },
  };
}
