/**
 * Fractional order keys: strings that sort (byte order, SQLite's BINARY
 * collation and JavaScript's `<` agree on them) in document order, with a key
 * between any two, so inserting a concept rewrites no other row.
 *
 * The scheme is David Greenspan's "Implementing Fractional Indexing"
 * (observablehq.com/@dgreenspan/implementing-fractional-indexing), as in
 * rocicorp/fractional-indexing: a key is an integer part, whose first
 * character encodes its length ('a'–'z' for 2–27 characters counting up from
 * "a0", 'A'–'Z' counting down), followed by an optional fraction in base 62
 * that never ends in '0'. Appending increments the integer, so typing at the
 * end of a document keeps keys short (two characters for the first 62
 * concepts, three for the next 3,844); inserting between two neighbours
 * appends fraction digits, about one per six halvings.
 */

const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE = DIGITS.length;
const INTEGER_ZERO = 'a0';
const SMALLEST_INTEGER = `A${'0'.repeat(26)}`;

function integerLength(head: string): number {
  if (head >= 'a' && head <= 'z') return head.charCodeAt(0) - 97 + 2;
  if (head >= 'A' && head <= 'Z') return 90 - head.charCodeAt(0) + 2;
  throw new RangeError(`Invalid order key head "${head}".`);
}

function integerPart(key: string): string {
  const length = integerLength(key[0] ?? '');
  if (length > key.length) throw new RangeError(`Invalid order key "${key}": its integer part is cut short.`);
  return key.slice(0, length);
}

/** Throws a RangeError unless `key` is a well-formed order key. */
export function checkOrderKey(key: string): string {
  if (typeof key !== 'string' || key === SMALLEST_INTEGER) throw new RangeError(`Invalid order key ${JSON.stringify(key)}.`);
  const int = integerPart(key);
  for (const c of key.slice(1)) if (!DIGITS.includes(c)) throw new RangeError(`Invalid order key "${key}": "${c}" is not a base-62 digit.`);
  if (key.length > int.length && key.endsWith('0')) throw new RangeError(`Invalid order key "${key}": its fraction ends in 0.`);
  return key;
}

/** A base-62 fraction strictly between fractions `a` and `b` (b null = 1). */
function midpoint(a: string, b: string | null): string {
  if (b !== null) {
    let n = 0;
    while ((a[n] ?? '0') === b[n]) n++;
    if (n > 0) return b.slice(0, n) + midpoint(a.slice(n), b.slice(n));
  }
  const digitA = a ? DIGITS.indexOf(a[0]!) : 0;
  const digitB = b !== null ? DIGITS.indexOf(b[0]!) : BASE;
  if (digitB - digitA > 1) return DIGITS[Math.round((digitA + digitB) / 2)]!;
  if (b !== null && b.length > 1) return b.slice(0, 1);
  return DIGITS[digitA]! + midpoint(a.slice(1), null);
}

function incrementInteger(x: string): string | null {
  const head = x[0]!;
  const digits = x.slice(1).split('');
  let carry = true;
  for (let i = digits.length - 1; carry && i >= 0; i--) {
    const d = DIGITS.indexOf(digits[i]!) + 1;
    if (d === BASE) digits[i] = '0';
    else {
      digits[i] = DIGITS[d]!;
      carry = false;
    }
  }
  if (!carry) return head + digits.join('');
  if (head === 'Z') return INTEGER_ZERO;
  if (head === 'z') return null;
  const next = String.fromCharCode(head.charCodeAt(0) + 1);
  if (next > 'a') digits.push('0');
  else digits.pop();
  return next + digits.join('');
}

function decrementInteger(x: string): string | null {
  const head = x[0]!;
  const digits = x.slice(1).split('');
  let borrow = true;
  for (let i = digits.length - 1; borrow && i >= 0; i--) {
    const d = DIGITS.indexOf(digits[i]!) - 1;
    if (d === -1) digits[i] = DIGITS[BASE - 1]!;
    else {
      digits[i] = DIGITS[d]!;
      borrow = false;
    }
  }
  if (!borrow) return head + digits.join('');
  if (head === 'a') return `Z${DIGITS[BASE - 1]}`;
  if (head === 'A') return null;
  const next = String.fromCharCode(head.charCodeAt(0) - 1);
  if (next < 'Z') digits.push(DIGITS[BASE - 1]!);
  else digits.pop();
  return next + digits.join('');
}

/**
 * A key that sorts after `a` and before `b`; null means "no bound" (the start
 * or the end of the document). Throws a RangeError if `a >= b`.
 */
export function keyBetween(a: string | null, b: string | null): string {
  if (a !== null) checkOrderKey(a);
  if (b !== null) checkOrderKey(b);
  if (a !== null && b !== null && a >= b) throw new RangeError(`Order key "${a}" is not before "${b}".`);
  if (a === null) {
    if (b === null) return INTEGER_ZERO;
    const ib = integerPart(b);
    const fb = b.slice(ib.length);
    if (ib === SMALLEST_INTEGER) return ib + midpoint('', fb);
    if (ib < b) return ib;
    const dec = decrementInteger(ib);
    if (dec === null) throw new RangeError('Cannot make an order key before the smallest one.');
    return dec;
  }
  const ia = integerPart(a);
  const fa = a.slice(ia.length);
  if (b === null) {
    const inc = incrementInteger(ia);
    return inc === null ? ia + midpoint(fa, null) : inc;
  }
  const ib = integerPart(b);
  const fb = b.slice(ib.length);
  if (ia === ib) return ia + midpoint(fa, fb);
  const inc = incrementInteger(ia);
  if (inc === null) throw new RangeError('Cannot make an order key after the largest one.');
  return inc < b ? inc : ia + midpoint(fa, null);
}

/**
 * `n` keys in order, all after `a` and before `b`. Between two bounds they are
 * spread by bisection, so a batch of n inserted keys grows by about log62(n)
 * characters, not n.
 */
export function keysBetween(a: string | null, b: string | null, n: number): string[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`Key count must be a non-negative integer, got ${String(n)}.`);
  if (n === 0) return [];
  if (n === 1) return [keyBetween(a, b)];
  if (b === null) {
    const out: string[] = [];
    let c = a;
    for (let i = 0; i < n; i++) out.push((c = keyBetween(c, null)));
    return out;
  }
  if (a === null) {
    const out: string[] = [];
    let c = b;
    for (let i = 0; i < n; i++) out.push((c = keyBetween(null, c)));
    return out.reverse();
  }
  const mid = Math.floor(n / 2);
  const c = keyBetween(a, b);
  return [...keysBetween(a, c, mid), c, ...keysBetween(c, b, n - mid - 1)];
}
