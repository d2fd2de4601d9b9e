/**
 * Re-authenticating a live connection before its token expires. A provider
 * that says when its credentials expire (`expiresAt`, epoch ms) is asked
 * again at three quarters of their lifetime (fetch to expiry, at least 1 s
 * after the fetch), and `AUTH` is sent on the connection, in line with the
 * other commands: servers that drop connections whose token expired (cloud
 * IAM tokens) never see one. A failure is reported (the client's 'error'
 * event) and tried again halfway to the expiry; if the token expires anyway,
 * the server drops the connection and the reconnect asks the provider afresh.
 * A connection that cannot take AUTH (a RESP2 subscriber) is reconnected
 * instead, when its refresh is due.
 */
import { RedisError } from '../errors.js';
import type { Arg } from '../resp/encoder.js';
import type { Reply } from '../resp/types.js';
import { askProvider, type Dialed } from './dial.js';
import { withoutPassword, type CredentialsProvider } from './handshake.js';
import type { Link } from './link.js';

const MAX_TIMER = 2 ** 31 - 1;

export interface Reauth {
  provider: CredentialsProvider;
  /** Bound of one provider call (ms). */
  bound: number;
  /** Send one internal command on `link` (a rejected promise if the link is gone). */
  send(parts: Arg[]): Promise<Reply>;
  /** A refresh failed (the connection keeps its current authentication meanwhile). */
  failed(err: Error): void;
  /**
   * Set when the connection cannot take AUTH (a RESP2 subscriber: the server refuses every command but
   * (P|S)(UN)SUBSCRIBE, PING, QUIT and RESET): it is reconnected instead when due, which asks the provider afresh.
   */
  renew?: ((why: string) => void) | undefined;
}

/** When to refresh credentials fetched at `fetchedAt` that expire at `expiresAt`. */
export function refreshAt(fetchedAt: number, expiresAt: number): number {
  return fetchedAt + Math.max(1000, ((expiresAt - fetchedAt) * 3) / 4);
}

/** Arm the refresh of `link` for `credentials` (nothing when they do not expire). */
export function scheduleReauth(link: Link, credentials: Dialed['credentials'], r: Reauth): void {
  const expiresAt = credentials?.expiresAt;
  if (expiresAt === undefined) return;
  arm(link, refreshAt(credentials!.fetchedAt, expiresAt), expiresAt, r);
}

function arm(link: Link, at: number, expiresAt: number, r: Reauth): void {
  clearTimeout(link.reauth);
  link.reauth = setTimeout(() => void refresh(link, expiresAt, r), Math.min(MAX_TIMER, Math.max(0, at - Date.now())));
  link.reauth.unref(); // a pending refresh never keeps the process alive
}

async function refresh(link: Link, expiresAt: number, r: Reauth): Promise<void> {
  if (!link.ready) return;
  if (r.renew) return r.renew('re-authenticating a RESP2 subscriber connection (AUTH is refused while subscribed): reconnecting');
  let password: string | undefined;
  try {
    const c = await askProvider(r.provider, r.bound);
    if (!link.ready) return;
    password = c.password;
    await r.send(c.username ? ['AUTH', c.username, c.password] : ['AUTH', c.password]); // '' is no user, as in the handshake
    if (c.expiresAt !== undefined && link.ready) arm(link, refreshAt(Date.now(), c.expiresAt), c.expiresAt, r);
  } catch (refusal) {
    if (!link.ready) return;
    const err = withoutPassword(refusal, password); // a proxy may quote the token back
    const why = err instanceof RedisError ? err : new RedisError('re-authentication failed', 'ERR_REAUTH', { cause: err });
    r.failed(why);
    const now = Date.now();
    if (expiresAt - now > 2000) arm(link, now + (expiresAt - now) / 2, expiresAt, r);
  }
}
