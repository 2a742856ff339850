/**
 * Shared pieces of the HTTP/2 specs: a server on 127.0.0.1 (cleartext h2c, or TLS with the spec
 * certificate and HTTP/1.1 allowed) that echoes on /echo through `serveWebSockets`, a client
 * session, and WebSockets opened on it. Everything is closed by `stop()`.
 */

import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { join } from 'node:path';

import { FlatBuffer, IoContext, type AsyncStream } from '../../../lib/net/index.js';
import { PermessageDeflate, Stream } from '../../../lib/beast/websocket/index.js';
import * as h2 from '../../../lib/front/http2/index.js';

export const cert = readFileSync(join(process.cwd(), 'spec/fixtures/cert.pem'));
export const key = readFileSync(join(process.cwd(), 'spec/fixtures/key.pem'));

export type Mode = 'h2c' | 'tls';

/** What the echo server saw. */
export interface Seen {
  sessions: number;
  connections: number;
  streams: Array<{ via: h2.Arrival; target: string; session: unknown }>;
  errors: string[];
  /** How each echo session ended. */
  ends: string[];
}

export class Harness {
  readonly ioc = new IoContext();
  readonly seen: Seen = { sessions: 0, connections: 0, streams: [], errors: [], ends: [] };
  readonly server: http2.Http2Server | http2.Http2SecureServer;
  readonly sessions = new Set<http2.ServerHttp2Session>();
  readonly clients = new Set<http2.ClientHttp2Session>();
  attachment: h2.Attachment | null = null;
  running: Promise<number> | null = null;
  port = 0;
  /** Server-side streams by path, for specs that act on them. */
  readonly serverStreams: Array<Stream<AsyncStream>> = [];
  /** Whether the echo handler reads (specs of backpressure turn it off). */
  echo = true;

  constructor(readonly mode: Mode, settings: http2.Settings = { enableConnectProtocol: true }) {
    this.server =
      mode === 'tls'
        ? http2.createSecureServer({ cert, key, allowHTTP1: true, settings })
        : http2.createServer({ settings });
    this.server.on('session', (s: http2.ServerHttp2Session) => {
      this.seen.sessions++;
      this.sessions.add(s);
      s.on('close', () => this.sessions.delete(s));
    });
    this.server.on(mode === 'tls' ? 'secureConnection' : 'connection', () => this.seen.connections++);
  }

  async start(options: Partial<h2.ServeOptions> = {}): Promise<this> {
    this.attachment = h2.serveWebSockets(this.server, {
      executor: this.ioc,
      path: '/echo',
      prepare: (ws) => ws.setOption(new PermessageDeflate({ serverEnable: true })),
      onError: (ec) => this.seen.errors.push(ec.message()),
      onStream: (ws, req, via) => {
        this.seen.streams.push({ via, target: req.target, session: (ws.nextLayer() as h2.Http2Layer).stream?.()?.session });
        this.serverStreams.push(ws);
        if (this.echo) void this.runEcho(ws);
      },
      ...options,
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    this.running = this.ioc.run();
    return this;
  }

  async runEcho(ws: Stream<AsyncStream>): Promise<void> {
    const b = new FlatBuffer();
    try {
      for (;;) {
        await ws.asyncRead(b);
        ws.text(ws.gotText());
        await ws.asyncWrite(b.data());
        b.consume(b.size());
      }
    } catch (err) {
      this.seen.ends.push((err as { code?: { message(): string } }).code?.message() ?? String(err));
    }
  }

  /** A client session to the server (TLS: trusting the spec certificate). */
  async connect(): Promise<http2.ClientHttp2Session> {
    const url = `${this.mode === 'tls' ? 'https' : 'http'}://127.0.0.1:${this.port}`;
    const session = http2.connect(url, this.mode === 'tls' ? { ca: cert, servername: 'localhost' } : {});
    session.on('error', () => {});
    this.clients.add(session);
    return session;
  }

  /** Opens a WebSocket on `session` (client offers permessage-deflate). */
  async open(session: http2.ClientHttp2Session, target = '/echo'): Promise<Stream<h2.Http2Layer>> {
    const ws = new Stream(new h2.Http2Layer(this.ioc));
    ws.setOption(new PermessageDeflate({ clientEnable: true }));
    await h2.asyncHandshake(ws, session, 'localhost', target);
    return ws;
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.destroy();
    for (const s of this.sessions) s.destroy();
    this.attachment?.detach();
    await new Promise((resolve) => this.server.close(resolve));
    await this.running;
  }
}
