import { describe, expect, it } from '@jest/globals';
import { MAX_WIRE_ID_LENGTH } from '../pty-session.constants.js';
import { expectThrowsCode } from '../testing-fakes/test-helpers.js';
import { parseAck, parseAttach, parseCreate, parseInput, parseList, parseResize, parseSessionRequest } from './payload-parsers.js';

const KEY_MAX = 32;
const ID = 'a'.repeat(MAX_WIRE_ID_LENGTH);
const TOO_LONG_ID = 'a'.repeat(MAX_WIRE_ID_LENGTH + 1);

/** Shapes that are not a payload object. */
const NOT_OBJECTS: Array<[string, unknown]> = [
  ['undefined', undefined],
  ['null', null],
  ['a string', 'sessionId'],
  ['a number', 42],
  ['a boolean', true],
  ['an array', [{ sessionId: 's' }]],
  ['an empty array', []],
  ['a function', () => ({ sessionId: 's' })],
];

/** Values that are not integers (for cols, rows, since, offset). */
const NOT_INTEGERS: Array<[string, unknown]> = [
  ['fractional', 1.5],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['a numeric string', '80'],
  ['null', null],
  ['a boolean', true],
  ['an object', {}],
  ['an array', [80]],
  ['beyond the safe integers', 2 ** 53],
];

/** Values that are not an acceptable identifier. */
const BAD_IDS: Array<[string, unknown]> = [
  ['empty', ''],
  ['a number', 1],
  ['null', null],
  ['an array', ['s']],
  ['an object', { id: 's' }],
  ['too long', TOO_LONG_ID],
];

const invalid = (fn: () => unknown, fragment?: string) => {
  const error = expectThrowsCode(fn, 'INVALID_ARGUMENT');
  if (fragment) expect(error.message).toContain(fragment);
  return error;
};

describe('parseCreate', () => {
  it('accepts an empty object, a profile, a key and a size; drops unknown fields', () => {
    expect(parseCreate({}, KEY_MAX)).toEqual({});
    const parsed = parseCreate({ profile: 'sh', key: 'k1', cols: 120, rows: 40, owner: 'someone-else', extra: 1 }, KEY_MAX);
    expect(parsed).toEqual({ profile: 'sh', key: 'k1', cols: 120, rows: 40 });
    expect(parsed).not.toHaveProperty('owner');
    expect(parsed).not.toHaveProperty('extra');
    expect(parseCreate({ key: 'k'.repeat(KEY_MAX) }, KEY_MAX)).toEqual({ key: 'k'.repeat(KEY_MAX) });
    expect(parseCreate({ profile: ID }, KEY_MAX)).toEqual({ profile: ID });
  });

  it('leaves range checks of the size to the session (negative and zero are integers)', () => {
    expect(parseCreate({ cols: -1, rows: 0 }, KEY_MAX)).toEqual({ cols: -1, rows: 0 });
  });

  it('takes attach: true (create and attach in one step); false is the same as absent; anything else is refused', () => {
    expect(parseCreate({ attach: true }, KEY_MAX)).toEqual({ attach: true });
    expect(parseCreate({ attach: false }, KEY_MAX)).toEqual({});
    for (const attach of ['yes', 1, null, {}, []]) invalid(() => parseCreate({ attach }, KEY_MAX), 'attach');
  });

  it('takes binary: true (output as UTF-8 bytes); false is the same as absent; anything else is refused', () => {
    expect(parseCreate({ attach: true, binary: true }, KEY_MAX)).toEqual({ attach: true, binary: true });
    expect(parseCreate({ attach: true, binary: false }, KEY_MAX)).toEqual({ attach: true });
    for (const binary of ['yes', 1, null, {}, []]) invalid(() => parseCreate({ attach: true, binary }, KEY_MAX), 'binary');
    expect(parseCreate({ attach: true, binary: true, smallAsText: true }, KEY_MAX)).toEqual({ attach: true, binary: true, smallAsText: true });
    expect(parseCreate({ attach: true, binary: true, smallAsText: false }, KEY_MAX)).toEqual({ attach: true, binary: true });
    for (const smallAsText of ['yes', 1, null, {}, []]) invalid(() => parseCreate({ attach: true, binary: true, smallAsText }, KEY_MAX), 'smallAsText');
  });

  it.each(NOT_OBJECTS)('refuses %s as payload', (_, body) => {
    invalid(() => parseCreate(body, KEY_MAX), '"create" payload');
  });

  it.each(BAD_IDS)('refuses a profile that is %s', (_, profile) => {
    invalid(() => parseCreate({ profile }, KEY_MAX), 'profile');
  });

  it('refuses a key that is empty, not a string, or longer than maxKeyLength', () => {
    invalid(() => parseCreate({ key: '' }, KEY_MAX), 'key');
    invalid(() => parseCreate({ key: 7 }, KEY_MAX), 'key');
    invalid(() => parseCreate({ key: 'k'.repeat(KEY_MAX + 1) }, KEY_MAX), `at most ${KEY_MAX}`);
  });

  it.each(NOT_INTEGERS)('refuses cols that is %s', (_, cols) => {
    invalid(() => parseCreate({ cols, rows: 24 }, KEY_MAX), 'cols');
  });

  it.each(NOT_INTEGERS)('refuses rows that is %s', (_, rows) => {
    invalid(() => parseCreate({ cols: 80, rows }, KEY_MAX), 'rows');
  });

  it('refuses cols without rows and rows without cols', () => {
    invalid(() => parseCreate({ cols: 80 }, KEY_MAX), 'both cols and rows');
    invalid(() => parseCreate({ rows: 24 }, KEY_MAX), 'both cols and rows');
  });
});

describe('parseAttach', () => {
  it('accepts exactly one of sessionId and key, with optional since and size; drops unknown fields', () => {
    expect(parseAttach({ sessionId: 's1' }, KEY_MAX)).toEqual({ sessionId: 's1' });
    expect(parseAttach({ key: 'k1' }, KEY_MAX)).toEqual({ key: 'k1' });
    const parsed = parseAttach({ sessionId: 's1', since: 0, cols: 80, rows: 24, reset: true, onOutput: 'x' }, KEY_MAX);
    expect(parsed).toEqual({ sessionId: 's1', since: 0, cols: 80, rows: 24 });
    expect(parsed).not.toHaveProperty('reset');
    expect(parsed).not.toHaveProperty('onOutput');
    expect(parseAttach({ key: 'k', since: 123456 }, KEY_MAX)).toEqual({ key: 'k', since: 123456 });
  });

  it.each(NOT_OBJECTS)('refuses %s as payload', (_, body) => {
    invalid(() => parseAttach(body, KEY_MAX), '"attach" payload');
  });

  it('takes binary: true (output as UTF-8 bytes); false is the same as absent; anything else is refused', () => {
    expect(parseAttach({ sessionId: 's1', binary: true }, KEY_MAX)).toEqual({ sessionId: 's1', binary: true });
    expect(parseAttach({ sessionId: 's1', binary: false }, KEY_MAX)).toEqual({ sessionId: 's1' });
    for (const binary of ['yes', 1, null, {}, []]) invalid(() => parseAttach({ sessionId: 's1', binary }, KEY_MAX), 'binary');
    expect(parseAttach({ sessionId: 's1', binary: true, smallAsText: true }, KEY_MAX)).toEqual({ sessionId: 's1', binary: true, smallAsText: true });
    expect(parseAttach({ sessionId: 's1', binary: true, smallAsText: false }, KEY_MAX)).toEqual({ sessionId: 's1', binary: true });
    for (const smallAsText of ['yes', 1, null, {}, []]) invalid(() => parseAttach({ sessionId: 's1', binary: true, smallAsText }, KEY_MAX), 'smallAsText');
    expect(parseAttach({ sessionId: 's1', cols: 80, rows: 24, resume: 7 }, KEY_MAX)).toEqual({ sessionId: 's1', cols: 80, rows: 24, resume: 7 });
    expect(parseAttach({ sessionId: 's1', resume: 0 }, KEY_MAX)).toEqual({ sessionId: 's1', resume: 0 });
    for (const resume of [true, 'yes', -1, 1.5, null, {}, []]) invalid(() => parseAttach({ sessionId: 's1', resume }, KEY_MAX), 'resume');
    expect(parseAttach({ sessionId: 's1', since: 100, acked: 40 }, KEY_MAX)).toEqual({ sessionId: 's1', since: 100, acked: 40 });
    expect(parseAttach({ sessionId: 's1', since: 100, acked: 100 }, KEY_MAX)).toEqual({ sessionId: 's1', since: 100, acked: 100 });
    expect(parseAttach({ sessionId: 's1', since: 0, acked: 0 }, KEY_MAX)).toEqual({ sessionId: 's1', since: 0, acked: 0 });
    // Only with since, and not past it.
    for (const body of [{ acked: 0 }, { since: 100, acked: 101 }, { since: 100, acked: -1 }, { since: 100, acked: 1.5 }, { since: 100, acked: '40' }]) {
      invalid(() => parseAttach({ sessionId: 's1', ...body }, KEY_MAX), 'acked');
    }
  });

  it('refuses both sessionId and key, and neither', () => {
    invalid(() => parseAttach({ sessionId: 's', key: 'k' }, KEY_MAX), 'exactly one of sessionId and key');
    invalid(() => parseAttach({}, KEY_MAX), 'exactly one of sessionId and key');
    invalid(() => parseAttach({ since: 0 }, KEY_MAX), 'exactly one of sessionId and key');
  });

  it.each(BAD_IDS)('refuses a sessionId that is %s', (_, sessionId) => {
    invalid(() => parseAttach({ sessionId }, KEY_MAX), 'sessionId');
  });

  it('refuses a key that is empty, not a string, or too long, even with a valid sessionId', () => {
    invalid(() => parseAttach({ key: '' }, KEY_MAX), 'key');
    invalid(() => parseAttach({ key: false }, KEY_MAX), 'key');
    invalid(() => parseAttach({ key: 'k'.repeat(KEY_MAX + 1) }, KEY_MAX), 'key');
    invalid(() => parseAttach({ sessionId: 's', key: '' }, KEY_MAX), 'key');
  });

  it.each(NOT_INTEGERS)('refuses since that is %s', (_, since) => {
    invalid(() => parseAttach({ sessionId: 's', since }, KEY_MAX), 'since');
  });

  it('refuses a negative since', () => {
    invalid(() => parseAttach({ sessionId: 's', since: -1 }, KEY_MAX), 'since');
  });

  it('refuses cols without rows, rows without cols, and non-integer sizes', () => {
    invalid(() => parseAttach({ sessionId: 's', cols: 80 }, KEY_MAX), 'both cols and rows');
    invalid(() => parseAttach({ sessionId: 's', rows: 24 }, KEY_MAX), 'both cols and rows');
    invalid(() => parseAttach({ sessionId: 's', cols: 80.5, rows: 24 }, KEY_MAX), 'cols');
    invalid(() => parseAttach({ sessionId: 's', cols: 80, rows: Number.NaN }, KEY_MAX), 'rows');
  });
});

describe('parseInput', () => {
  it('accepts a sessionId and a string (also empty, also multi-byte); drops unknown fields', () => {
    expect(parseInput({ sessionId: 's', data: 'ls\r' })).toEqual({ sessionId: 's', data: 'ls\r' });
    expect(parseInput({ sessionId: 's', data: '' })).toEqual({ sessionId: 's', data: '' });
    const parsed = parseInput({ sessionId: 's', data: 'é😀', binary: true });
    expect(parsed).toEqual({ sessionId: 's', data: 'é😀' });
    expect(parsed).not.toHaveProperty('binary');
  });

  it.each(NOT_OBJECTS)('refuses %s as payload', (_, body) => {
    invalid(() => parseInput(body), '"input" payload');
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['a number', 13],
    ['an array', ['l', 's']],
    ['a buffer-like object', { type: 'Buffer', data: [108] }],
  ])('refuses data that is %s', (_, data) => {
    invalid(() => parseInput({ sessionId: 's', data }), 'data');
  });

  it.each(BAD_IDS)('refuses a sessionId that is %s', (_, sessionId) => {
    invalid(() => parseInput({ sessionId, data: 'x' }), 'sessionId');
  });

  it('refuses a missing sessionId', () => {
    invalid(() => parseInput({ data: 'x' }), 'sessionId');
  });
});

describe('parseResize', () => {
  it('accepts a sessionId with both cols and rows; drops unknown fields', () => {
    const parsed = parseResize({ sessionId: 's', cols: 100, rows: 30, pixels: 9 });
    expect(parsed).toEqual({ sessionId: 's', cols: 100, rows: 30 });
    expect(parsed).not.toHaveProperty('pixels');
  });

  it.each(NOT_OBJECTS)('refuses %s as payload', (_, body) => {
    invalid(() => parseResize(body), '"resize" payload');
  });

  it('requires both cols and rows', () => {
    invalid(() => parseResize({ sessionId: 's' }), 'cols');
    invalid(() => parseResize({ sessionId: 's', cols: 80 }), 'rows');
    invalid(() => parseResize({ sessionId: 's', rows: 24 }), 'cols');
  });

  it.each(NOT_INTEGERS)('refuses cols that is %s', (_, cols) => {
    invalid(() => parseResize({ sessionId: 's', cols, rows: 24 }), 'cols');
  });

  it.each(NOT_INTEGERS)('refuses rows that is %s', (_, rows) => {
    invalid(() => parseResize({ sessionId: 's', cols: 80, rows }), 'rows');
  });

  it.each(BAD_IDS)('refuses a sessionId that is %s', (_, sessionId) => {
    invalid(() => parseResize({ sessionId, cols: 80, rows: 24 }), 'sessionId');
  });

  it('refuses a missing sessionId', () => {
    invalid(() => parseResize({ cols: 80, rows: 24 }), 'sessionId');
  });
});

describe('parseAck', () => {
  it('accepts a sessionId and an offset >= 0; drops unknown fields', () => {
    expect(parseAck({ sessionId: 's', offset: 0 })).toEqual({ sessionId: 's', offset: 0 });
    const parsed = parseAck({ sessionId: 's', offset: Number.MAX_SAFE_INTEGER, bytes: 3 });
    expect(parsed).toEqual({ sessionId: 's', offset: Number.MAX_SAFE_INTEGER });
    expect(parsed).not.toHaveProperty('bytes');
  });

  it.each(NOT_OBJECTS)('refuses %s as payload', (_, body) => {
    invalid(() => parseAck(body), '"ack" payload');
  });

  it.each([['missing', undefined] as [string, unknown], ...NOT_INTEGERS, ['negative', -1]])('refuses an offset that is %s', (_, offset) => {
    invalid(() => parseAck({ sessionId: 's', offset }), 'offset');
  });

  it.each(BAD_IDS)('refuses a sessionId that is %s', (_, sessionId) => {
    invalid(() => parseAck({ sessionId, offset: 0 }), 'sessionId');
  });

  it('refuses a missing sessionId', () => {
    invalid(() => parseAck({ offset: 0 }), 'sessionId');
  });
});

describe('parseSessionRequest (detach, close)', () => {
  it('accepts a sessionId and drops anything else', () => {
    const parsed = parseSessionRequest('detach', { sessionId: 's', force: true });
    expect(parsed).toEqual({ sessionId: 's' });
    expect(parsed).not.toHaveProperty('force');
    expect(parseSessionRequest('close', { sessionId: ID })).toEqual({ sessionId: ID });
  });

  it.each(NOT_OBJECTS)('refuses %s as payload, naming the event', (_, body) => {
    invalid(() => parseSessionRequest('close', body), '"close" payload');
  });

  it.each([['missing', undefined] as [string, unknown], ...BAD_IDS])('refuses a sessionId that is %s', (_, sessionId) => {
    invalid(() => parseSessionRequest('detach', { sessionId }), '"detach" field sessionId');
  });
});

describe('parseList', () => {
  it('accepts nothing, null and any object', () => {
    expect(() => parseList(undefined)).not.toThrow();
    expect(() => parseList(null)).not.toThrow();
    expect(() => parseList({})).not.toThrow();
    expect(() => parseList({ owner: 'x' })).not.toThrow();
    expect(parseList({})).toBeUndefined();
  });

  it.each([
    ['a string', 'all'],
    ['a number', 0],
    ['an array', []],
    ['a boolean', false],
  ])('refuses %s', (_, body) => {
    invalid(() => parseList(body), '"list" payload');
  });
});
