/**
 * The three listeners ('error', 'end', 'close') every connected TcpSocket puts on its Node
 * socket, shared by all sockets: Node calls them with the socket as `this`, which names its owner.
 * Bound per socket, they cost three closures and their contexts per connection
 * (bench/idle-memory). No listener may stay on a socket its owner let go of.
 */

import type * as net from 'node:net';

/** The key of {@link SocketEventOwner}'s method; not exported from the package. */
export const kSocketEvent: unique symbol = Symbol('tsbeast.socketEvent');

/** What hears the events of the Node socket it listens to. */
export interface SocketEventOwner {
  /** The Node socket's `'error'` (with `err`), `'end'` or `'close'` event. */
  [kSocketEvent](event: 'error' | 'end' | 'close', err?: Error): void;
}

const kOwner = Symbol('tsbeast.socketOwner');
interface OwnedSocket extends net.Socket {
  [kOwner]?: SocketEventOwner | null;
}

function onSocketError(this: OwnedSocket, err: Error): void {
  this[kOwner]?.[kSocketEvent]('error', err);
}
function onSocketEnd(this: OwnedSocket): void {
  this[kOwner]?.[kSocketEvent]('end');
}
function onSocketClose(this: OwnedSocket): void {
  this[kOwner]?.[kSocketEvent]('close');
}

/** Makes `owner` hear `socket`'s events. */
export function listenTo(socket: net.Socket, owner: SocketEventOwner): void {
  (socket as OwnedSocket)[kOwner] = owner;
  socket.on('error', onSocketError);
  socket.on('end', onSocketEnd);
  socket.on('close', onSocketClose);
}

/** Removes the listeners {@link listenTo} added. */
export function stopListening(socket: net.Socket): void {
  socket.off('error', onSocketError);
  socket.off('end', onSocketEnd);
  socket.off('close', onSocketClose);
  (socket as OwnedSocket)[kOwner] = null;
}
