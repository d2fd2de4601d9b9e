/**
 * How many clients the server has blocked in `cmd` (CLIENT LIST: flag b, and
 * the command's lower-case name): what a spec waits for when a blocking
 * command must really be blocking before the next step, instead of a pause
 * that assumes it is. Ask on a connection of its own (an admin client).
 */
import type { Database } from '../../lib/index.js';

export async function blockedIn(admin: Database, cmd: string): Promise<number> {
  return blockedInList(String(await admin.reply('CLIENT', 'LIST')), cmd);
}

/** The same count, from the text of a CLIENT LIST reply (one a spec got some other way). */
export function blockedInList(clientList: string, cmd: string): number {
  return clientList.split('\n').filter((line) => / flags=\w*b/.test(line) && line.includes(` cmd=${cmd.toLowerCase()} `)).length;
}
