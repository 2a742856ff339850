// Specs for what else can happen to a read (ops/read.ts) while it waits: our close started
// during it (the read gets operationAborted after the close), and its cancellation (a read parked
// behind a close honours total; a read in the next layer honours terminal only, which fails the
// stream; a read whose completion is queued keeps its result under total).

import { expect } from 'chai';

import { bindAbortSignal, bindCancellationSlot } from '../../../../lib/net/binders.js';
import { CancellationSignal, CancellationType } from '../../../../lib/net/cancellation.js';
import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError, SystemError } from '../../../../lib/net/error.js';
import { error } from '../../../../lib/beast/websocket/error.js';
import { parkedIn, sideHeld } from '../../../support/internals.js';
import {
  bytesOf,
  closePayload,
  echo,
  finish,
  onlyCloseCode,
  Opcode,
  openClientAgainstRaw,
  openPair,
  ordered,
  pump,
  recorder,
  serverFrame,
  take,
  type Ec,
} from './fixture.js';
import { scenario } from './do-test.js';

describe('websocket/Stream read: what else runs, and cancellation', () => {
  describe('a close started during a read', () => {
    scenario('read pending with no input, then close: close succeeds first, the read gets operationAborted', () => {
      const { ioc, a, b, client, server } = openPair();
      const reads = echo(server);
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const r = io('read');
      client.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      expect(r.called).to.equal(false);
      const c = ctl('close');
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect(c.ec()).to.equal(null);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(order).to.deep.equal(['close', 'read']);
      expect(reads).to.deep.equal([[error.closed, 0]]);
      expect(client.isOpen()).to.equal(false);
      finish(ioc, a, b);
    });
  });

  describe('cancellation of a read', () => {
    for (const form of ['asyncRead(dynamic buffer)', 'asyncReadSome(dynamic buffer, limit)', 'asyncReadSome(buffers)'] as const) {
    scenario(`a read parked behind a close (waiting for the read side), cancelled with total: aborted at once (${form})`, () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const c = ctl('close');
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect(sideHeld(client, 'rd')).to.equal(true);
      const sig = new CancellationSignal();
      const r = io('read');
      const token = bindCancellationSlot(sig.slot(), r.h);
      if (form === 'asyncRead(dynamic buffer)') client.asyncRead(new FlatBuffer(), token);
      else if (form === 'asyncReadSome(dynamic buffer, limit)') client.asyncReadSome(new FlatBuffer(), 10, token);
      else client.asyncReadSome(new Uint8Array(10), token);
      expect(parkedIn(client, 'rRd'), 'parked').to.equal(true);
      pump(ioc);
      expect(r.called).to.equal(false);
      sig.emit(CancellationType.total);
      pump(ioc);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(c.called).to.equal(false);
      // The close goes on.
      expect(onlyCloseCode(take(b), true)).to.equal(1000);
      a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
      pump(ioc);
      expect(c.ec()).to.equal(null);
      expect(order).to.deep.equal(['read', 'close']);
      finish(ioc, a, b);
    });
    }

    scenario('total while a read waits in the next layer is ignored; terminal aborts it and fails the stream', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      const sig = new CancellationSignal();
      const r = recorder();
      const buf = new FlatBuffer();
      client.asyncRead(buf, bindCancellationSlot(sig.slot(), r.h));
      pump(ioc);
      sig.emit(CancellationType.total);
      sig.emit(CancellationType.partial);
      pump(ioc);
      expect(r.called).to.equal(false);
      sig.emit(CancellationType.terminal);
      pump(ioc);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(client.isOpen()).to.equal(false);
      // The stream is now only fit to be closed: later operations are aborted, nothing is sent.
      const w = recorder();
      const c = recorder<[Ec]>();
      client.asyncWrite(bytesOf('x'), w.h);
      pump(ioc);
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(c.ec()).to.equal(netError.operationAborted);
      expect(b.bufferedBytes()).to.equal(0);
      finish(ioc, a, b);
    });

    scenario('a read whose bytes have arrived, its completion queued: total is ignored, terminal still aborts it', () => {
      for (const type of [CancellationType.total, CancellationType.terminal]) {
        const { ioc, a, b, client } = openClientAgainstRaw();
        const sig = new CancellationSignal();
        const r = recorder();
        const buf = new FlatBuffer();
        client.asyncRead(buf, bindCancellationSlot(sig.slot(), r.h));
        pump(ioc);
        a.append(serverFrame({ opcode: Opcode.text, payload: 'hi' }));
        sig.emit(type);
        pump(ioc);
        if (type === CancellationType.total) {
          expect(r.once()).to.deep.equal([null, 2]);
          expect(client.isOpen()).to.equal(true);
        } else {
          expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
          expect(client.isOpen()).to.equal(false);
        }
        expect(sig.hasHandler(), 'nothing left in the slot').to.equal(false);
        finish(ioc, a, b);
      }
    });

    scenario('terminal through an AbortSignal on a pending read: the promise rejects with operationAborted', async () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      const ac = new AbortController();
      // The promise's outcome goes to a recorder, which doTest counts like any handler.
      const settled = recorder<[Ec]>();
      const read = client.asyncRead(new FlatBuffer(), bindAbortSignal(ac.signal)).then(
        () => settled.h(null),
        (e: unknown) => settled.h((e as SystemError).code),
      );
      pump(ioc);
      ac.abort();
      pump(ioc);
      await read;
      expect(settled.ec()).to.equal(netError.operationAborted);
      expect(client.isOpen()).to.equal(false);
      finish(ioc, a, b);
    });
  });
});
