import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { attachDatabase } from './firebird.source.js';

/** A server that takes connections and never answers: a Firebird login stalled as node-firebird's SRP login was seen to. */
async function silentServer(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => sockets.length,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('attachDatabase', () => {
  const options = (port: number) => ({ host: '127.0.0.1', port, database: '/nowhere.fdb', user: 'SYSDBA', password: 'secret' });

  it('abandons a stalled login for a new connection, and gives up after three with a readable error', async () => {
    const server = await silentServer();
    const warnings: unknown[] = [];
    const logger = { warn: (fields: unknown) => warnings.push(fields) } as unknown as Logger;
    try {
      await expect(attachDatabase(options(server.port), new AbortController().signal, { logger, timeoutMs: 200 })).rejects.toThrow(
        'the Firebird server did not complete the login in 0.2 s, 3 times over',
      );
      expect(server.connections()).toBe(3);
      expect(warnings).toEqual([
        { attempt: 1, timeoutMs: 200 },
        { attempt: 2, timeoutMs: 200 },
      ]);
    } finally {
      await server.close();
    }
  });

  it('stops waiting for a stalled login when its job is cancelled', async () => {
    const server = await silentServer();
    const cancel = new AbortController();
    try {
      const attaching = attachDatabase(options(server.port), cancel.signal, { timeoutMs: 60_000 });
      setTimeout(() => cancel.abort(new Error('cancelled')), 100);
      await expect(attaching).rejects.toThrow('cancelled');
      expect(server.connections()).toBe(1);
    } finally {
      await server.close();
    }
  });
});
