// Specs for lib/net/cancellation.ts: signal/slot pairs, cancellation states and filters. No I/O,
// no executors: everything here is synchronous.

import { expect } from 'chai';
import {
  CancellationSignal,
  CancellationSlot,
  CancellationState,
  CancellationType,
  disableCancellation,
  disconnectedSlot,
  enablePartialCancellation,
  enableTerminalCancellation,
  enableTotalCancellation,
  type CancellationFilter,
  type CancellationHandler,
} from '../../lib/net/index.js';

const { none, terminal, partial, total, all } = CancellationType;

/** A handler that records every type it receives. */
function recorder(): CancellationHandler & { seen: number[] } {
  const seen: number[] = [];
  return Object.assign((t: CancellationType) => void seen.push(t), { seen });
}

describe('net/cancellation', () => {
  describe('CancellationType', () => {
    it('is a frozen bit mask', () => {
      expect([none, terminal, partial, total]).to.deep.equal([0, 1, 2, 4]);
      expect(all & (terminal | partial | total)).to.equal(terminal | partial | total);
      expect(Object.isFrozen(CancellationType)).to.equal(true);
    });
  });

  describe('CancellationSignal and CancellationSlot', () => {
    it('emit without a handler does nothing', () => {
      const sig = new CancellationSignal();
      expect(sig.hasHandler()).to.equal(false);
      expect(() => sig.emit(terminal)).to.not.throw();
    });

    it('emit calls the installed handler synchronously with the type', () => {
      const sig = new CancellationSignal();
      const h = recorder();
      const slot = sig.slot();
      expect(slot.assign(h)).to.equal(h);
      expect(sig.hasHandler()).to.equal(true);
      sig.emit(partial);
      expect(h.seen).to.deep.equal([partial]);
      sig.emit(terminal | total);
      expect(h.seen).to.deep.equal([partial, terminal | total]);
    });

    it('slot() always returns the same connected slot', () => {
      const sig = new CancellationSignal();
      expect(sig.slot()).to.equal(sig.slot());
      expect(sig.slot().isConnected()).to.equal(true);
      expect(sig.slot().equals(sig.slot())).to.equal(true);
      expect(sig.slot().equals(new CancellationSignal().slot())).to.equal(false);
    });

    it('assign replaces the previous handler', () => {
      const sig = new CancellationSignal();
      const a = recorder();
      const b = recorder();
      sig.slot().assign(a);
      sig.slot().assign(b);
      sig.emit(terminal);
      expect(a.seen).to.deep.equal([]);
      expect(b.seen).to.deep.equal([terminal]);
    });

    it('emplace builds the handler from its arguments and replaces the previous one', () => {
      const sig = new CancellationSignal();
      const first = recorder();
      sig.slot().assign(first);
      const log: Array<[string, number, CancellationType]> = [];
      const made = sig.slot().emplace(
        (tag: string, n: number) => (t: CancellationType) => void log.push([tag, n, t]),
        'op',
        3,
      );
      expect(made).to.be.a('function');
      sig.emit(total);
      expect(log).to.deep.equal([['op', 3, total]]);
      expect(first.seen).to.deep.equal([]);
      sig.emit(terminal);
      expect(log).to.deep.equal([['op', 3, total], ['op', 3, terminal]]);
    });

    it('clear removes the handler', () => {
      const sig = new CancellationSignal();
      const h = recorder();
      const slot = sig.slot();
      slot.assign(h);
      expect(slot.hasHandler()).to.equal(true);
      slot.clear();
      expect(slot.hasHandler()).to.equal(false);
      expect(sig.hasHandler()).to.equal(false);
      expect(slot.isConnected()).to.equal(true);
      sig.emit(terminal);
      expect(h.seen).to.deep.equal([]);
    });

    it('release removes only its own handler', () => {
      const sig = new CancellationSignal();
      const slot = sig.slot();
      const first = recorder();
      const second = recorder();
      slot.assign(first);
      slot.assign(second);
      slot.release(first); // a stale operation finishing must not remove its successor's handler
      expect(slot.hasHandler()).to.equal(true);
      sig.emit(terminal);
      expect(second.seen).to.deep.equal([terminal]);
      expect(first.seen).to.deep.equal([]);
      slot.release(second);
      expect(slot.hasHandler()).to.equal(false);
      sig.emit(terminal);
      expect(second.seen).to.deep.equal([terminal]);
    });

    it('a handler can be installed again after clear (one signal serves one op at a time)', () => {
      const sig = new CancellationSignal();
      const a = recorder();
      const b = recorder();
      sig.slot().assign(a);
      sig.emit(terminal);
      sig.slot().clear();
      sig.slot().assign(b);
      sig.emit(partial);
      expect(a.seen).to.deep.equal([terminal]);
      expect(b.seen).to.deep.equal([partial]);
    });

    it('a disconnected slot ignores everything', () => {
      for (const slot of [new CancellationSlot(), disconnectedSlot]) {
        const h = recorder();
        expect(slot.isConnected()).to.equal(false);
        expect(slot.assign(h)).to.equal(h);
        expect(slot.hasHandler()).to.equal(false);
        const made = slot.emplace(() => h);
        expect(made).to.equal(h);
        expect(slot.hasHandler()).to.equal(false);
        expect(() => slot.clear()).to.not.throw();
        expect(() => slot.release(h)).to.not.throw();
        expect(slot.equals(disconnectedSlot)).to.equal(true);
        expect(slot.equals(new CancellationSignal().slot())).to.equal(false);
        expect(h.seen).to.deep.equal([]);
      }
    });
  });

  describe('filters', () => {
    const table: Array<[string, CancellationFilter, number[]]> = [
      // filter, results for [terminal, partial, total, terminal|partial|total, all]
      ['disableCancellation', disableCancellation, [none, none, none, none, none]],
      ['enableTerminalCancellation', enableTerminalCancellation, [terminal, none, none, terminal, terminal]],
      [
        'enablePartialCancellation',
        enablePartialCancellation,
        [terminal, partial, none, terminal | partial, terminal | partial],
      ],
      [
        'enableTotalCancellation',
        enableTotalCancellation,
        [terminal, partial, total, terminal | partial | total, terminal | partial | total],
      ],
    ];
    for (const [name, filter, expected] of table) {
      it(`${name} maps each request type`, () => {
        expect([terminal, partial, total, terminal | partial | total, all].map(filter)).to.deep.equal(expected);
        expect(filter(none)).to.equal(none);
      });
    }
  });

  describe('CancellationState', () => {
    /** A parent signal, a state on its slot, and a recorder on the state's child slot. */
    function setup(inFilter?: CancellationFilter, outFilter?: CancellationFilter) {
      const parent = new CancellationSignal();
      const state =
        inFilter === undefined
          ? new CancellationState(parent.slot())
          : new CancellationState(parent.slot(), inFilter, outFilter);
      const child = recorder();
      state.slot().assign(child);
      return { parent, state, child };
    }

    it('installs a relay in the parent slot and offers a connected child slot', () => {
      const { parent, state } = setup();
      expect(parent.hasHandler()).to.equal(true);
      expect(state.slot().isConnected()).to.equal(true);
      expect(state.slot().equals(parent.slot())).to.equal(false);
      expect(state.cancelled()).to.equal(none);
    });

    it('defaults to terminal only', () => {
      const { parent, state, child } = setup();
      parent.emit(partial);
      expect(state.cancelled()).to.equal(none);
      expect(child.seen).to.deep.equal([]);
      parent.emit(total);
      expect(state.cancelled()).to.equal(none);
      expect(child.seen).to.deep.equal([]);
      parent.emit(terminal);
      expect(state.cancelled()).to.equal(terminal);
      expect(child.seen).to.deep.equal([terminal]);
    });

    const cases: Array<[string, CancellationFilter, Array<[number, number]>]> = [
      ['disableCancellation', disableCancellation, [[terminal, none], [partial, none], [total, none], [all, none]]],
      [
        'enableTerminalCancellation',
        enableTerminalCancellation,
        [[terminal, terminal], [partial, none], [total, none], [all, terminal]],
      ],
      [
        'enablePartialCancellation',
        enablePartialCancellation,
        [[terminal, terminal], [partial, partial], [total, none], [all, terminal | partial]],
      ],
      [
        'enableTotalCancellation',
        enableTotalCancellation,
        [[terminal, terminal], [partial, partial], [total, total], [all, terminal | partial | total]],
      ],
    ];
    for (const [name, filter, pairs] of cases) {
      it(`with ${name}: records and forwards the filtered type`, () => {
        for (const [request, recorded] of pairs) {
          const { parent, state, child } = setup(filter);
          parent.emit(request);
          expect(state.cancelled(), `request ${request}`).to.equal(recorded);
          expect(child.seen, `request ${request}`).to.deep.equal(recorded === none ? [] : [recorded]);
        }
      });
    }

    it('applies the out-filter to the recorded type when the filters differ', () => {
      // Record everything, but forward only terminal requests to the child.
      const { parent, state, child } = setup(enableTotalCancellation, enableTerminalCancellation);
      parent.emit(partial);
      expect(state.cancelled()).to.equal(partial);
      expect(child.seen).to.deep.equal([]);
      parent.emit(terminal | total);
      expect(state.cancelled()).to.equal(terminal | total);
      expect(child.seen).to.deep.equal([terminal]);
    });

    it('the out-filter sees the in-filtered type, not the raw request', () => {
      const { parent, state, child } = setup(enableTerminalCancellation, enableTotalCancellation);
      parent.emit(partial | total);
      expect(state.cancelled()).to.equal(none);
      expect(child.seen).to.deep.equal([]);
      parent.emit(terminal | partial);
      expect(state.cancelled()).to.equal(terminal);
      expect(child.seen).to.deep.equal([terminal]);
    });

    it('assigns the recorded type on each request rather than accumulating it', () => {
      const { parent, state, child } = setup(enableTotalCancellation);
      parent.emit(terminal);
      parent.emit(partial);
      expect(state.cancelled()).to.equal(partial);
      expect(child.seen).to.deep.equal([terminal, partial]);

      const t = setup(); // terminal only: a later filtered-out request overwrites the record with none
      t.parent.emit(terminal);
      expect(t.state.cancelled()).to.equal(terminal);
      t.parent.emit(partial);
      expect(t.state.cancelled()).to.equal(none);
      expect(t.child.seen).to.deep.equal([terminal]);
    });

    it('clear(mask) forgets only the masked types; clear() forgets all', () => {
      const { parent, state } = setup(enableTotalCancellation);
      parent.emit(terminal | partial | total);
      state.clear(terminal);
      expect(state.cancelled()).to.equal(partial | total);
      state.clear(total);
      expect(state.cancelled()).to.equal(partial);
      state.clear();
      expect(state.cancelled()).to.equal(none);
    });

    it('detach removes the relay from the parent and the child handler', () => {
      const { parent, state, child } = setup(enableTotalCancellation);
      state.detach();
      expect(parent.hasHandler()).to.equal(false);
      expect(state.slot().hasHandler()).to.equal(false);
      parent.emit(terminal);
      expect(state.cancelled()).to.equal(none);
      expect(child.seen).to.deep.equal([]);
    });

    it('detach leaves a handler that replaced the relay in the parent slot', () => {
      const { parent, state } = setup();
      const later = recorder();
      parent.slot().assign(later);
      state.detach();
      expect(parent.hasHandler()).to.equal(true);
      parent.emit(terminal);
      expect(later.seen).to.deep.equal([terminal]);
      expect(state.cancelled()).to.equal(none);
    });

    it('a new state on the same parent replaces the previous relay', () => {
      const parent = new CancellationSignal();
      const first = new CancellationState(parent.slot(), enableTotalCancellation);
      const second = new CancellationState(parent.slot(), enableTotalCancellation);
      parent.emit(partial);
      expect(first.cancelled()).to.equal(none);
      expect(second.cancelled()).to.equal(partial);
    });

    it('is inert with a disconnected parent', () => {
      for (const state of [
        new CancellationState(),
        new CancellationState(disconnectedSlot, enableTotalCancellation),
        new CancellationState(new CancellationSlot(), enableTotalCancellation, enableTotalCancellation),
      ]) {
        expect(state.slot().isConnected()).to.equal(false);
        expect(state.slot()).to.equal(disconnectedSlot);
        const h = recorder();
        state.slot().assign(h);
        expect(state.slot().hasHandler()).to.equal(false);
        expect(state.cancelled()).to.equal(none);
        expect(() => state.detach()).to.not.throw();
        expect(h.seen).to.deep.equal([]);
      }
    });
  });
});
