/**
 * Every private (undocumented) Node API tsbeast uses, in one place, each with the fallback taken
 * where it is missing (a Node version that changed it) or switched off. `TSBEAST_NO_PRIVATE=1`
 * in the environment switches all of them off, so that the fallbacks can be run and tested (CI runs
 * the whole suite that way too). docs/topics/node-internals.md lists them.
 *
 * 1. The listening handle's `onconnection` (`net.Server._handle`): accepted connections are taken
 *    as bare TCP handles, one `net.Socket` each (tcp-acceptor.ts). Fallback: the server's
 *    `'connection'` event, then 2.
 * 2. An accepted socket's `_handle`, moved into a new `net.Socket` created with the (public)
 *    `onread` option (socket-open.ts). Fallback: the socket is adopted as it is and read through
 *    `'data'` events (DataReader, slower: an allocation per chunk).
 * 3. `useUserBuffer` on a socket's TCP handle, re-pointing where the next read lands
 *    (socket-reader.ts): large reads land straight in the caller's buffer. Fallback: every read
 *    lands in the shared landing buffer and is copied.
 * 4. zlib's native handle and write state (`_handle`, `_writeState` of a zlib stream):
 *    synchronous, streaming zlib with a kept window, which permessage-deflate needs inside a
 *    sans-I/O frame reader (websocket/zlib-codec.ts). Fallback: permessage-deflate is neither
 *    offered nor accepted (the extension is optional; messages go uncompressed).
 */

import type * as net from 'node:net';
import * as zlib from 'node:zlib';

/** Whether the private paths may be used at all (`TSBEAST_NO_PRIVATE=1` turns them off). */
let enabled = process.env['TSBEAST_NO_PRIVATE'] !== '1';

/** @internal Turns the private paths on or off (specs of the fallbacks); returns the previous setting. */
export function setPrivateApis(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Whether the private paths are on. */
export function privateApisEnabled(): boolean {
  return enabled;
}

/** The TCP handle of an accepted connection, as Node's listening handle hands it over. */
export type TcpHandle = object & { close?(): void };

/** What the acceptor uses of Node's listening handle (1). */
export interface ListenHandle {
  onconnection?: (this: ListenHandle, status: number, client?: TcpHandle) => void;
}

/** 1: the listening handle of `server` when it has an `onconnection` to take over, else null. */
export function listenHandle(server: net.Server): (ListenHandle & { onconnection: NonNullable<ListenHandle['onconnection']> }) | null {
  if (!enabled) return null;
  const handle = (server as unknown as { _handle?: ListenHandle | null })._handle;
  if (handle === undefined || handle === null || typeof handle.onconnection !== 'function') return null;
  return handle as ListenHandle & { onconnection: NonNullable<ListenHandle['onconnection']> };
}

/**
 * 2: takes the TCP handle out of `socket` (which must not have read yet), so that a new socket
 * can own it; the old wrapper no longer closes it. Null (and `socket` untouched) where it is not
 * there.
 */
export function detachHandle(socket: net.Socket): TcpHandle | null {
  if (!enabled) return null;
  const holder = socket as unknown as { _handle?: TcpHandle | null };
  const handle = holder._handle;
  if (handle === undefined || handle === null) return null;
  holder._handle = null;
  return handle;
}

/** The one member of Node's TCP handle that direct reads need (3). */
export interface UserBufferHandle {
  useUserBuffer(buffer: Uint8Array): void;
}

/** 3: the handle of `socket` when it can re-point its reads, else null. */
export function userBufferHandle(socket: net.Socket | null): UserBufferHandle | null {
  if (!enabled || socket === null) return null;
  const h = (socket as unknown as { _handle?: Partial<UserBufferHandle> | null })._handle;
  return h !== undefined && h !== null && typeof h.useUserBuffer === 'function' ? (h as UserBufferHandle) : null;
}

/** What the zlib codec uses of a zlib stream's native side (4). */
export interface ZlibNative {
  handle: {
    writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, output: Uint8Array, outOff: number, outLen: number): void;
    reset(): void;
    close(): void;
    onerror: (message: string, errno: number) => void;
  };
  /** `[availOutAfter, availInAfter]` of the last write. */
  state: Uint32Array;
}

/** 4: the native handle and write state of a zlib stream, else null. */
export function zlibNative(stream: object): ZlibNative | null {
  if (!enabled) return null;
  const internals = stream as { _handle?: ZlibNative['handle']; _writeState?: Uint32Array };
  if (internals._handle === undefined || internals._writeState === undefined) return null;
  return { handle: internals._handle, state: internals._writeState };
}

let syncZlib: boolean | null = null;

/** 4: whether synchronous streaming zlib is there (else permessage-deflate is not negotiated). */
export function hasSyncZlib(): boolean {
  if (!enabled) return false;
  if (syncZlib === null) {
    const probe = zlib.createInflateRaw();
    syncZlib = zlibNative(probe) !== null;
    probe.close();
  }
  return syncZlib;
}
