/**
 * WebSocketServer: the server side of the front door. It takes upgrade requests (from a Node
 * `http.Server` / `https.Server`, or from its own listener in `listener.ts`), routes them by path,
 * lets a hook refuse them with a status, chooses a subprotocol, accepts with Beast's
 * `asyncAccept`, hands each stream to the application, keeps the set of live streams, and closes
 * them all with 1001 on `close()`. What arrives from Node goes through `upgrade.ts`.
 */

import type { IncomingMessage } from 'node:http';
import {
  asyncCompose,
  type ComposedSelf,
  makeWorkGuard,
  SystemError,
  type AsyncResult,
  type TokenCheck,
  type ConstBufferSequence,
  type Endpoint,
  type ErrorCode,
  type Executor,
  type ExecutorLike,
  type TokenFor,
  type UsePromise,
  type WorkGuard,
} from '../net/index.js';
import { TcpStream } from '../beast/core/index.js';
import type { Request } from '../beast/http/index.js';
import {
  CloseCode,
  Decorator,
  PermessageDeflate,
  Stream,
  Timeout,
  type PermessageDeflateInit,
} from '../beast/websocket/index.js';
import { closeWithin, destroyStream } from './close.js';
import { frontExecutor, ioContextOf, warnNotRunning, watchContext } from './context.js';
import { describe, initiateDescribed, setPlace } from './errors.js';
import type { Http2Layer } from './http2/layer.js';

/**
 * The streams a {@link WebSocketServer} accepts: a WebSocket over the connection's TcpStream, or,
 * on a Node HTTP/2 server, over the HTTP/2 stream of an extended CONNECT (RFC 8441).
 */
export type ServerStream = Stream<TcpStream | Http2Layer>;

/** What the `verify` hook and the stream handler learn of an upgrade request. */
export interface UpgradeInfo {
  /** The request as Beast's `Request` (method, target, fields). */
  readonly request: Request;
  /** The path of the request-target, without the query (`/chat`). */
  readonly path: string;
  /** The query string, with its `?`, or `''`. */
  readonly query: string;
  /** The `Origin` field, when the client sent one (browsers always do). */
  readonly origin: string | undefined;
  /** The subprotocols the client offered, in its order. */
  readonly protocols: readonly string[];
  /** The subprotocol chosen, `''` for none (set once chosen; `''` inside `verify`). */
  readonly protocol: string;
  /** The peer's `address:port`. */
  readonly peer: string;
  /** The Node request, when the upgrade came from an `http.Server`. */
  readonly incoming: IncomingMessage | undefined;
}

/**
 * The `verify` hook's answer: `true` or `undefined` accepts; `false` refuses with 403; a number
 * refuses with that status; an object refuses with a status, extra fields and a short body.
 */
export type Verdict = boolean | undefined | number | { readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: string };

/** The application's handler for each accepted stream; a returned promise is watched for errors. */
export type StreamHandler = (stream: ServerStream, info: UpgradeInfo) => void | Promise<void>;

/** The options of a {@link WebSocketServer}; every one may be left out. */
export interface ServerOptions {
  /** Where handlers run: an `IoContext` (kept running while the server is attached), any executor. Default: Node's loop. */
  readonly executor?: ExecutorLike;
  /** Take only upgrades whose path (without the query) is exactly this; others are left to other servers or get 404. */
  readonly path?: string;
  /**
   * The subprotocols supported, in order of preference (the first the client also offered is
   * chosen), or a function choosing one from the client's list (`undefined`: none). A client
   * that offered only others is accepted without a subprotocol (RFC 6455 section 4.2.2).
   */
  readonly protocols?: readonly string[] | ((offered: readonly string[], info: UpgradeInfo) => string | undefined);
  /** Decides before accepting (authentication, `Origin`); may be async. See {@link Verdict}. */
  readonly verify?: (info: UpgradeInfo) => Verdict | Promise<Verdict>;
  /** Accept permessage-deflate when offered: `true` for the defaults, or the parameters. Default: off. */
  readonly deflate?: boolean | Omit<PermessageDeflateInit, 'clientEnable' | 'serverEnable'>;
  /** The streams' timeouts. Default `Timeout.suggested('server')`: 30 s handshakes, pings after 150 s of silence, 300 s idle. */
  readonly timeout?: Timeout;
  /** The largest message a stream accepts (`readMessageMax`); default the stream's, 16 MiB. */
  readonly maxMessageSize?: number;
  /** How long `close()` lets each closing handshake take before closing the socket. Default 5000 ms. */
  readonly closeTimeout?: number;
  /**
   * Told of every failure that is not the application's bug: a refused or failed handshake, a
   * handler that failed with a `SystemError` (a peer that vanished). Other exceptions from the
   * handler go here too when given; without it they are rethrown, as Node would.
   */
  readonly onError?: (err: Error, info: UpgradeInfo | undefined) => void;
}

/** The completion signature of {@link WebSocketServer.close}. */
export type CloseSignature = [ec: ErrorCode | null];

/**
 * Accepts WebSocket streams and keeps them. Made by {@link acceptWebSockets} (on a Node HTTP
 * server) or `listenWebSockets` (on a port of its own). Its streams send each message as one
 * frame (`autoFragment(false)`), as ws does; the options set the rest.
 */
export class WebSocketServer {
  readonly #options: ServerOptions;
  readonly #handler: StreamHandler;
  readonly #executor: Executor;
  readonly #live = new Set<ServerStream>();
  readonly #pending = new Set<{ destroy(): void }>();
  #guard: WorkGuard | null;
  #closing = false;
  #detach: (() => void) | null = null;
  #endpoint: Endpoint | undefined;

  /** @internal made by `acceptWebSockets` and `listenWebSockets`. */
  constructor(options: ServerOptions, handler: StreamHandler) {
    this.#options = options;
    this.#handler = handler;
    this.#executor = frontExecutor(options.executor);
    // An IoContext serving a server must not run out of work between connections: hold it.
    this.#guard = ioContextOf(options.executor) === null ? null : makeWorkGuard(this.#executor);
  }

  /** The executor the streams run on. */
  getExecutor(): Executor {
    return this.#executor;
  }

  /** The address a server from `listenWebSockets` listens on; `undefined` on a Node server (ask it). */
  localEndpoint(): Endpoint | undefined {
    return this.#endpoint;
  }

  /** @internal set by `listenWebSockets`. */
  setLocalEndpoint(endpoint: Endpoint): void {
    this.#endpoint = endpoint;
  }

  /** The path this server takes, `undefined` for any. */
  path(): string | undefined {
    return this.#options.path;
  }

  /** The live streams: accepted and still open. */
  streams(): ReadonlySet<ServerStream> {
    this.#prune();
    return this.#live;
  }

  /** Whether {@link WebSocketServer.close} was called. */
  isClosing(): boolean {
    return this.#closing;
  }

  /**
   * Stops taking upgrades and closes every live stream with 1001 (going away): each closing
   * handshake may take `closeTimeout`, after which its socket is closed. Connections still in
   * their opening handshake are closed at once. Signature `[ec]`, always `null`, once every stream
   * is closed. With an `IoContext`, the server's hold on it is released.
   */
  close(handler: (ec: ErrorCode | null) => void): void;
  close<T extends TokenFor<CloseSignature> | undefined = undefined>(token?: T & TokenCheck<T, CloseSignature>): AsyncResult<T extends undefined ? UsePromise : T, CloseSignature>;
  close(token?: TokenFor<CloseSignature>): unknown {
    return initiateDescribed<CloseSignature, TokenFor<CloseSignature> | undefined>(
      (t) => asyncCompose<CloseSignature, TokenFor<CloseSignature>>((self) => this.#closeSteps(self), t, this.#executor),
      token,
      () => 'close WebSocket server',
    );
  }

  /** The steps of {@link WebSocketServer.close} (a generator method, made once with the class). */
  *#closeSteps(self: ComposedSelf<CloseSignature>) {
    yield* self.call<[]>((h) => this.#closeAll(h));
    self.complete(null);
  }

  #closeAll(done: () => void): void {
    this.#closing = true;
    this.#detach?.();
    this.#detach = null;
    for (const p of [...this.#pending]) p.destroy();
    this.#pending.clear();
    this.#prune();
    const all = [...this.#live];
    let left = all.length;
    const finish = (): void => {
      this.#live.clear();
      this.#guard?.reset();
      this.#guard = null;
      done();
    };
    if (left === 0) return queueMicrotask(finish);
    const ms = this.#options.closeTimeout ?? 5000;
    for (const stream of all) {
      closeWithin(stream, { code: CloseCode.goingAway, reason: '' }, ms, () => {
        if (--left === 0) finish();
      });
    }
  }

  /** @internal how the server stops taking upgrades (set by whoever feeds it). */
  setDetach(detach: () => void): void {
    this.#detach = detach;
  }

  /**
   * @internal Takes one upgrade request: `refuse` answers it with a status and closes the
   * connection; `adopt` hands over the connection as a TcpStream (called once, only on accept).
   */
  offer(upgrade: {
    request: Request;
    peer: string;
    head: ConstBufferSequence;
    incoming: IncomingMessage | undefined;
    refuse: (status: number, headers?: Readonly<Record<string, string>>, body?: string) => void;
    adopt: (executor: Executor) => TcpStream | Http2Layer;
    /** How the opening handshake is answered; default the HTTP/1.1 upgrade's (an extended CONNECT's differs). */
    accept?: (stream: ServerStream, handler: (ec: ErrorCode | null) => void) => void;
  }): void {
    const { request, peer } = upgrade;
    const [path, query] = splitTarget(request.target);
    const offered = (request.fields.get('Sec-WebSocket-Protocol') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    const info: { -readonly [K in keyof UpgradeInfo]: UpgradeInfo[K] } = {
      request, path, query, origin: request.fields.get('Origin'), protocols: offered, protocol: '', peer, incoming: upgrade.incoming,
    };
    if (this.#options.path !== undefined && path !== this.#options.path) return upgrade.refuse(404);
    if (this.#closing) return upgrade.refuse(503, { 'Retry-After': '1' });
    const ioc = ioContextOf(this.#options.executor);
    if (ioc !== null && ioc.stopped()) {
      // Its run() ended (stop() was called): no handler would ever run. Say so, and refuse.
      warnNotRunning(ioc, [`accept ${path} from ${peer}`]);
      return upgrade.refuse(503);
    }
    watchContext(this.#options.executor, `accept ${path} from ${peer}`);

    const cancel = { destroy: (): void => upgrade.refuse(503) };
    this.#pending.add(cancel);
    const proceed = (verdict: Verdict): void => {
      if (!this.#pending.delete(cancel)) return; // closed while verifying: already answered
      const refusal = toRefusal(verdict);
      if (refusal !== null) {
        this.#report(new Error(`accept ${path} from ${peer}: refused with ${refusal.status} by verify`), info);
        return upgrade.refuse(refusal.status, refusal.headers, refusal.body);
      }
      info.protocol = chooseProtocol(this.#options.protocols, offered, info) ?? '';
      const accept = upgrade.accept ?? ((stream, h): void => stream.asyncAccept(request, upgrade.head, h));
      this.#accept(upgrade.adopt(this.#executor), accept, info, upgrade.accept === undefined ? 'http/1.1' : 'h2');
    };
    const verify = this.#options.verify;
    if (verify === undefined) return proceed(true);
    let verdict: Verdict | Promise<Verdict>;
    try {
      verdict = verify(info);
    } catch (err) {
      this.#pending.delete(cancel);
      upgrade.refuse(500);
      return this.#fail(err, info);
    }
    if (!(verdict instanceof Promise)) return proceed(verdict);
    verdict.then(proceed, (err: unknown) => {
      if (!this.#pending.delete(cancel)) return;
      upgrade.refuse(500);
      this.#fail(err, info);
    });
  }

  #accept(layer: TcpStream | Http2Layer, accept: (stream: ServerStream, handler: (ec: ErrorCode | null) => void) => void, info: UpgradeInfo, via: 'http/1.1' | 'h2'): void {
    const o = this.#options;
    const stream: ServerStream = new Stream<TcpStream | Http2Layer>(layer);
    stream.setOption(o.timeout ?? Timeout.suggested('server'));
    // One frame per message, as connect's streams send (connect.ts says why).
    stream.autoFragment(false);
    if (o.maxMessageSize !== undefined) stream.readMessageMax(o.maxMessageSize);
    if (o.deflate !== undefined && o.deflate !== false) {
      stream.setOption(new PermessageDeflate({ ...(o.deflate === true ? {} : o.deflate), serverEnable: true }));
    }
    if (info.protocol !== '') {
      stream.setOption(new Decorator({ response: (res) => void res.fields.set('Sec-WebSocket-Protocol', info.protocol) }));
    }
    const place = { url: info.path + info.query, peer: info.peer, protocol: info.protocol, via };
    setPlace(stream, place);
    const pending = { destroy: (): void => destroyStream(stream) };
    this.#pending.add(pending);
    accept(stream, (ec) => {
      this.#pending.delete(pending);
      if (ec !== null) return this.#report(new SystemError(ec, describe('accept', place)), info);
      if (this.#closing) {
        closeWithin(stream, CloseCode.goingAway, o.closeTimeout ?? 5000, () => {});
        return;
      }
      this.#prune();
      this.#live.add(stream);
      let result: void | Promise<void>;
      try {
        result = this.#handler(stream, info);
      } catch (err) {
        return this.#handlerFailed(stream, err, info);
      }
      if (result instanceof Promise) result.catch((err: unknown) => this.#handlerFailed(stream, err, info));
    });
  }

  #handlerFailed(stream: ServerStream, err: unknown, info: UpgradeInfo): void {
    // The session is over: a stream its handler gave up on must not keep its socket.
    if (stream.isOpen()) closeWithin(stream, CloseCode.internalError, this.#options.closeTimeout ?? 5000, () => {});
    else destroyStream(stream);
    this.#live.delete(stream);
    this.#fail(err, info);
  }

  // A SystemError is the connection's failure (reported, not thrown); anything else is a bug.
  #fail(err: unknown, info: UpgradeInfo): void {
    if (err instanceof SystemError) return this.#report(err, info);
    const onError = this.#options.onError;
    if (onError !== undefined) return onError(err instanceof Error ? err : new Error(String(err)), info);
    process.nextTick(() => {
      throw err;
    });
  }

  #report(err: Error, info: UpgradeInfo | undefined): void {
    this.#options.onError?.(err, info);
  }

  #prune(): void {
    for (const s of this.#live) if (!s.isOpen()) this.#live.delete(s);
  }
}

function splitTarget(target: string): [path: string, query: string] {
  const q = target.indexOf('?');
  return q < 0 ? [target, ''] : [target.slice(0, q), target.slice(q)];
}

function chooseProtocol(
  choice: ServerOptions['protocols'],
  offered: readonly string[],
  info: UpgradeInfo,
): string | undefined {
  if (choice === undefined || offered.length === 0) return undefined;
  if (typeof choice === 'function') {
    const p = choice(offered, info);
    // Only one of the client's own: answering with another fails its handshake (RFC 6455 4.1).
    return p !== undefined && offered.includes(p) ? p : undefined;
  }
  return choice.find((p) => offered.includes(p));
}

interface Refusal {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

function toRefusal(v: Verdict): Refusal | null {
  if (v === true || v === undefined) return null;
  if (v === false) return { status: 403 };
  if (typeof v === 'number') return { status: checkStatus(v) };
  return { ...v, status: checkStatus(v.status) };
}

function checkStatus(status: number): number {
  // A refusal is an error status; anything else would be taken for an answer to the upgrade.
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}
