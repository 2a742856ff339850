// The examples' command line: Node's parseArgs, plus `--help` / `-h` (prints the usage, exits 0)
// and a plain message instead of a stack trace for an option it does not know (exits 2).

import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `process.argv` with `options`, or prints `usage` and exits as described above. */
export function parseCommandLine<O extends Options>(options: O, usage: string): ReturnType<typeof parseArgs<{ options: O }>>['values'] {
  let values;
  try {
    ({ values } = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  if ((values as Record<string, unknown>).help === true) {
    console.log(usage);
    process.exit(0);
  }
  return values as ReturnType<typeof parseArgs<{ options: O }>>['values'];
}
