/** The shipped models of group 'kmnist-nomask' score what docs/results.md states (see ./shipped.ts). */
import { describe } from 'vitest';
import { defineShippedChecks } from './shipped.ts';

describe('shipped models: kmnist-nomask', () => defineShippedChecks('kmnist-nomask'));
