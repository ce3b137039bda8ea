import { describe, expect, it } from 'vitest';
import { check, checksOf, verdictLine } from '../../bench/targets.js';

describe('verdictLine', () => {
  it('counts judged targets per source and names the missed ones with their figure', () => {
    const checks = checksOf([
      {
        figure: 'accepted docs/s',
        measured: '',
        guide: check('design guide', '>= 1.67/s', true),
        issue: check('issue 7', '>= 1,000/s', false),
      },
      { figure: 'POST p99', measured: '', issue: check('issue 7', '< 50 ms', null, 'offered 100/s') },
      { figure: 'lost', measured: '', issue: check('issue 7', '0 lost', true) },
    ]);
    expect(verdictLine(checks, [])).toBe(
      'VERDICT: PASS: no errors, nothing lost. design guide: all 1 met. issue 7: 1 of 2 met (not met: accepted docs/s >= 1,000/s).',
    );
  });

  it('fails on a correctness problem whatever the speed', () => {
    expect(verdictLine([], ['3 document(s) lost'])).toMatch(
      /^VERDICT: FAIL: 3 document\(s\) lost\. design guide: nothing judged/,
    );
  });
});
