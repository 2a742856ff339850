// Specs for the shared timer lists (timer-list.ts) with sinon's fake setTimeout and performance
// clock: an entry re-armed in its own list keeps the list's one Node timer (no clearTimeout and
// setTimeout per re-arm, the cost a lone connection paid per message) and still fires at its new
// deadline, never before; the Node timer goes with the list's last entry.

import { expect } from 'chai';
import sinon from 'sinon';

import { TimerEntry } from '../../../lib/beast/websocket/timer-list.js';

class Entry extends TimerEntry {
  firedAt: number[] = [];
  constructor(private readonly clock: sinon.SinonFakeTimers) {
    super();
  }
  fired(): void {
    this.firedAt.push(this.clock.now);
  }
}

describe('websocket/timer-list', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    clock.restore();
  });

  it('a lone entry re-armed keeps the one Node timer, and fires at its last deadline', () => {
    const e = new Entry(clock);
    const set = sinon.spy(globalThis, 'setTimeout');
    const cleared = sinon.spy(globalThis, 'clearTimeout');
    try {
      e.schedule(100);
      for (let i = 0; i < 5; i++) {
        clock.tick(15);
        e.schedule(100); // re-armed at 15, 30, ... 75: due at 175
      }
      expect(set.callCount).to.equal(1);
      expect(cleared.callCount).to.equal(0);
      expect(clock.countTimers()).to.equal(1);
      clock.tick(99); // 174: the Node timer fired early at 100 and waits for the new deadline
      expect(set.callCount).to.equal(2);
      expect(e.firedAt).to.deep.equal([]);
      expect(e.scheduled()).to.equal(true);
      clock.tick(1);
      expect(e.firedAt).to.deep.equal([175]);
      expect(e.scheduled()).to.equal(false);
      expect(clock.countTimers()).to.equal(0);
    } finally {
      set.restore();
      cleared.restore();
    }
  });

  it('re-arming moves an entry behind the others; each fires at its own deadline', () => {
    const [a, b, c] = [new Entry(clock), new Entry(clock), new Entry(clock)];
    a.schedule(100);
    clock.tick(10);
    b.schedule(100);
    clock.tick(10);
    c.schedule(100); // due at 120
    clock.tick(10);
    a.schedule(100); // at 30, from the head to the tail: due at 130
    b.schedule(100); // at 30, from the head again: due at 130, after a
    c.schedule(100); // at 30, from the head: due at 130, after b
    clock.tick(40);
    c.schedule(100); // at 70, already the tail: due at 170
    a.schedule(100); // at 70, the head: due at 170, after c
    clock.tick(59); // 129
    expect([a.firedAt, b.firedAt, c.firedAt]).to.deep.equal([[], [], []]);
    clock.tick(1); // 130
    expect([a.firedAt, b.firedAt, c.firedAt]).to.deep.equal([[], [130], []]);
    clock.tick(40); // 170
    expect([a.firedAt, b.firedAt, c.firedAt]).to.deep.equal([[170], [130], [170]]);
    expect(clock.countTimers()).to.equal(0);
  });

  it('an entry re-armed with another duration moves to that list; unscheduling the last entry clears the timer', () => {
    const e = new Entry(clock);
    e.schedule(100);
    e.schedule(50);
    expect(clock.countTimers()).to.equal(1);
    clock.tick(50);
    expect(e.firedAt).to.deep.equal([50]);
    e.schedule(100);
    e.schedule(100);
    e.unschedule();
    expect(clock.countTimers()).to.equal(0);
    clock.tick(200);
    expect(e.firedAt).to.deep.equal([50]);
  });
});
