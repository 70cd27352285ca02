/**
 * The test kit's waits, for every test of the repository (the program's, the areas', the
 * operator's) and the chaos drill: `eventually` for what must come to pass, `consistently` for what
 * must not happen, and `pause` for a wait that is part of a scenario (a worker going silent by
 * design), named as such. No test polls or sleeps by hand.
 *
 * Why here, in the operator package: the operator is an ES-module package whose bench compiles
 * with `rootDir: "."`, so it cannot import files above it; the program (CommonJS) loads this
 * folder as it loads operator/src/contract.ts (tsconfig.json's ts-node `moduleTypes`). So the kit
 * imports nothing but Node, and loads as either.
 */

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Thrown by a check to stop waiting at once (the process it waits for has exited, say). */
export class GiveUp extends Error {}

/** Thrown by `eventually` when its time ran out: a caller that records the outcome (the drill) tells it from a failure. */
export class NotWithin extends Error {}

/**
 * Retries `check` (sync or async) every `intervalMs` until it returns a value other than undefined,
 * or throws naming `what` after `timeoutMs`. A check that throws counts as not yet (its last error
 * is in the timeout's message), except a `GiveUp`, which ends the wait at once.
 */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const start = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw new Error(`${what}: ${err.message}`, { cause: err });
      lastError = err;
    }
    if (Date.now() - start > timeoutMs)
      throw new NotWithin(
        `${what}: not within ${timeoutMs / 1000} s${lastError === undefined ? "" : ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})`}`,
      );
    await sleep(intervalMs);
  }
}

/**
 * `eventually`, where running out of time is an outcome the caller records (the drill's failed
 * hypothesis, the demo's "no relaunch"), not an error: undefined then. Anything else still throws.
 */
export async function within<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T | undefined> {
  try {
    return await eventually(what, check, timeoutMs, intervalMs);
  } catch (err) {
    if (err instanceof NotWithin) return undefined;
    throw err;
  }
}

/** What shows the system working while `consistently` waits: `read` (sync or async) must change at least once. */
export interface ProgressProbe {
  readonly what: string;
  readonly read: () => unknown;
}

/**
 * Holds `check` (true, or what it found instead) for `durationMs`, polled every `intervalMs`, and
 * fails unless `progress` changed meanwhile: an absence proves something only while the system was
 * seen working (a test that proves nothing happened also proves the system was running).
 */
export async function consistently(
  what: string,
  durationMs: number,
  check: () => true | string | Promise<true | string>,
  progress: ProgressProbe,
  intervalMs = 250,
): Promise<void> {
  const start = Date.now();
  const first = JSON.stringify(await progress.read());
  let moved = false;
  for (;;) {
    const found = await check();
    if (found !== true) throw new Error(`${what}: broken after ${((Date.now() - start) / 1000).toFixed(1)} s: ${found}`);
    moved ||= JSON.stringify(await progress.read()) !== first;
    if (Date.now() - start >= durationMs) break;
    await sleep(intervalMs);
  }
  if (!moved)
    throw new Error(`${what}: held for ${durationMs / 1000} s, but ${progress.what} never changed: the system was not seen running`);
}

/**
 * A wait that is part of the scenario, never before an assertion: workers reporting for a while
 * before one goes silent, a broker restart under way. `why` says what the scenario waits for.
 */
export async function pause(why: string, ms: number): Promise<void> {
  if (!why) throw new Error("a scenario's pause says what it waits for");
  await sleep(ms);
}
