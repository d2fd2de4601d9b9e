/**
 * Handshake steps that a busy server refused before running them: `CLIENT
 * TRACKING ON` (and `CLIENT MAINT_NOTIFICATIONS ON`, and `SELECT`: select.ts)
 * answered BUSY while another client's script runs (HELLO is allowed then,
 * CLIENT and SELECT are not), or LOADING. That is no refusal, so the
 * connection asks again, with a backoff, until the server runs the step or
 * refuses it for good.
 *
 * The connection opens meanwhile rather than wait for the server to be free:
 * SCRIPT KILL, the way out of a runaway script, is among what a busy server
 * runs, and a handshake that failed at every attempt until the script ended
 * could never send it. Until tracking is on, the connection is reported
 * untracked and the client-side cache passes its reads through (never stale);
 * until SELECT ran, only what runs in no database is written (select.ts).
 */
import { refusedBeforeRunning } from '../errors.js';
import type { Arg } from '../resp/encoder.js';
import type { Send } from './handshake.js';

const FIRST_DELAY = 50;
const MAX_DELAY = 1000;

/**
 * Send each of `steps` again after a backoff until it runs (`agreed(step)`)
 * or is refused for good (`refused(step, err)`, if given: else it stays off).
 * `send` writes on one connection only: once that connection is lost it
 * refuses (ConnectionLostError, also given to `refused`) and the asking ends
 * (the next handshake asks anew). One unref'd timer per waiting step: an open
 * connection's socket keeps the process alive, a closed one ends the wait.
 */
export function askWhenFree(send: Send, steps: readonly Arg[][], agreed: (step: Arg[]) => void, refused?: (step: Arg[], err: unknown) => void): void {
  const ask = (step: Arg[], delay: number): void => {
    setTimeout(() => {
      send(step).then(
        () => agreed(step), // a reply comes on the connection it was written to only, while it is current
        (err: unknown) => (refusedBeforeRunning(err) ? ask(step, Math.min(2 * delay, MAX_DELAY)) : refused?.(step, err)), // lost, or refused (an ACL)
      );
    }, delay).unref();
  };
  for (const step of steps) ask(step, FIRST_DELAY);
}
