/**
 * When a replica may take a Lease, judged only by its own clock, as client-go's leaderelection does:
 * the `renewTime` in the Lease is the holder's clock, which may be minutes off this one, so it is
 * only a sign of life. A replica remembers when it last saw the record change; the Lease is
 * expired when it has not changed for the lease duration on this replica's clock. Pure.
 */

/** The parts of a coordination.k8s.io/v1 Lease the election reads. */
export interface LeaseRecord {
  readonly holder: string | undefined;
  /** As written by the holder (its clock): compared for change, never with this clock. */
  readonly renewTime: string | undefined;
  readonly durationSeconds: number;
  readonly transitions: number;
}

/** What this replica last saw of the Lease, and when by its own clock. */
export interface Observation {
  readonly record: string;
  readonly at: number;
}

const fingerprint = (r: LeaseRecord): string => JSON.stringify([r.holder ?? "", r.renewTime ?? "", r.durationSeconds, r.transitions]);

/** The observation after reading `record` at `now`: unchanged records keep the time they were first seen. */
export function observe(previous: Observation | undefined, record: LeaseRecord, now: number): Observation {
  const key = fingerprint(record);
  return previous?.record === key ? previous : { record: key, at: now };
}

/** Whether `identity` may write itself into the Lease now: it holds it, nobody does, or the holder went quiet for a whole lease on this clock. */
export function mayAcquire(identity: string, record: LeaseRecord, seen: Observation, now: number): boolean {
  if (!record.holder || record.holder === identity) return true;
  return now - seen.at >= record.durationSeconds * 1000;
}
