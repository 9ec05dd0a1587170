/** The shipped models of group 'classifiers' score what docs/results.md states (see ./shipped.ts). */
import { describe } from 'vitest';
import { defineShippedChecks } from './shipped.ts';

describe('shipped models: classifiers', () => defineShippedChecks('classifiers'));
