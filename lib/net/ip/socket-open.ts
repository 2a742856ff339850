/**
 * How a `TcpSocket` gets a Node socket that reads through `onread`: by connecting
 * ({@link startConnect}), by wrapping the TCP handle of a connection the listening handle
 * accepted ({@link openAccepted}), or by taking over a socket `net.Server` accepted
 * ({@link takeOver}). No handlers or executors here, and no listener may outlive a connection
 * attempt.
 */

import * as net from 'node:net';
import type { Endpoint } from './endpoint.js';
import { OnreadReader } from './onread-reader.js';
import { detachHandle } from '../node-internals.js';

/** A connection attempt in flight. */
export interface ConnectAttempt {
  readonly socket: net.Socket;
  readonly reader: OnreadReader;
  /** Gives up: removes the listeners and destroys the socket; `done` is not called. */
  abort(): void;
}

/**
 * Starts connecting to `endpoint`. `done(null)` runs once connected, `done(err)` once failed
 * (the socket then destroyed); the listeners are gone before either runs. Throws what
 * `net.connect` throws synchronously (an invalid argument).
 */
export function startConnect(endpoint: Endpoint, done: (err: Error | null) => void): ConnectAttempt {
  const reader = new OnreadReader();
  const socket = net.connect({
    host: endpoint.address,
    port: endpoint.port,
    family: endpoint.family,
    allowHalfOpen: true, // a peer's FIN must not end our side: Asio's sockets are half-closable
    onread: reader.options(),
  });
  const cleanup = (): void => {
    socket.off('connect', onConnect);
    socket.off('error', onError);
  };
  const onConnect = (): void => {
    cleanup();
    done(null);
  };
  const onError = (err: Error): void => {
    cleanup();
    socket.destroy();
    done(err);
  };
  socket.once('connect', onConnect);
  socket.once('error', onError);
  return {
    socket,
    reader,
    abort(): void {
      cleanup();
      socket.destroy();
    },
  };
}

/**
 * Moves the TCP handle of a socket `net.Server` accepted (with `pauseOnConnect`, so nothing was
 * read yet) into a new `net.Socket` created with the `onread` option: Node offers `onread` only
 * to sockets it creates on request, and accepted sockets should read as fast as connected ones.
 * Uses Node's `_handle` field (net/node-internals.ts, 2); returns `null` where it is not there, and the caller then adopts
 * the socket as it is.
 */
export function takeOver(accepted: net.Socket): { socket: net.Socket; reader: OnreadReader } | null {
  if (accepted.destroyed) return null;
  const handle = detachHandle(accepted); // the old wrapper must not close the handle it no longer owns
  if (handle === null) return null;
  accepted.destroy(); // releases its count in the server, which waits for it on close
  return openAccepted(handle);
}

/**
 * Wraps the TCP handle of an accepted connection (what Node's listening handle passes to its
 * `onconnection`) in a `net.Socket` that reads through `onread`, half-closable as Asio's sockets
 * are. Node starts reading at once; bytes wait in the reader until a read takes them.
 */
export function openAccepted(handle: object): { socket: net.Socket; reader: OnreadReader } {
  const reader = new OnreadReader();
  const opts = { handle, allowHalfOpen: true, readable: true, writable: true, onread: reader.options() };
  return { socket: new net.Socket(opts as net.SocketConstructorOpts), reader };
}
