/**
 * Small runtime checks for bridge payloads: each takes an unknown value and a
 * path for messages ("saveEdits: req.edits[3].concept.text") and returns the
 * value typed, or throws a BAD_REQUEST BridgeError saying what was wrong and
 * what is allowed. Objects are rebuilt from their known fields only, and an
 * unknown field is an error (a typo should not be silently ignored).
 */
import { isSonarLanguage, suggestLanguages } from '../../shared/languages.ts';
import { BridgeError } from '../services/errors.ts';

export type Check<T> = (value: unknown, path: string) => T;
type Out<S> = { [K in keyof S]: S[K] extends Check<infer T> ? T : never };

export const fail = (path: string, message: string): never => {
  throw new BridgeError('BAD_REQUEST', `${path} ${message}`);
};

const describe = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
};

export function str(options: { max: number; min?: number; what?: string }): Check<string> {
  const min = options.min ?? 0;
  return (value, path) => {
    if (typeof value !== 'string') return fail(path, `must be a string, got ${describe(value)}.`);
    if (value.length > options.max) return fail(path, `is ${value.length} characters long; at most ${options.max} are allowed${options.what ? ` for ${options.what}` : ''}.`);
    if (min > 0 && value.trim().length < min) return fail(path, min === 1 ? 'must not be empty.' : `must have at least ${min} characters.`);
    return value;
  };
}

/** Ids are the store's UUIDs or the renderer's (crypto.randomUUID): letters, digits, '-' and '_', up to 64. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const id: Check<string> = (value, path) => {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) return fail(path, `must be an id (1 to 64 letters, digits, '-' or '_'), got ${describe(value)}.`);
  return value;
};

/** A FLORES-200 code of one of the SONAR languages (src/shared/languages.ts). */
export const language: Check<string> = (value, path) => {
  if (typeof value !== 'string' || value.length > 32) return fail(path, `must be a FLORES-200 language code such as "eng_Latn", got ${describe(value)}.`);
  if (isSonarLanguage(value)) return value;
  const near = suggestLanguages(value, 3).map((l) => `${l.code} (${l.name})`);
  return fail(path, `must be a FLORES-200 language code such as "eng_Latn"; "${value}" is not one of the SONAR languages${near.length ? `. Did you mean ${near.join(', ')}?` : '.'}`);
};

export function int(min: number, max: number): Check<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) return fail(path, `must be an integer from ${min} to ${max}, got ${describe(value)}.`);
    return value;
  };
}

export function num(min: number, max: number): Check<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) return fail(path, `must be a number from ${min} to ${max}, got ${describe(value)}.`);
    return value;
  };
}

export const bool: Check<boolean> = (value, path) => (typeof value === 'boolean' ? value : fail(path, `must be true or false, got ${describe(value)}.`));

export function oneOf<T extends string>(values: readonly T[]): Check<T> {
  return (value, path) => ((values as readonly unknown[]).includes(value) ? (value as T) : fail(path, `must be one of ${values.map((v) => `"${v}"`).join(', ')}, got ${describe(value)}.`));
}

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, path) => (value === null ? null : check(value, path));
}

export function arr<T>(item: Check<T>, max: number): Check<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) return fail(path, `must be an array, got ${describe(value)}.`);
    if (value.length > max) return fail(path, `has ${value.length} items; at most ${max} are allowed in one request.`);
    return value.map((v, i) => item(v, `${path}[${i}]`));
  };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** An object with `required` and `optional` fields; any other field is an error. */
export function obj<R extends Record<string, Check<unknown>>, O extends Record<string, Check<unknown>> = Record<never, Check<unknown>>>(
  required: R,
  optional?: O,
): Check<Out<R> & Partial<Out<O>>> {
  return (value, path) => {
    if (!isPlainObject(value)) return fail(path, `must be an object, got ${describe(value)}.`);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (!Object.hasOwn(required, key) && !(optional && Object.hasOwn(optional, key))) {
        const allowed = [...Object.keys(required), ...Object.keys(optional ?? {})];
        fail(`${path}.${key}`, `is not a field here (allowed: ${allowed.join(', ') || 'none'}).`);
      }
    }
    for (const [key, check] of Object.entries(required)) {
      if (value[key] === undefined) fail(`${path}.${key}`, 'is required.');
      out[key] = check(value[key], `${path}.${key}`);
    }
    for (const [key, check] of Object.entries(optional ?? {})) {
      if (value[key] !== undefined) out[key] = check(value[key], `${path}.${key}`);
    }
    return out as Out<R> & Partial<Out<O>>;
  };
}

/** A JSON object (job parameters, provenance) of at most `maxBytes` when serialized. */
export function jsonObject(maxBytes: number): Check<Record<string, unknown>> {
  return (value, path) => {
    if (!isPlainObject(value)) return fail(path, `must be a JSON object, got ${describe(value)}.`);
    let text: string;
    try {
      text = JSON.stringify(value);
    } catch {
      return fail(path, 'must be plain JSON (no cycles).');
    }
    if (text.length > maxBytes) return fail(path, `is ${text.length} bytes as JSON; at most ${maxBytes} are allowed.`);
    return JSON.parse(text) as Record<string, unknown>;
  };
}

/** No payload: undefined or null (JSON has no undefined), or an empty object. */
export const none: Check<undefined> = (value, path) => {
  if (value === undefined || value === null || (isPlainObject(value) && Object.keys(value).length === 0)) return undefined;
  return fail(path, `takes no arguments, got ${describe(value)}.`);
};
