/**
 * What a user installs: `npm pack` of the working tree (its `prepack` builds from the sources
 * alone, as from a fresh clone), installed offline into new projects the way users consume it:
 * ESM with TypeScript's `node16` and `bundler` resolutions (type-checked with `skipLibCheck` off,
 * so the shipped declarations must be whole), and CommonJS through `require`. The package is
 * ESM-only; `require(esm)` is on by default from Node 20.19 and 22.12, which is what `engines`
 * asks for.
 */

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';

const root = process.cwd();
const run = promisify(execFile);
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
// What prepack needs, and nothing the package would not find in a clone.
const sources = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'SECURITY.md', 'tsconfig.json', 'tsconfig.build.json', 'lib'];

interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

/** Runs a command; on failure, the error carries its output (mocha shows it). */
async function sh(file: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(file, args, { cwd, timeout: 120_000, maxBuffer: 16 << 20, env: { ...process.env, npm_config_update_notifier: 'false' } });
    return stdout;
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

/** A project with the tarball installed, and `files` written into it. */
async function project(base: string, name: string, tarball: string, files: Record<string, string>): Promise<string> {
  const dir = join(base, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  await sh('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--cache', join(base, 'npm-cache'), tarball], dir);
  return dir;
}

const tsconfig = (options: Record<string, unknown>, include: string[]): string =>
  JSON.stringify({
    compilerOptions: {
      strict: true,
      skipLibCheck: false,
      target: 'ES2022',
      lib: ['ES2023'],
      types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types')],
      outDir: 'out',
      ...options,
    },
    include,
  });

// Uses every entry point, runs a WebSocket handshake and a message over the test stream, and
// checks that an @internal member is not in the published types.
const esmMain = `import { net } from 'tsbeast';
import { FlatBuffer, IoContext, SteadyTimer, buffer, buffersToString } from 'tsbeast/net';
import { TcpStream } from 'tsbeast/core';
import { Request } from 'tsbeast/http';
import { TestStream } from 'tsbeast/test';
import { Stream } from 'tsbeast/websocket';

const ioc = new IoContext();
const [a, b] = TestStream.pair(ioc);
const client = new Stream(a);
const server = new Stream(b);
// @ts-expect-error: an @internal member, stripped from the published declarations
void client.impl;
const running = ioc.run();
await Promise.all([server.asyncAccept(), client.asyncHandshake('localhost', '/')]);
const received = new FlatBuffer();
await Promise.all([client.asyncWrite(buffer('hello')), server.asyncRead(received)]);
await new SteadyTimer(ioc, 1).asyncWait();
await Promise.all([client.asyncClose(1000), server.asyncRead(new FlatBuffer()).catch(() => undefined)]);
await running;
const ok = net.IoContext === IoContext && typeof TcpStream === 'function' && typeof Request === 'function';
console.log(ok ? buffersToString(received.data()) : 'entry points differ');
`;

const cjsMain = `const { net } = require('tsbeast');
const { Stream } = require('tsbeast/websocket');
const { IoContext, SteadyTimer } = require('tsbeast/net');
const ioc = new IoContext();
new SteadyTimer(ioc, 1).asyncWait((ec) => {
  console.log(ec === null && net.IoContext === IoContext && typeof Stream === 'function' ? 'required' : 'wrong');
});
ioc.run();
`;

// TypeScript 5.8+ accepts require() of an ES module under module nodenext, as Node does.
const ctsMain = `import tsbeast = require('tsbeast/net');
const ioc: tsbeast.IoContext = new tsbeast.IoContext();
export const timer = new tsbeast.SteadyTimer(ioc, 1);
`;

describe('package: npm pack, installed into ESM and CommonJS projects', function () {
  this.timeout(300_000);
  let base = '';
  let tarball = '';
  let packed: Packed;

  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'tsbeast-pack-'));
    const tree = join(base, 'tree');
    mkdirSync(tree);
    for (const s of sources) if (existsSync(join(root, s))) cpSync(join(root, s), join(tree, s), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'), 'dir');
    const json = await sh('npm', ['pack', '--json', '--pack-destination', base], tree);
    packed = (JSON.parse(json.slice(json.indexOf('['))) as Packed[])[0]!;
    tarball = join(base, packed.filename);
  });

  after(() => {
    if (base !== '') rmSync(base, { recursive: true, force: true });
  });

  it('ships the built entry points, their declarations, the license and the docs, and no specs', () => {
    const paths = new Set(packed.files.map((f) => f.path));
    const exportsMap = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> }).exports;
    for (const target of Object.values(exportsMap)) {
      for (const file of typeof target === 'string' ? [target] : Object.values(target)) {
        expect(paths.has(posix.normalize(file)), file).to.equal(true);
      }
    }
    for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md', 'SECURITY.md']) expect(paths.has(file), file).to.equal(true);
    const stray = [...paths].filter((p) => /^(spec|bench|examples|docs|dist\/(spec|bench|examples))\//.test(p));
    expect(stray).to.deep.equal([]);
  });

  it('ships every file its source maps and declaration maps point at', () => {
    const paths = new Set(packed.files.map((f) => f.path));
    const tree = join(base, 'tree');
    const maps = [...paths].filter((p) => p.endsWith('.map'));
    expect(maps.length).to.be.greaterThan(50);
    for (const map of maps) {
      const { sources: refs } = JSON.parse(readFileSync(join(tree, map), 'utf8')) as { sources: string[] };
      for (const ref of refs) expect(paths.has(posix.join(posix.dirname(map), ref)), `${map} -> ${ref}`).to.equal(true);
    }
  });

  it('type-checks and runs in an ESM project with node16 resolution', async () => {
    const dir = await project(base, 'esm-node16', tarball, {
      'package.json': JSON.stringify({ name: 'esm-node16', private: true, type: 'module' }),
      'tsconfig.json': tsconfig({ module: 'node16', moduleResolution: 'node16' }, ['main.ts']),
      'main.ts': esmMain,
    });
    await sh(process.execPath, [tsc, '-p', '.'], dir);
    expect((await sh(process.execPath, ['out/main.js'], dir)).trim()).to.equal('hello');
  });

  it('type-checks and runs in an ESM project with bundler resolution', async () => {
    const dir = await project(base, 'esm-bundler', tarball, {
      'package.json': JSON.stringify({ name: 'esm-bundler', private: true, type: 'module' }),
      'tsconfig.json': tsconfig({ module: 'preserve', moduleResolution: 'bundler' }, ['main.ts']),
      'main.ts': esmMain,
    });
    await sh(process.execPath, [tsc, '-p', '.'], dir);
    expect((await sh(process.execPath, ['out/main.js'], dir)).trim()).to.equal('hello');
  });

  it('loads with require() in a CommonJS project, and type-checks there under nodenext', async () => {
    const dir = await project(base, 'cjs', tarball, {
      'package.json': JSON.stringify({ name: 'cjs', private: true, type: 'commonjs' }),
      'tsconfig.json': tsconfig({ module: 'nodenext', moduleResolution: 'nodenext', noEmit: true }, ['main.cts']),
      'main.cjs': cjsMain,
      'main.cts': ctsMain,
    });
    await sh(process.execPath, [tsc, '-p', '.'], dir);
    expect((await sh(process.execPath, ['main.cjs'], dir)).trim()).to.equal('required');
  });
});
