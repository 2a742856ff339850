/**
 * Fields: the header fields of an HTTP message (Beast's `basic_fields`), and the token-list
 * helper used to read fields such as `Connection: keep-alive, Upgrade`. A container only: no I/O
 * here, and no interpretation of what the fields mean (the parser and serializer do that).
 */

import { isFieldValue, isToken, tokenListContains, trimOws } from './field-syntax.js';

export { tokenListContains } from './field-syntax.js';

interface Entry {
  name: string; // as given, for output in the original case
  key: string; // lower case, for lookup (field names are case-insensitive, RFC 9110 section 5.1)
  value: string;
}

/**
 * @internal The key of the method the parser appends with: the name is a token and the value
 * checked and trimmed already, so the checks of {@link Fields.insert} are skipped. Not exported
 * from the package entry.
 */
export const appendChecked: unique symbol = Symbol('Fields.appendChecked');

/** What a {@link Fields} can be built from: name/value pairs or a record. */
export type FieldsInit = Iterable<readonly [string, string]> | Readonly<Record<string, string>>;

function checkName(name: string): void {
  if (!isToken(name)) throw new TypeError(`invalid HTTP field name ${JSON.stringify(name)}`);
}

function checkValue(name: string, value: string): void {
  if (!isFieldValue(value)) throw new TypeError(`invalid value for HTTP field ${name}: ${JSON.stringify(value)}`);
}

/** Removes leading and trailing SP / HTAB, as Beast does on insert (RFC 9110 section 5.5). */
function trimValue(value: string): string {
  const n = value.length;
  if (n === 0) return value;
  const a = value.charCodeAt(0);
  const z = value.charCodeAt(n - 1);
  // Values from the parser are already trimmed: test the ends before building a new string.
  return a === 0x20 || a === 0x09 || z === 0x20 || z === 0x09 ? trimOws(value) : value;
}

/**
 * An ordered list of header fields. Names compare case-insensitively and keep the case they were
 * given in; repeated fields are kept, in order (RFC 9110 section 5.3).
 *
 * Names must be tokens and values must be free of control characters (CR, LF, NUL …) and of
 * characters above U+00FF; anything else throws a `TypeError`, so that no caller-supplied value
 * can inject a field or end the header early. (Beast does not check; see the http index module.)
 * Values are stored trimmed of surrounding SP / HTAB, as in Beast.
 */
export class Fields implements Iterable<[name: string, value: string]> {
  #list: Entry[] = [];

  /**
   * @param init - fields to insert, in order: pairs (repeats allowed) or a record.
   */
  constructor(init?: FieldsInit) {
    if (init === undefined) return;
    const pairs: Iterable<readonly [string, string]> =
      Symbol.iterator in init ? (init as Iterable<readonly [string, string]>) : Object.entries(init);
    for (const [name, value] of pairs) this.insert(name, value);
  }

  /** The number of fields, repeats included. */
  get size(): number {
    return this.#list.length;
  }

  /** The value of the first field named `name` (any case), or `undefined` if there is none. */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    for (const e of this.#list) if (e.key === key) return e.value;
    return undefined;
  }

  /** The values of every field named `name`, in order; empty when there is none. */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    const out: string[] = [];
    for (const e of this.#list) if (e.key === key) out.push(e.value);
    return out;
  }

  /** Whether at least one field is named `name`. */
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** How many fields are named `name`. */
  count(name: string): number {
    const key = name.toLowerCase();
    let n = 0;
    for (const e of this.#list) if (e.key === key) n++;
    return n;
  }

  /**
   * Whether any field named `name` holds `token` in its comma-separated list (case-insensitive),
   * e.g. `fields.containsToken('Connection', 'upgrade')`. Repeated fields count as one list
   * (RFC 9110 section 5.3).
   */
  containsToken(name: string, token: string): boolean {
    const key = name.toLowerCase();
    for (const e of this.#list) if (e.key === key && tokenListContains(e.value, token)) return true;
    return false;
  }

  /**
   * Sets `name` to the single value `value`: the first field of that name takes the new value
   * (and the case of `name`), every later one is removed; with none, the field is appended.
   * @throws TypeError if the name is not a token or the value holds forbidden characters.
   */
  set(name: string, value: string | number): this {
    checkName(name);
    const v = trimValue(String(value));
    checkValue(name, v);
    const key = name.toLowerCase();
    const i = this.#list.findIndex((e) => e.key === key);
    if (i < 0) {
      this.#list.push({ name, key, value: v });
    } else {
      this.#list[i] = { name, key, value: v };
      this.#list = this.#list.filter((e, j) => j <= i || e.key !== key);
    }
    return this;
  }

  /**
   * Appends a field, keeping any others of the same name (Beast's `insert`).
   * @throws TypeError if the name is not a token or the value holds forbidden characters.
   */
  insert(name: string, value: string | number): this {
    checkName(name);
    const v = trimValue(String(value));
    checkValue(name, v);
    this.#list.push({ name, key: name.toLowerCase(), value: v });
    return this;
  }

  /** @internal see {@link appendChecked}; `key` is the lower-case name. */
  [appendChecked](name: string, key: string, value: string): void {
    this.#list.push({ name, key, value });
  }

  /** Same as {@link Fields.insert}, under the name the Fetch API uses. */
  append(name: string, value: string | number): this {
    return this.insert(name, value);
  }

  /** Removes every field named `name`; returns how many were removed. */
  erase(name: string): number {
    const key = name.toLowerCase();
    const before = this.#list.length;
    this.#list = this.#list.filter((e) => e.key !== key);
    return before - this.#list.length;
  }

  /** Removes every field. */
  clear(): void {
    this.#list = [];
  }

  /** A copy with the same fields in the same order. */
  clone(): Fields {
    const f = new Fields();
    f.#list = this.#list.map((e) => ({ ...e }));
    return f;
  }

  /** The fields in order, as `[name, value]` with the names in their original case. */
  *entries(): IterableIterator<[name: string, value: string]> {
    for (const e of this.#list) yield [e.name, e.value];
  }

  /** Same as {@link Fields.entries}. */
  [Symbol.iterator](): IterableIterator<[name: string, value: string]> {
    return this.entries();
  }

  /** Shows the fields in `console.log` and `util.inspect`. */
  [Symbol.for('nodejs.util.inspect.custom')](): object {
    return { fields: [...this.entries()] };
  }

  /** The fields as they appear on the wire: `Name: value\r\n` for each, in order. */
  toString(): string {
    let s = '';
    for (const e of this.#list) s += `${e.name}: ${e.value}\r\n`;
    return s;
  }
}
