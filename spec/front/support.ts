/**
 * Shared helpers of the front-door specs: an http.Server on 127.0.0.1 port 0 that is always
 * closed, and a `ws` client that reports what it saw.
 */

import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket from 'ws';

export const cert = readFileSync('spec/fixtures/cert.pem', 'utf8');
export const key = readFileSync('spec/fixtures/key.pem', 'utf8');
export const otherCert = readFileSync('spec/fixtures/other-cert.pem', 'utf8');
export const otherKey = readFileSync('spec/fixtures/other-key.pem', 'utf8');

/** Starts an http (or https) server on 127.0.0.1:0; `stop()` closes it and every connection. */
export async function startHttp(secure = false): Promise<{ server: Server; port: number; stop: () => Promise<void> }> {
  const server = secure ? createHttpsServer({ cert, key }) : createServer((_req, res) => res.end('plain'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  // Upgraded sockets are no longer Node's to close: keep them all, and close them all.
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const stop = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return { server, port, stop };
}

/** Opens a `ws` client and waits for it to be open (or fail with its error). */
export function wsClient(url: string, protocols?: string | string[], options?: WebSocket.ClientOptions): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const c = new WebSocket(url, protocols, options);
    c.once('open', () => resolve(c));
    c.once('error', reject);
    c.once('unexpected-response', (req, res) => {
      req.destroy();
      reject(new Error(`status ${res.statusCode}`));
    });
  });
}

/** The next message of a `ws` client, as text. */
export function nextMessage(c: WebSocket): Promise<string> {
  return new Promise((resolve) => c.once('message', (data) => resolve(String(data))));
}

/** The close code and reason a `ws` client sees. */
export function closed(c: WebSocket): Promise<[number, string]> {
  return new Promise((resolve) => c.once('close', (code, reason) => resolve([code, String(reason)])));
}
