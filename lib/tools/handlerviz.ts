#!/usr/bin/env node
/**
 * tsbeast-handlerviz: turns a handler tracking log into a picture (the role of Asio's
 * handlerviz.pl, without Graphviz). Reads the log from a file or standard input; writes a
 * self-contained HTML page, or an SVG with `--svg`, to a file or standard output.
 *
 *   TSBEAST_HANDLER_TRACKING=1 node server.js 2> handlers.log
 *   npx tsbeast-handlerviz handlers.log -o handlers.html
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseHandlerLog } from './handler-log.js';
import { renderHtml, renderSvg } from './handlerviz-svg.js';

const usage = `usage: tsbeast-handlerviz [log-file] [-o out.html|out.svg] [--svg] [--title text]
Reads a handler tracking log (TSBEAST_HANDLER_TRACKING=1 writes one to standard error) from the
file or standard input and draws it: an HTML page, or an SVG with --svg or an output ending .svg.`;

function main(argv: readonly string[]): number {
  let input: string | undefined;
  let output: string | undefined;
  let svg = false;
  let title: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-o' || a === '--output') output = argv[++i];
    else if (a === '--svg') svg = true;
    else if (a === '--title') title = argv[++i];
    else if (a === '-h' || a === '--help') {
      process.stdout.write(usage + '\n');
      return 0;
    } else if (a.startsWith('-')) {
      process.stderr.write(`tsbeast-handlerviz: unknown option ${a}\n${usage}\n`);
      return 2;
    } else input = a;
  }
  const text = readFileSync(input ?? 0, 'utf8');
  const log = parseHandlerLog(text);
  if (log.events === 0) {
    process.stderr.write('tsbeast-handlerviz: no handler tracking lines in the input\n');
    return 1;
  }
  const name = title ?? (input !== undefined ? basename(input) : 'handler tracking');
  const picture = svg || output?.endsWith('.svg') === true ? renderSvg(log, name) : renderHtml(log, name);
  if (output === undefined) process.stdout.write(picture);
  else writeFileSync(output, picture);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
