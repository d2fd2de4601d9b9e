import type { Redis } from '../../lib/index.js';

/** The pid of the server `redis` talks to (INFO server), to freeze it. */
export async function serverPid(redis: Redis): Promise<number> {
  return Number(/process_id:(\d+)/.exec(String(await redis.db.reply('INFO', 'server')))![1]);
}

/**
 * Freeze a server process (SIGSTOP) while a spec makes its calls: the
 * process reads and answers nothing, its sockets stay open, and everything
 * sent meanwhile reaches it together once it goes on (SIGCONT), whatever
 * `body` throws.
 */
export async function whileStopped<T>(pid: number, body: () => T | Promise<T>): Promise<T> {
  process.kill(pid, 'SIGSTOP');
  try {
    return await body();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}
