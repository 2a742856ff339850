// Specs for lib/net/error.ts: interned, frozen error codes, categories, conditions, SystemError
// and the mapping from Node's error strings. No I/O.

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  addrinfoCategory,
  error,
  ErrorCategory,
  ErrorCode,
  ErrorCondition,
  fromErrno,
  fromNodeError,
  miscCategory,
  netdbCategory,
  nodeCategory,
  SystemError,
  systemCategory,
  throwIfError,
} from '../../lib/net/index.js';

describe('net/error', () => {
  describe('interning', () => {
    it('returns the same frozen object for a (category, value) pair', () => {
      expect(systemCategory.code(104)).to.equal(error.connectionReset);
      expect(systemCategory.code(104)).to.equal(systemCategory.code(104));
      expect(systemCategory.code(osConstants.errno.ECANCELED)).to.equal(error.operationAborted);
      expect(miscCategory.code(2)).to.equal(error.eof);
      expect(netdbCategory.code(1)).to.equal(error.hostNotFound);
      expect(addrinfoCategory.code(1)).to.equal(error.serviceNotFound);
    });

    it('keeps equal values of different categories distinct', () => {
      expect(miscCategory.code(1)).to.not.equal(netdbCategory.code(1));
      expect(miscCategory.code(1)).to.not.equal(systemCategory.code(1));
      expect(error.alreadyOpen.value).to.equal(1);
      expect(error.alreadyOpen.category).to.equal(miscCategory);
      expect(error.noPermission.value).to.equal(1);
      expect(error.noPermission.category).to.equal(systemCategory);
    });

    it('interns codes of a user-defined category', () => {
      const cat = new ErrorCategory('test.interning', (v) => `value ${v}`);
      const a = cat.code(7);
      expect(cat.code(7)).to.equal(a);
      expect(cat.code(8)).to.not.equal(a);
      expect(a.category).to.equal(cat);
      expect(a.value).to.equal(7);
    });

    it('defines a category from a table of messages (fromMessages); a value outside it names the category', () => {
      const cat = ErrorCategory.fromMessages('test.table', { 1: 'first', 3: 'third' });
      expect(cat.name).to.equal('test.table');
      expect(cat.code(1).message()).to.equal('first');
      expect(cat.code(3).toString()).to.equal('test.table:3 (third)');
      expect(cat.message(2)).to.equal('test.table error 2');
      expect(cat.code(1)).to.equal(cat.code(1));
      expect(cat.equivalent(cat.code(1), new ErrorCondition('any', () => true))).to.equal(false);
    });

    it('uses the platform errno values in the system category', () => {
      expect(error.connectionReset.value).to.equal(osConstants.errno.ECONNRESET);
      expect(error.connectionRefused.value).to.equal(osConstants.errno.ECONNREFUSED);
      expect(error.brokenPipe.value).to.equal(osConstants.errno.EPIPE);
      expect(error.timedOut.value).to.equal(osConstants.errno.ETIMEDOUT);
      // EWOULDBLOCK and EAGAIN are one value on Linux, so the two names are one object.
      expect(error.wouldBlock).to.equal(error.tryAgain);
    });
  });

  describe('frozen codes', () => {
    it('cannot be modified', () => {
      const ec = error.connectionReset;
      expect(Object.isFrozen(ec)).to.equal(true);
      expect(() => {
        (ec as unknown as { value: number }).value = 1;
      }).to.throw(TypeError);
      expect(() => {
        (ec as unknown as { extra: number }).extra = 1;
      }).to.throw(TypeError);
      expect(ec.value).to.equal(osConstants.errno.ECONNRESET);
    });

    it('freezes the error table', () => {
      expect(Object.isFrozen(error)).to.equal(true);
      expect(() => {
        (error as unknown as { eof: unknown }).eof = null;
      }).to.throw(TypeError);
      expect(error.eof).to.be.instanceOf(ErrorCode);
    });

    it('forbids new ErrorCode outside ErrorCategory.code', () => {
      const Ctor = ErrorCode as unknown as new (c: ErrorCategory, v: number, k: symbol) => ErrorCode;
      expect(() => new Ctor(systemCategory, 104, Symbol('ErrorCode.intern'))).to.throw(TypeError);
      expect(() => new Ctor(systemCategory, 104, Symbol.for('ErrorCode.intern'))).to.throw(TypeError);
    });
  });

  describe('messages', () => {
    it('gives each category its messages', () => {
      expect(error.connectionReset.message()).to.equal('Connection reset by peer');
      expect(error.operationAborted.message()).to.equal('Operation canceled');
      expect(error.eof.message()).to.equal('End of file');
      expect(error.hostNotFound.message()).to.equal('Host not found (authoritative)');
      expect(error.serviceNotFound.message()).to.equal('Service not found');
      expect(systemCategory.message(osConstants.errno.EPIPE)).to.equal('Broken pipe');
    });

    it('has a fallback for unknown values', () => {
      expect(systemCategory.code(99999).message()).to.equal('Unknown system error 99999');
      expect(miscCategory.code(77).message()).to.equal('asio.misc error 77');
      expect(netdbCategory.code(77).message()).to.equal('asio.netdb error 77');
    });

    it('prints category, value and message', () => {
      expect(error.eof.toString()).to.equal('asio.misc:2 (End of file)');
      expect(String(error.connectionReset)).to.equal(
        `system:${osConstants.errno.ECONNRESET} (Connection reset by peer)`,
      );
    });
  });

  describe('fromErrno', () => {
    it('maps errno names into the system category', () => {
      expect(fromErrno('ECONNRESET')).to.equal(error.connectionReset);
      expect(fromErrno('ECONNREFUSED')).to.equal(error.connectionRefused);
      expect(fromErrno('EPIPE')).to.equal(error.brokenPipe);
      expect(fromErrno('ENOENT')).to.equal(systemCategory.code(osConstants.errno.ENOENT));
    });

    it("maps Node's resolver and stream names to Asio's values", () => {
      expect(fromErrno('ENOTFOUND')).to.equal(error.hostNotFound);
      expect(fromErrno('EAI_AGAIN')).to.equal(error.hostNotFoundTryAgain);
      expect(fromErrno('EAI_FAIL')).to.equal(error.noRecovery);
      expect(fromErrno('EAI_SERVICE')).to.equal(error.serviceNotFound);
      expect(fromErrno('ABORT_ERR')).to.equal(error.operationAborted);
      expect(fromErrno('ERR_STREAM_DESTROYED')).to.equal(error.operationAborted);
      expect(fromErrno('ERR_STREAM_WRITE_AFTER_END')).to.equal(error.brokenPipe);
    });

    it('interns unknown names in the node category, stably', () => {
      const a = fromErrno('ERR_TSBEAST_SPEC_UNKNOWN_A');
      const b = fromErrno('ERR_TSBEAST_SPEC_UNKNOWN_B');
      expect(a.category).to.equal(nodeCategory);
      expect(b.category).to.equal(nodeCategory);
      expect(a).to.not.equal(b);
      expect(fromErrno('ERR_TSBEAST_SPEC_UNKNOWN_A')).to.equal(a);
      expect(fromErrno('ERR_TSBEAST_SPEC_UNKNOWN_B')).to.equal(b);
      expect(nodeCategory.code(a.value)).to.equal(a);
      expect(a.message()).to.equal('ERR_TSBEAST_SPEC_UNKNOWN_A');
      expect(Object.isFrozen(a)).to.equal(true);
    });

    it('treats names of Object.prototype members as unknown names too', () => {
      for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
        const ec = fromErrno(name);
        expect(ec, name).to.be.instanceOf(ErrorCode);
        expect(ec.category, name).to.equal(nodeCategory);
        expect(fromErrno(name), name).to.equal(ec);
        expect(ec.message(), name).to.equal(name);
        expect(fromNodeError({ code: name }), name).to.equal(ec);
      }
    });
  });

  describe('fromNodeError', () => {
    it('reads the string code of an error-like object', () => {
      expect(fromNodeError({ code: 'ECONNRESET' })).to.equal(error.connectionReset);
      expect(fromNodeError({ code: 'ENOTFOUND', hostname: 'nowhere.invalid' })).to.equal(error.hostNotFound);
      expect(fromNodeError(Object.assign(new Error('x'), { code: 'EPIPE' }))).to.equal(error.brokenPipe);
    });

    it('reads a negative numeric code as an errno value', () => {
      expect(fromNodeError({ code: -osConstants.errno.ECONNRESET })).to.equal(error.connectionReset);
    });

    it('returns the code a SystemError carries', () => {
      expect(fromNodeError(new SystemError(error.eof))).to.equal(error.eof);
    });

    it('falls back to fault for anything else', () => {
      expect(fromNodeError(new Error('no code'))).to.equal(error.fault);
      expect(fromNodeError({ code: 5 })).to.equal(error.fault);
      expect(fromNodeError('ECONNRESET')).to.equal(error.fault);
      expect(fromNodeError(null)).to.equal(error.fault);
      expect(fromNodeError(undefined)).to.equal(error.fault);
    });

    it('maps real Node errors', async () => {
      let fsError: unknown;
      try {
        readFileSync('/nonexistent/tsbeast/spec/file');
      } catch (err) {
        fsError = err;
      }
      expect(fromNodeError(fsError)).to.equal(systemCategory.code(osConstants.errno.ENOENT));

      let abortError: unknown;
      try {
        await sleep(10_000, undefined, { signal: AbortSignal.abort() });
      } catch (err) {
        abortError = err;
      }
      expect((abortError as { code?: unknown }).code).to.equal('ABORT_ERR');
      expect(fromNodeError(abortError)).to.equal(error.operationAborted);
    });
  });

  describe('ErrorCondition', () => {
    it('holds listed members', () => {
      const cond = new ErrorCondition('spec.peerGone', [error.connectionReset, error.brokenPipe, error.eof]);
      expect(cond.equivalent(error.connectionReset)).to.equal(true);
      expect(cond.equivalent(error.eof)).to.equal(true);
      expect(cond.equivalent(error.timedOut)).to.equal(false);
      expect(error.brokenPipe.matches(cond)).to.equal(true);
      expect(error.operationAborted.matches(cond)).to.equal(false);
      expect(cond.toString()).to.equal('spec.peerGone');
      expect(cond.name).to.equal('spec.peerGone');
      expect(Object.isFrozen(cond)).to.equal(true);
    });

    it('decides by a predicate', () => {
      const cond = new ErrorCondition('spec.misc', (ec) => ec.category === miscCategory);
      expect(error.eof.matches(cond)).to.equal(true);
      expect(error.notFound.matches(cond)).to.equal(true);
      expect(error.connectionReset.matches(cond)).to.equal(false);
    });

    it("lets a category declare its codes equivalent to another category's condition", () => {
      const timeoutCondition = new ErrorCondition('spec.timeout', [error.timedOut]);
      const cat = new ErrorCategory(
        'spec.equivalent',
        (v) => (v === 1 ? 'deadline passed' : `spec ${v}`),
        (code, condition) => condition === timeoutCondition && code.value === 1,
      );
      const deadline = cat.code(1);
      const other = cat.code(2);
      expect(timeoutCondition.equivalent(deadline)).to.equal(false);
      expect(cat.equivalent(deadline, timeoutCondition)).to.equal(true);
      expect(cat.equivalent(other, timeoutCondition)).to.equal(false);
      expect(deadline.matches(timeoutCondition)).to.equal(true);
      expect(other.matches(timeoutCondition)).to.equal(false);
      expect(error.timedOut.matches(timeoutCondition)).to.equal(true);
      // A category without an equivalence function declares nothing.
      expect(systemCategory.equivalent(error.eof, timeoutCondition)).to.equal(false);
    });
  });

  describe('SystemError', () => {
    it('carries the code and its message', () => {
      const err = new SystemError(error.connectionReset);
      expect(err).to.be.instanceOf(Error);
      expect(err.name).to.equal('SystemError');
      expect(err.code).to.equal(error.connectionReset);
      expect(err.message).to.equal('Connection reset by peer');
      expect(err.cause).to.equal(undefined);
    });

    it('prefixes the message with what failed and keeps the cause', () => {
      const cause = new Error('underlying');
      const err = new SystemError(error.eof, 'read', { cause });
      expect(err.message).to.equal('read: End of file');
      expect(err.cause).to.equal(cause);
      expect(err.code).to.equal(error.eof);
    });

    it('is what throwIfError throws', () => {
      expect(() => throwIfError(null)).to.not.throw();
      let thrown: unknown;
      try {
        throwIfError(error.timedOut, 'connect');
      } catch (err) {
        thrown = err;
      }
      expect(thrown).to.be.instanceOf(SystemError);
      expect((thrown as SystemError).code).to.equal(error.timedOut);
      expect((thrown as SystemError).message).to.equal('connect: Connection timed out');
    });
  });
});
