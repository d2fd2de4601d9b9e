/**
 * Typed events for the public emitters (`Redis`, `Subscriber`, `Keyspace`):
 * types only. Each emitter declares an interface of its events (name ->
 * listener arguments) and merges the listener methods below into its class,
 * so `on('redy', ...)` or a listener of the wrong shape does not compile.
 * Events without arguments take `[none?: undefined]`, so a promise's resolve
 * function (`new Promise((r) => redis.once('close', r))`) still fits.
 */

/** A listener of an event whose arguments are `A`. */
export type Listener<A> = (...args: A extends unknown[] ? A : never) => void;
