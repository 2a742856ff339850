// The soft mutexes and their wake orders (lib/beast/websocket/soft-mutex.ts) against Beast's:
// the table below is copied by hand from the `maybe_invoke` chains of Beast's impl/write.hpp,
// read.hpp, ping.hpp and close.hpp, and each order is checked both as data and by parking an
// operation in every slot and waking them one at a time.

import { expect } from 'chai';

import { IoContext } from '../../../lib/net/io-context.js';
import { SoftMutexes, wakeOrders, type Slot } from '../../../lib/beast/websocket/soft-mutex.js';

// Beast's names: op_close, op_idle_ping, op_rd, op_ping, op_wr, op_r_rd, op_r_close.
const beast: Record<keyof typeof wakeOrders, readonly string[]> = {
  afterWrite: ['op_close', 'op_idle_ping', 'op_rd', 'op_ping'], // write.hpp, write_some_op (between frames and upcall)
  afterReadWrite: ['op_close', 'op_idle_ping', 'op_ping', 'op_wr'], // read.hpp, read_some_op (after the pong, and upcall)
  afterPing: ['op_close', 'op_idle_ping', 'op_rd', 'op_wr'], // ping.hpp, ping_op upcall
  afterIdlePing: ['op_close', 'op_ping', 'op_rd', 'op_wr'], // ping.hpp, idle_ping_op
  afterClose: ['op_rd', 'op_idle_ping', 'op_ping', 'op_wr'], // close.hpp, close_op upcall
  readSide: ['op_r_close'], // read.hpp: rd_block released between reads and at upcall
  closeReadSide: ['op_r_rd'], // close.hpp: rd_block released at upcall
};
const ours: Record<Slot, string> = {
  rd: 'op_rd',
  wr: 'op_wr',
  ping: 'op_ping',
  idlePing: 'op_idle_ping',
  close: 'op_close',
  rRd: 'op_r_rd',
  rClose: 'op_r_close',
};
const allSlots = Object.keys(ours) as Slot[];

describe('websocket/soft-mutex', () => {
  describe("wake orders are Beast's", () => {
    for (const [name, order] of Object.entries(wakeOrders) as [keyof typeof wakeOrders, readonly Slot[]][]) {
      it(`${name}: ${beast[name].join(', ')}`, () => {
        expect(order.map((s) => ours[s])).to.deep.equal(beast[name]);
      });

      it(`${name}: with every slot taken, wakes them in that order, one per call`, () => {
        const locks = new SoftMutexes(new IoContext().getExecutor());
        const woken: Slot[] = [];
        for (const slot of allSlots) locks.slot(slot).emplace(() => void woken.push(slot));
        for (let i = 0; i < order.length; i++) expect(locks.wake(order), `wake ${i}`).to.equal(true);
        expect(locks.wake(order), 'nobody left').to.equal(false);
        expect(woken).to.deep.equal([...order]);
        // Slots outside the order stay parked.
        for (const slot of allSlots) expect(locks.waits(slot), slot).to.equal(!order.includes(slot));
      });
    }

    it('waking with no slot ever made makes none', () => {
      const locks = new SoftMutexes(new IoContext().getExecutor());
      expect(locks.wake(wakeOrders.afterWrite)).to.equal(false);
      expect(locks.waits('rd')).to.equal(false);
      expect(locks.writeWaiters()).to.equal(false);
    });

    it('writeWaiters: exactly the slots a write hands the write side to', () => {
      for (const slot of allSlots) {
        const locks = new SoftMutexes(new IoContext().getExecutor());
        locks.slot(slot).emplace(() => {});
        expect(locks.writeWaiters(), slot).to.equal((wakeOrders.afterWrite as readonly Slot[]).includes(slot));
      }
    });
  });

  describe('the soft mutexes', () => {
    for (const side of ['rd', 'wr'] as const) {
      it(`${side}: records its owner; lock and unlock misuse throws, try variants report; the other side is apart`, () => {
        const m = new SoftMutexes(new IoContext().getExecutor());
        const other = side === 'rd' ? 'wr' : 'rd';
        const a = {};
        const b = {};
        expect(m.tryLock(side, a)).to.equal(true);
        expect(m.isLockedBy(side, a)).to.equal(true);
        expect(m.isLocked(other)).to.equal(false);
        expect(m.tryLock(side, b)).to.equal(false);
        expect(() => m.lock(side, b)).to.throw(/already locked/);
        expect(() => m.unlock(side, b)).to.throw(/not the owner/);
        expect(m.tryUnlock(side, b)).to.equal(false);
        expect(m.tryLock(other, b)).to.equal(true);
        expect(m.tryUnlock(side, a)).to.equal(true);
        expect(m.isLocked(side)).to.equal(false);
        expect(m.isLockedBy(other, b)).to.equal(true);
        m.lock(side, b);
        m.unlock(side, b);
        expect(m.isLocked(side)).to.equal(false);
      });
    }
  });
});
