/**
 * Explicit retry. A `RetryPolicy` says how many times a call may be tried,
 * how long to wait in between (constant or exponential, with jitter and a cap)
 * and which failures are worth another try.
 *
 * A policy never makes a written, non-read-only command run twice: the
 * connection only consults it for such a command when the caller declared
 * the call idempotent (`db.with({ retry, idempotent: true })`).
 */
import type { RetryDecision } from './connection/command.js';
import {
  BusyLoadingError,
  BusyScriptError,
  ReadOnlyError,
  ClusterDownError,
  ConnectionError,
  MasterDownError,
  NoReplicasError,
  PoolTimeoutError,
  TryAgainError,
  InvalidArgumentError,
} from './errors.js';
import { boolean, checkObject, integer, milliseconds, schema, MAX_TIMER_MS, type Validator } from './option-check.js';
import type { ReconnectStrategy } from './connection/options.js';

type ErrorClass = abstract new (...args: never[]) => Error;

export interface RetryOptions {
  /** Total tries including the first (default 3). */
  attempts?: number;
  /** Delay before the first retry in ms (default 50). */
  baseDelay?: number;
  /** Upper bound of any delay in ms (default 2000). */
  maxDelay?: number;
  /** Multiply the delay by this per retry (1 = constant; default 2 for exponential). */
  factor?: number;
  /** Randomise each delay within [delay/2, delay] so that clients do not retry in lockstep (default true). */
  jitter?: boolean;
  /**
   * Which failures are retried. Default: connection failures (lost, refused),
   * a pool lease that timed out, and the transient server states LOADING,
   * TRYAGAIN, CLUSTERDOWN, MASTERDOWN, BUSY, NOREPLICAS (too few replicas
   * for min-replicas-to-write: refused before running) and READONLY (a
   * failover: the connection is recycled first).
   */
  retryOn?: ErrorClass[];
}

export const DEFAULT_RETRY_ON: ErrorClass[] = [
  ConnectionError,
  PoolTimeoutError,
  BusyLoadingError,
  TryAgainError,
  ClusterDownError,
  MasterDownError,
  BusyScriptError,
  NoReplicasError,
  ReadOnlyError,
];

/** A try count: at least one (the first try), or Infinity (bounded by the command's deadline). */
const attempts = integer(1, Number.MAX_SAFE_INTEGER, true);
const factor: Validator = (v, name) => {
  if (typeof v !== 'number' || !(v >= 1) || !Number.isFinite(v)) throw new InvalidArgumentError(`option ${name} must be a finite number of at least 1`);
};
const retryOn: Validator = (v, name) => {
  if (!Array.isArray(v) || !v.every((c) => typeof c === 'function')) {
    throw new InvalidArgumentError(`option ${name} must be an array of error classes, e.g. [ConnectionError, BusyLoadingError]`);
  }
};
const COMMON = { attempts, jitter: boolean, retryOn };
const POLICY = schema({ ...COMMON, baseDelay: milliseconds, maxDelay: milliseconds, factor });
const EXPONENTIAL = POLICY;
const CONSTANT = schema({ ...COMMON, delay: milliseconds });

/**
 * Checks a policy's options as `new Redis()` checks its own: a misspelt key or
 * a wrong value would otherwise make a policy of defaults, or one that never
 * gives up (`attempts: NaN`), without a word.
 */
function checked<T>(opts: T, rules: typeof POLICY, where: string): T {
  checkObject(opts, rules, '', { where, hints: { maxAttempts: 'attempts', retries: 'attempts', delay: 'baseDelay', baseDelay: 'delay' } });
  return opts;
}

export class RetryPolicy implements RetryDecision {
  readonly attempts: number;
  readonly baseDelay: number;
  readonly maxDelay: number;
  readonly factor: number;
  readonly jitter: boolean;
  readonly retryOn: ErrorClass[];

  constructor(opts: RetryOptions = {}) {
    checked(opts, POLICY, 'new RetryPolicy()');
    this.attempts = Math.max(1, Math.floor(opts.attempts ?? 3));
    this.baseDelay = Math.max(0, opts.baseDelay ?? 50);
    this.maxDelay = Math.max(this.baseDelay, opts.maxDelay ?? 2000);
    this.factor = Math.max(1, opts.factor ?? 2);
    this.jitter = opts.jitter ?? true;
    this.retryOn = opts.retryOn ?? DEFAULT_RETRY_ON;
  }

  /** Waits `baseDelay * factor^n`, capped at `maxDelay`, jittered. */
  static exponential(opts: Omit<RetryOptions, 'factor'> & { factor?: number } = {}): RetryPolicy {
    return new RetryPolicy({ factor: 2, ...checked(opts, EXPONENTIAL, 'RetryPolicy.exponential()') });
  }

  /** Waits the same `delay` every time. */
  static constant(opts: Omit<RetryOptions, 'factor' | 'baseDelay' | 'maxDelay'> & { delay?: number } = {}): RetryPolicy {
    const { delay = 50, ...rest } = checked(opts, CONSTANT, 'RetryPolicy.constant()');
    return new RetryPolicy({ ...rest, baseDelay: delay, maxDelay: delay, factor: 1, jitter: opts.jitter ?? false });
  }

  /** Never retry. */
  static none(): RetryPolicy {
    return new RetryPolicy({ attempts: 1 });
  }

  /** Whether `err` is a failure this policy retries. */
  retries(err: unknown): boolean {
    return this.retryOn.some((cls) => err instanceof cls);
  }

  /** The delay in ms before try number `attempt + 1`, without jitter. */
  backoff(attempt: number): number {
    return Math.min(this.maxDelay, this.baseDelay * this.factor ** Math.max(0, attempt - 1));
  }

  /**
   * Delay before the next try after `attempt` tries failed with `err`, or -1
   * when the policy gives up.
   */
  delayFor(attempt: number, err: Error): number {
    if (attempt >= this.attempts || !this.retries(err)) return -1;
    const d = this.backoff(attempt);
    return this.jitter ? d / 2 + Math.random() * (d / 2) : d;
  }
}

/**
 * A user's `reconnect` function, made safe to call from inside a connection
 * being lost: its answer is a delay in ms (a timer's longest wait at most) or
 * it stops reconnecting, as -1 does. Anything else would break the rules: a
 * throw escaped half-way through the loss (nothing reconnected, nothing gave
 * up), and undefined (a missing return), NaN or Infinity made Node wait 1 ms,
 * a reconnect storm. ioredis' retryStrategy reads a non-number as "stop" too.
 */
export function guardedReconnect(strategy: ReconnectStrategy): ReconnectStrategy {
  return (attempt, cause) => {
    let delay: unknown;
    try {
      delay = strategy(attempt, cause);
    } catch {
      return -1;
    }
    if (typeof delay !== 'number' || !(delay >= 0) || delay === Infinity) return -1;
    return Math.min(delay, MAX_TIMER_MS);
  };
}
