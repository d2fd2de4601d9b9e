import type { Redis } from '../../lib/index.js';

/** The pub/sub connections on the server `admin` talks to (CLIENT LIST TYPE pubsub), with how many channels and patterns each has subscribed. */
export async function pubsubClients(admin: Redis): Promise<{ sub: number; psub: number }[]> {
  const list = String(await admin.db.reply('CLIENT', 'LIST', 'TYPE', 'pubsub'));
  return list
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => ({ sub: Number(/ sub=(\d+)/.exec(l)![1]), psub: Number(/ psub=(\d+)/.exec(l)![1]) }));
}
