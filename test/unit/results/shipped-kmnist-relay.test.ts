/** The shipped models of group 'kmnist-relay' score what docs/results.md states (see ./shipped.ts). */
import { describe } from 'vitest';
import { defineShippedChecks } from './shipped.ts';

describe('shipped models: kmnist-relay', () => defineShippedChecks('kmnist-relay'));
