// Specs for lib/beast/http/fields.ts, message.ts and error.ts: the Fields container (case-
// insensitive names, order, repeats, validation), token lists, isUpgrade / keepAlive, reason
// phrases, and the beast.http error category.

import { expect } from 'chai';

import { error, httpCategory } from '../../../lib/beast/http/error.js';
import { Fields, tokenListContains } from '../../../lib/beast/http/fields.js';
import { isUpgrade, keepAlive, obsoleteReason, Request, Response } from '../../../lib/beast/http/message.js';

describe('beast/http/fields', () => {
  describe('Fields', () => {
    it('looks names up case-insensitively and keeps the case they were given in', () => {
      const f = new Fields().insert('Content-Type', 'text/plain');
      expect(f.get('content-type')).to.equal('text/plain');
      expect(f.get('CONTENT-TYPE')).to.equal('text/plain');
      expect(f.has('Content-type')).to.equal(true);
      expect([...f]).to.deep.equal([['Content-Type', 'text/plain']]);
      expect(f.get('Host')).to.equal(undefined);
      expect(f.has('Host')).to.equal(false);
    });

    it('keeps repeated fields in order; get gives the first, getAll all, count the number', () => {
      const f = new Fields([
        ['Set-Cookie', 'a=1'],
        ['Host', 'h'],
        ['set-cookie', 'b=2'],
      ]);
      expect(f.get('SET-COOKIE')).to.equal('a=1');
      expect(f.getAll('Set-Cookie')).to.deep.equal(['a=1', 'b=2']);
      expect(f.count('set-cookie')).to.equal(2);
      expect(f.count('X')).to.equal(0);
      expect(f.size).to.equal(3);
      expect([...f.entries()]).to.deep.equal([
        ['Set-Cookie', 'a=1'],
        ['Host', 'h'],
        ['set-cookie', 'b=2'],
      ]);
    });

    it('set replaces every field of the name, in the place of the first', () => {
      const f = new Fields([
        ['A', '1'],
        ['B', '2'],
        ['a', '3'],
      ]);
      f.set('a', 'x');
      expect([...f]).to.deep.equal([
        ['a', 'x'],
        ['B', '2'],
      ]);
      f.set('C', 7);
      expect(f.get('c')).to.equal('7');
      expect(f.size).to.equal(3);
    });

    it('insert and append add at the end; erase removes all of a name and counts them', () => {
      const f = new Fields({ A: '1' });
      f.insert('B', '2').append('a', '3');
      expect([...f].map(([n]) => n)).to.deep.equal(['A', 'B', 'a']);
      expect(f.erase('A')).to.equal(2);
      expect(f.erase('A')).to.equal(0);
      expect([...f]).to.deep.equal([['B', '2']]);
      f.clear();
      expect(f.size).to.equal(0);
    });

    it('trims surrounding spaces and tabs from values, as Beast does', () => {
      const f = new Fields().insert('X', ' \t v a \t');
      expect(f.get('x')).to.equal('v a');
    });

    it('rejects names that are not tokens and values with control characters (no header injection)', () => {
      const f = new Fields();
      expect(() => f.insert('Bad Name', 'v')).to.throw(TypeError);
      expect(() => f.insert('', 'v')).to.throw(TypeError);
      expect(() => f.insert('X:', 'v')).to.throw(TypeError);
      expect(() => f.set('X', 'a\r\nInjected: 1')).to.throw(TypeError);
      expect(() => f.set('X', 'a\nb')).to.throw(TypeError);
      expect(() => f.set('X', 'a\u0000b')).to.throw(TypeError);
      expect(() => f.set('X', 'snowman \u2603')).to.throw(TypeError);
      expect(() => f.set('X', 'caf\u00e9\tok')).to.not.throw();
      expect(f.size).to.equal(1);
    });

    it('clone copies; toString gives the wire form', () => {
      const f = new Fields([
        ['A', '1'],
        ['B', '2'],
      ]);
      const g = f.clone();
      g.set('A', 'changed');
      expect(f.get('a')).to.equal('1');
      expect(f.toString()).to.equal('A: 1\r\nB: 2\r\n');
    });

    it('containsToken reads every repeat of a field as one list', () => {
      const f = new Fields([
        ['Connection', 'keep-alive'],
        ['connection', 'Upgrade'],
      ]);
      expect(f.containsToken('CONNECTION', 'upgrade')).to.equal(true);
      expect(f.containsToken('Connection', 'close')).to.equal(false);
      expect(f.containsToken('Upgrade', 'websocket')).to.equal(false);
    });
  });

  describe('tokenListContains', () => {
    it('is case-insensitive, comma-separated and whitespace-tolerant', () => {
      expect(tokenListContains('keep-alive, Upgrade', 'upgrade')).to.equal(true);
      expect(tokenListContains('keep-alive,Upgrade', 'UPGRADE')).to.equal(true);
      expect(tokenListContains(' \tupgrade\t ', 'upgrade')).to.equal(true);
      expect(tokenListContains(',, upgrade ,', 'upgrade')).to.equal(true);
      expect(tokenListContains('Upgrade', 'upgrade')).to.equal(true);
    });

    it('matches whole elements only', () => {
      expect(tokenListContains('upgraded', 'upgrade')).to.equal(false);
      expect(tokenListContains('no-upgrade, x', 'upgrade')).to.equal(false);
      expect(tokenListContains('', 'upgrade')).to.equal(false);
      expect(tokenListContains(undefined, 'upgrade')).to.equal(false);
    });
  });

  describe('isUpgrade', () => {
    const req = (init: ConstructorParameters<typeof Request>[0]): Request => new Request(init);
    const ws = { Connection: 'keep-alive, Upgrade', Upgrade: 'WebSocket', Host: 'h' };

    it('is true for GET HTTP/1.1 with Connection: upgrade and Upgrade: websocket', () => {
      expect(isUpgrade(req({ fields: ws }))).to.equal(true);
    });

    it('is false for another method, HTTP/1.0, or a missing token', () => {
      expect(isUpgrade(req({ method: 'POST', fields: ws }))).to.equal(false);
      expect(isUpgrade(req({ method: 'get', fields: ws }))).to.equal(false);
      expect(isUpgrade(req({ version: 10, fields: ws }))).to.equal(false);
      expect(isUpgrade(req({ fields: { Connection: 'keep-alive', Upgrade: 'websocket' } }))).to.equal(false);
      expect(isUpgrade(req({ fields: { Connection: 'upgrade', Upgrade: 'h2c' } }))).to.equal(false);
      expect(isUpgrade(req({ fields: { Upgrade: 'websocket' } }))).to.equal(false);
    });
  });

  describe('keepAlive', () => {
    it('follows RFC 9112 section 9.3 for each version', () => {
      expect(keepAlive(new Request())).to.equal(true);
      expect(keepAlive(new Request({ fields: { Connection: 'close' } }))).to.equal(false);
      expect(keepAlive(new Response({ version: 10 }))).to.equal(false);
      expect(keepAlive(new Response({ version: 10, fields: { Connection: 'Keep-Alive' } }))).to.equal(true);
    });
  });

  describe('messages', () => {
    it('have Beast-like defaults', () => {
      const q = new Request();
      expect([q.method, q.target, q.version, q.fields.size, q.body.length]).to.deep.equal(['GET', '/', 11, 0, 0]);
      const s = new Response();
      expect([s.status, s.reason, s.version, s.fields.size, s.body.length]).to.deep.equal([200, '', 11, 0, 0]);
    });

    it('use a given Fields as is', () => {
      const f = new Fields({ A: '1' });
      expect(new Request({ fields: f }).fields).to.equal(f);
    });

    it('obsoleteReason gives the registered phrases', () => {
      expect(obsoleteReason(101)).to.equal('Switching Protocols');
      expect(obsoleteReason(400)).to.equal('Bad Request');
      expect(obsoleteReason(426)).to.equal('Upgrade Required');
      expect(obsoleteReason(799)).to.equal('<unknown-status>');
    });
  });

  describe('error', () => {
    it('keeps Beast numbering in the beast.http category, with a message for each', () => {
      expect(httpCategory.name).to.equal('beast.http');
      expect(error.endOfStream.value).to.equal(1);
      expect(error.headerLimit.value).to.equal(8);
      expect(error.badLineEnding.value).to.equal(11);
      expect(error.multipleContentLength.value).to.equal(24);
      expect(error.shortRead.value).to.equal(26);
      const codes = Object.values(error);
      expect(codes).to.have.length(26);
      expect(new Set(codes.map((c) => c.message())).size).to.equal(26);
      for (const c of codes) expect(c.category).to.equal(httpCategory);
      expect(httpCategory.code(8)).to.equal(error.headerLimit);
    });
  });
});
