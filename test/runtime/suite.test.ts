/**
 * @module test/runtime/suite.test — runs the cross-runtime suite under Vitest (Node), one `it`
 * per case, so `npm test` exercises it even before the multi-runtime run.
 */
import { describe, it } from 'vitest';
import { suite } from './suite.js';

describe('cross-runtime suite (vitest, node)', () => {
  for (const testCase of suite) {
    it(testCase.name, async (ctx) => {
      try {
        await testCase.run();
      } catch (error) {
        if (error instanceof Error && error.name === 'CaseSkipped') ctx.skip(error.message);
        else throw error;
      }
    });
  }
});
