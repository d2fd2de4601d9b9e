/**
 * What `stats().timeouts` counts: calls the user made whose deadline passed,
 * once each. A call a cluster runs as several commands (MGET, DEL, ... split
 * by slot; DBSIZE, KEYS, ... fanned out to every master) is one call: when
 * several of its parts time out (they usually do together: the same
 * deadline), the first one counted counts for the call, at its node, and the
 * others are not counted again.
 */
import type { Command } from './command.js';

/** The parts of one call, by part: whether a timeout of the call was counted yet. */
const calls = new WeakMap<Command, { counted: boolean }>();

/** `parts` are one call: a timeout among them is counted once. */
export function oneCall(parts: readonly Command[]): void {
  const call = { counted: false };
  for (const part of parts) calls.set(part, call);
}

/** The deadline of `cmd` passed: whether that is a timeout to count (false: its call was counted already). */
export function countsAsTimeout(cmd: Command): boolean {
  const call = calls.get(cmd);
  if (call === undefined) return true;
  if (call.counted) return false;
  call.counted = true;
  return true;
}
