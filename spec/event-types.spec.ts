/**
 * The payloads of Redis's events have exported names a handler can be typed
 * with, like 'ready''s ReadyInfo: 'reconnecting' (ReconnectingInfo),
 * 'commandError''s second argument (CommandErrorContext) and 'orphanedReply'
 * (OrphanedReplyInfo). A strict consumer of the built declarations compiles
 * with them, each is exactly the type the listener is given, and the
 * `@ts-expect-error` lines stay errors. Needs `npm run build` first.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useConsumerProject } from './support/consumer-project.js';

const project = useConsumerProject('event-types', 'module');

const CONSUMER = `
import { Redis, type CommandErrorContext, type OrphanedReplyInfo, type ReconnectingInfo, type RedisEvents, type Reply } from 'redmux';

type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
function same<X, Y>(check: Equal<X, Y>): void {
  void check;
}

export function listen(redis: Redis): void {
  redis.on('reconnecting', (info) => same<typeof info, ReconnectingInfo>(true));
  redis.on('commandError', (err, context) => same<[typeof err, typeof context], [Error, CommandErrorContext]>(true));
  redis.on('orphanedReply', (orphan) => same<typeof orphan, OrphanedReplyInfo>(true));
  same<RedisEvents['reconnecting'], [info: ReconnectingInfo]>(true);
  same<RedisEvents['commandError'], [err: Error, context: CommandErrorContext]>(true);
  same<RedisEvents['orphanedReply'], [orphan: OrphanedReplyInfo]>(true);

  // Handlers written apart from the call, typed by the names.
  const onReconnecting = (info: ReconnectingInfo): void => void [info.attempt + info.delay, info.cause.message];
  const onCommandError = (err: Error, { command }: CommandErrorContext): void => void [err.message, command.length];
  const onOrphan = ({ command, value }: OrphanedReplyInfo): void => void [command.length, value satisfies Reply];
  redis.on('reconnecting', onReconnecting).on('commandError', onCommandError).on('orphanedReply', onOrphan);

  // The subscriber's 'reconnecting' hands over the same payload.
  redis.subscriber().on('reconnecting', onReconnecting);

  // @ts-expect-error a ReconnectingInfo has a cause
  const partial: ReconnectingInfo = { attempt: 1, delay: 100 };
  // @ts-expect-error a handler for another payload does not fit 'reconnecting'
  redis.on('reconnecting', onOrphan);
  // @ts-expect-error the payloads are read-only
  (null as unknown as CommandErrorContext).command = 'GET';
  void partial;
}
`;

describe('event payload types', () => {
  it("'reconnecting', 'commandError' and 'orphanedReply' payloads have exported names, exactly the listeners' types", () => {
    const consumer = path.join(project.dir, 'events.ts');
    writeFileSync(consumer, CONSUMER);
    expect(project.compile([consumer])).toEqual([]);
  }, 60_000);

  it('the check can fail: a wrong payload type is reported', () => {
    const broken = path.join(project.dir, 'broken.ts');
    writeFileSync(broken, CONSUMER.replace("same<typeof info, ReconnectingInfo>(true)", "same<typeof info, { attempt: number }>(true)"));
    expect(project.compile([broken])).toEqual([expect.stringMatching(/^broken\.ts:10 Argument of type 'true' is not assignable/)]);
  }, 60_000);
});
