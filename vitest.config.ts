import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The shipped-model checks (test/unit/results/shipped-*.test.ts) take minutes each: start them
 * first so that both workers finish together instead of one waiting on a check started last.
 */
class LongChecksFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const long = (f: TestSpecification) => /results[\\/]shipped-/.test(f.moduleId);
    return [...sorted.filter(long), ...sorted.filter((f) => !long(f))];
  }
}

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    // Forks, not threads: better-sqlite3 and tfjs-wasm each hold native/wasm state per process.
    pool: 'forks',
    // vitest's default is one worker per core less one: a single worker on CI's two cores.
    // The tests are CPU-bound and independent (each uses its own temp directory), so use both.
    maxWorkers: 2,
    sequence: { sequencer: LongChecksFirst },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
