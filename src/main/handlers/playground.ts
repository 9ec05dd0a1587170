import type { PlaygroundState } from '../../shared/contract-results.ts';
import type { PlaygroundService, Snapshot } from '../services/playground/service.ts';
import type { Connection, Handlers } from '../transport/router.ts';
import { mapped } from './errors.ts';

/** The frame of each playground call goes to the caller as a binary 'playground.frame' event. */
function reply(conn: Connection, snap: Snapshot): PlaygroundState {
  const bytes = snap.bytes;
  conn.send({
    event: 'playground.frame',
    data: snap.meta,
    binary: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
  });
  return snap.state;
}

export function playgroundHandlers(playground: PlaygroundService): Handlers {
  return {
    'playground.open': mapped(async ({ runId, checkpoint }, conn) =>
      reply(conn, await playground.open(runId, checkpoint)),
    ),
    'playground.setInput': mapped(({ session, input }, conn) =>
      reply(conn, playground.setInput(session, input)),
    ),
    'playground.step': mapped(async ({ session, steps }, conn) =>
      reply(conn, await playground.step(session, steps)),
    ),
    'playground.edit': mapped(({ session, edit }, conn) => reply(conn, playground.edit(session, edit))),
    'playground.view': mapped(({ session, channel }, conn) =>
      reply(conn, playground.setChannel(session, channel)),
    ),
    'playground.close': ({ session }) => {
      playground.close(session);
      return { ok: true as const };
    },
  };
}
