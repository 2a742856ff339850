/**
 * permessage-deflate state of one connection (Beast's `impl_type::pmd_type`): what was
 * negotiated, the options, and the two zlib contexts, each made on first use (memory only for
 * those who compress) and freed by {@link DeflateState.close}. No I/O here.
 */

import type { PermessageDeflate, PmdConfig } from './deflate.js';
import type { Role } from './frame.js';
import { Deflater, Inflater } from './zlib-codec.js';

export class DeflateState {
  /** What this connection negotiated; null while the extension is not active. */
  config: PmdConfig | null = null;
  #deflater: Deflater | null = null;
  #inflater: Inflater | null = null;

  /** Bytes of the `00 00 FF FF` tail fed to the inflater at the end of the compressed message being read. */
  ebConsumed = 0;
  /**
   * The peer ended its deflate stream inside the message being read (a block with BFINAL set,
   * which RFC 7692 section 7.2.3.4 allows): the rest of the message's payload is dropped.
   */
  inflateEnded = false;

  constructor(public opts: PermessageDeflate) {}

  /** A message begins: the inflation state of the last one is forgotten. */
  startMessage(): void {
    this.ebConsumed = 0;
    this.inflateEnded = false;
  }

  /** The deflate context for our messages (a `role` endpoint), created on first use. */
  deflater(role: Role): Deflater {
    if (this.#deflater === null) {
      const cfg = this.config!;
      const bits = role === 'server' ? cfg.serverMaxWindowBits : cfg.clientMaxWindowBits;
      this.#deflater = new Deflater(bits, this.opts.compLevel, this.opts.memLevel);
    }
    return this.#deflater;
  }

  /** The inflate context for the peer's messages, created on first use. */
  inflater(role: Role): Inflater {
    if (this.#inflater === null) {
      const cfg = this.config!;
      this.#inflater = new Inflater(role === 'server' ? cfg.clientMaxWindowBits : cfg.serverMaxWindowBits);
    }
    return this.#inflater;
  }

  /**
   * After a compressed message was read: forget the window if the peer does not keep it, or if
   * its deflate stream ended inside the message (`ended`).
   */
  afterRead(role: Role, ended: boolean): void {
    const cfg = this.config;
    if (cfg === null || this.#inflater === null) return;
    if (ended || (role === 'client' ? cfg.serverNoContextTakeover : cfg.clientNoContextTakeover)) this.#inflater.reset();
  }

  /** After a compressed message was written: forget the window if we do not keep it. */
  afterWrite(role: Role): void {
    const cfg = this.config;
    if (cfg === null || this.#deflater === null) return;
    if (role === 'client' ? cfg.clientNoContextTakeover : cfg.serverNoContextTakeover) this.#deflater.reset();
  }

  /** Frees both zlib contexts now, rather than when the collector finds them (a few hundred KiB each at most). */
  close(): void {
    this.#deflater?.close();
    this.#inflater?.close();
    this.#deflater = null;
    this.#inflater = null;
  }
}
