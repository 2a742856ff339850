/**
 * The part of `websocket.Stream` that does no I/O (Beast's stream.hpp, sections "Observers" and
 * "Settings"): the next layer and executor, what the last handshake and read left, and the options.
 * A base class of `Stream` (one object per connection); its operations are in stream-handshake.ts
 * and stream.ts.
 */

import type { Executor } from '../../net/executor.js';
import type { AsyncStream } from '../../net/stream.js';
import type { CloseReason } from './close.js';
import { PermessageDeflate, type PermessageDeflateStatus } from './deflate.js';
import { Opcode, type Role } from './frame.js';
import { OperationGate } from './operation-gate.js';
import { Decorator, Timeout, type ControlCallback } from './options.js';

/** The observers and settings of {@link Stream}, whose reference lists them. */
export abstract class StreamSettings<NextLayer extends AsyncStream> extends OperationGate<NextLayer> {
  #decorator: Decorator | null = null;

  /** The next layer (e.g. the TCP stream, for connecting and closing). */
  nextLayer(): NextLayer {
    return this.impl.next;
  }

  /** The stream's executor: its next layer's. */
  getExecutor(): Executor {
    return this.impl.executor;
  }

  // ---- observers -----------------------------------------------------------------------------

  /** Whether the handshake completed and the stream is neither closing nor closed nor failed. */
  isOpen(): boolean {
    return this.impl.status === 'open';
  }

  /** Whether the last message received (or being received) is text (also the initial answer). */
  gotText(): boolean {
    return this.impl.reader.op === Opcode.text;
  }

  /** Whether the last message received (or being received) is binary. */
  gotBinary(): boolean {
    return this.impl.reader.op === Opcode.binary;
  }

  /** Whether the last read consumed the final byte of a message. */
  isMessageDone(): boolean {
    return this.impl.reader.done;
  }

  /** The close reason the peer sent, once a read completed with `closed` or a close finished. */
  reason(): CloseReason {
    return this.impl.cr;
  }

  /** The role the stream took in its handshake. */
  role(): Role {
    return this.impl.role;
  }

  // ---- settings --------------------------------------------------------------------------------

  /**
   * Whether outgoing messages are split into frames of `writeBufferBytes` (default true, as in
   * Beast): control frames can then go out between the frames of a long message. A stream that
   * writes whole messages may turn it off and send each as one frame, as the front door's streams
   * and examples/echo_server do: 4 KiB frames cost a header each, and the peer a frame to parse
   * each (docs/topics/bench-profile.md).
   */
  autoFragment(): boolean;
  autoFragment(value: boolean): void;
  autoFragment(value?: boolean): boolean | void {
    if (value === undefined) return this.impl.writer.fragOpt;
    this.impl.writer.fragOpt = value;
  }

  /** Whether new messages are sent as binary. */
  binary(): boolean;
  binary(value: boolean): void;
  binary(value?: boolean): boolean | void {
    if (value === undefined) return this.impl.writer.opcode === Opcode.binary;
    this.impl.writer.opcode = value ? Opcode.binary : Opcode.text;
  }

  /** Whether new messages are sent as text (the default). */
  text(): boolean;
  text(value: boolean): void;
  text(value?: boolean): boolean | void {
    if (value === undefined) return this.impl.writer.opcode === Opcode.text;
    this.impl.writer.opcode = value ? Opcode.text : Opcode.binary;
  }

  /** The largest message accepted, in bytes (16 MiB by default; 0: no limit). */
  readMessageMax(): number;
  readMessageMax(bytes: number): void;
  readMessageMax(bytes?: number): number | void {
    if (bytes === undefined) return this.impl.reader.decoder.readMessageMax;
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError('readMessageMax: a byte count of 0 or more');
    this.impl.reader.decoder.readMessageMax = bytes;
  }

  /**
   * The size of the write buffer: the frame size with auto-fragmentation, and the chunk in which a
   * client masks (4096 by default; at least 8). Takes effect with the next message.
   */
  writeBufferBytes(): number;
  writeBufferBytes(bytes: number): void;
  writeBufferBytes(bytes?: number): number | void {
    if (bytes === undefined) return this.impl.writer.bufOpt;
    if (!Number.isSafeInteger(bytes) || bytes < 8) throw new RangeError('writeBufferBytes: at least 8');
    this.impl.writer.bufOpt = bytes;
  }

  /** Sets (or, with no argument, clears) the callback that sees every control frame a read receives. */
  controlCallback(callback?: ControlCallback): void {
    this.impl.ctrlCb = callback ?? null;
  }

  /**
   * Sets an option: the timeouts, the decorator of handshake messages, or the permessage-deflate
   * settings (they take effect with the next handshake or accept).
   */
  setOption(option: Timeout | Decorator | PermessageDeflate): void {
    if (option instanceof PermessageDeflate) {
      this.impl.pmdOpts = option;
      return;
    }
    if (option instanceof Timeout) {
      this.impl.timeoutOpt = option;
      this.impl.updateTimer();
      return;
    }
    if (option instanceof Decorator) {
      this.#decorator = option;
      return;
    }
    throw new TypeError('websocket.Stream.setOption: unknown option');
  }

  /**
   * The timeouts, the permessage-deflate settings, or the decorator (`null` when none was set)
   * in effect. A handshake carried by another protocol (RFC 8441 over HTTP/2) reads them here.
   */
  getOption(kind: typeof Timeout): Timeout;
  getOption(kind: typeof PermessageDeflate): PermessageDeflate;
  getOption(kind: typeof Decorator): Decorator | null;
  getOption(kind: typeof Timeout | typeof PermessageDeflate | typeof Decorator): Timeout | PermessageDeflate | Decorator | null {
    if (kind === Timeout) return this.impl.timeoutOpt;
    if (kind === PermessageDeflate) return this.impl.pmdOpts;
    if (kind === Decorator) return this.#decorator;
    throw new TypeError('websocket.Stream.getOption: unknown option');
  }

  /** What permessage-deflate negotiated for this connection (Beast's `get_status`). */
  getStatus(): PermessageDeflateStatus {
    return this.impl.pmdStatus();
  }

  /**
   * Whether new messages are compressed when permessage-deflate is active (default true; messages
   * shorter than `msgSizeThreshold` never are).
   */
  compress(): boolean;
  compress(value: boolean): void;
  compress(value?: boolean): boolean | void {
    if (value === undefined) return this.impl.writer.compressOpt;
    this.impl.writer.compressOpt = value;
  }
}
