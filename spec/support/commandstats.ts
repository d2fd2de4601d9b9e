/**
 * What the server says it ran (INFO commandstats): specs that check a command
 * was sent once, never, or not again count it there, not in the client.
 */
import { Redis, type Database } from '../../lib/index.js';

/** How many times the server ran `command` (a name, or `container|sub` such as `script|load`; any case), asked through `on`. */
export async function calls(on: Redis | Database, command: string): Promise<number> {
  const db = on instanceof Redis ? on.db : on;
  const info = String(await db.reply('INFO', 'commandstats'));
  const m = new RegExp(`^cmdstat_${command.toLowerCase().replace('|', '\\|')}:calls=(\\d+)`, 'm').exec(info);
  return m ? Number(m[1]) : 0;
}
