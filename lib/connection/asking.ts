/**
 * ASKING, the one-shot permission a cluster node needs to run a command for a
 * slot it is importing (after the slot's source answered ASK). It covers the
 * next command on its connection only, so it is written right before it, as a
 * contiguous group: on the shared socket, or on a leased one for a blocking
 * command (pool.ts), which keeps the permission while it blocks.
 */
import { commandInfo } from '../commands/index.js';
import { InternalCommand } from './command.js';

/** An ASKING to write before a command (or a MULTI block) redirected by ASK: its reply is nobody's business. */
export function asking(): InternalCommand {
  return new InternalCommand('ASKING', [], commandInfo('ASKING'), () => {});
}
