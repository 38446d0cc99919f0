import { describe, expect, it } from 'vitest';
import { createPathValidator } from './chain/index.js';
import { isPublicSuffix } from './public-suffix.js';

describe('isPublicSuffix (the Public Suffix List through tldts)', () => {
  it.each<[string, boolean]>([
    ['com', true],
    ['co.uk', true],
    ['s3.amazonaws.com', true], // private section
    ['github.io', true], // private section
    ['co.uk.', true],
    ['example.co.uk', false],
    ['example.com', false],
    ['foo.github.io', false],
    // Under no listed rule: internal names keep their wildcards.
    ['localhost', false],
    ['internal', false],
    ['corp.internal', false],
    ['', false],
  ])('%s: %s', (name, expected) => {
    expect(isPublicSuffix(name)).toBe(expected);
  });

  it('is the predicate createPathValidator takes', () => {
    expect(() => createPathValidator({ anchors: [], publicSuffix: isPublicSuffix })).not.toThrow();
  });
});
