/**
 * The snippets in docs/*.md are real files under docs/snippets/, compiled with the project. This
 * spec checks that each code block in the docs is exactly its file, runs the compiled file, and
 * checks that its output is what the docs say it prints.
 */

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = process.cwd();
const run = promisify(execFile);

interface Snippet {
  doc: string;
  path: string;
  code: string;
  output: string | undefined;
}

function snippetsOf(doc: string): Snippet[] {
  const text = readFileSync(join(root, 'docs', doc), 'utf8');
  const pattern = /<!-- snippet: (\S+) -->\n```ts\n([\s\S]*?)\n```(?:\n\nIt prints:\n\n```text\n([\s\S]*?)\n```)?/g;
  return [...text.matchAll(pattern)].map((m) => ({ doc, path: m[1]!, code: m[2]!, output: m[3] }));
}

// The top-level pages and the how-to pages under docs/howto/.
const docs = [
  ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')),
  ...readdirSync(join(root, 'docs', 'howto')).filter((f) => f.endsWith('.md')).map((f) => `howto/${f}`),
];
const snippets = docs.flatMap(snippetsOf);

describe('docs: every snippet compiles, runs and prints what the docs say', () => {
  it('the docs have snippets', () => {
    expect(snippets.length).to.be.greaterThan(5);
  });

  for (const s of snippets) {
    it(`${s.doc}: ${s.path}`, async () => {
      const source = readFileSync(join(root, s.path), 'utf8').replace(/\n$/, '');
      expect(s.code, 'the code block differs from the file').to.equal(source);
      const compiled = join(root, 'dist', s.path.replace(/\.ts$/, '.js'));
      const { stdout } = await run(process.execPath, [compiled], { cwd: root, timeout: 10_000 });
      if (s.output !== undefined) expect(stdout.replace(/\n$/, '')).to.equal(s.output);
    });
  }
});
