/**
 * Calling listeners from a connection's read path without letting one of
 * them cost the connection or a message.
 *
 * `EventEmitter.emit` stops at the first listener that throws: the listeners
 * after it miss that message, and the error unwinds into whatever called
 * emit (here, the decoder: the connection would be torn down). `callEach`
 * calls each listener on its own instead and reports what it throws: as the
 * emitter's 'error' event when someone listens to it, else rethrown outside
 * the read path (an uncaught exception, as a throwing listener of any Node
 * emitter would be).
 *
 * An async listener whose promise rejects is a listener that throws: the
 * emitters calling listeners from the read path are made with
 * `LISTENER_REJECTIONS` (Node then reports a rejection from `emit` as the
 * emitter's 'error', or throws it on its own when nobody listens), and
 * `callEach`, which calls listeners itself, reports it the same way.
 */
import { captureRejectionSymbol, type EventEmitter } from 'node:events';

/** Options of an emitter whose listeners may be async: their rejections are reported, never unhandled. */
export const LISTENER_REJECTIONS = { captureRejections: true } as const;

/**
 * Called by the constructor of an emitter made with LISTENER_REJECTIONS: a
 * rejection is reported as a throw is. Node's own default emits it as 'error',
 * an 'error' listener's rejection too: that listener was called again with its
 * own failure, and the second rejection was unhandled all the same.
 */
export function reportRejections(emitter: EventEmitter): void {
  const onRejection = (err: unknown, event: string | symbol): void => {
    if (event !== 'error') return reportListenerError(emitter, err);
    queueMicrotask(() => {
      throw err; // an 'error' listener that failed: on its own, as safeEmit does
    });
  };
  Object.defineProperty(emitter, captureRejectionSymbol, { value: onRejection });
}

/** Report a listener's error: the emitter's 'error' event if listened to, else rethrown on its own. */
export function reportListenerError(emitter: EventEmitter, err: unknown): void {
  if (emitter.listenerCount('error') > 0) {
    try {
      emitter.emit('error', err);
      return;
    } catch (again) {
      err = again;
    }
  }
  queueMicrotask(() => {
    throw err;
  });
}

/** Emit an event; what a listener throws is reported, never raised into the caller. */
export function safeEmit(emitter: EventEmitter, event: string, ...args: unknown[]): void {
  try {
    emitter.emit(event, ...args);
  } catch (err) {
    if (event === 'error') {
      queueMicrotask(() => {
        throw err;
      });
    } else reportListenerError(emitter, err);
  }
}

/**
 * Call every listener of `event` with `value`, each on its own. One listener
 * (the common case) is just `emit`: nothing comes after it to be skipped.
 */
export function callEach(emitter: EventEmitter, event: string, value: unknown, n = emitter.listenerCount(event)): void {
  if (n === 0) return;
  if (n === 1) {
    try {
      emitter.emit(event, value);
    } catch (err) {
      reportListenerError(emitter, err);
    }
    return;
  }
  const fns = emitter.rawListeners(event); // raw: a once-listener removes itself when called
  for (let i = 0; i < fns.length; i++) {
    try {
      const result: unknown = fns[i]!.call(emitter, value);
      // As Node's captureRejections does for emit(): anything with a then() is a promise.
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
        (result as PromiseLike<unknown>).then(undefined, (err: unknown) => reportListenerError(emitter, err));
      }
    } catch (err) {
      reportListenerError(emitter, err);
    }
  }
}
