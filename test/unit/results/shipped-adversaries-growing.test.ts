/** The shipped models of group 'adversaries-growing' score what docs/results.md states (see ./shipped.ts). */
import { describe } from 'vitest';
import { defineShippedChecks } from './shipped.ts';

describe('shipped models: adversaries-growing', () => defineShippedChecks('adversaries-growing'));
