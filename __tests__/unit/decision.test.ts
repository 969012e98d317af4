import { Big } from 'big.js'
import { DECIMAL_BOUNDS, decide, parseDecimal, type Rule } from '../../src/decision.js'
import { parseGuardrails, type Measured } from '../../src/guardrails.js'

const rule = (overrides: Partial<Record<keyof Rule, string | boolean>> = {}): Rule => ({
  higherIsBetter: overrides.higherIsBetter !== false,
  minImprovement: new Big((overrides.minImprovement as string) ?? '0'),
  minRelativeImprovement: new Big((overrides.minRelativeImprovement as string) ?? '0'),
  threshold: overrides.threshold === undefined ? undefined : new Big(overrides.threshold as string)
})

const champion = (value: string, version = '3') => ({ version, value: new Big(value) })

describe('decide', () => {
  test.each([
    // candidate, champion, rule, force, register, reason
    ['0.9667', undefined, {}, false, true, 'first'],
    ['0.98', '0.9667', {}, false, true, 'better'],
    ['0.9', '0.9667', {}, false, false, 'not-better'],
    ['0.9667', '0.9667', {}, false, false, 'not-better'], // a tie is not better
    ['0.3', '0.2', { minImprovement: '0.1' }, false, true, 'better'], // exactly 0.1, not 0.0999…
    ['0.3', '0.2', { minImprovement: '0.1000001' }, false, false, 'not-better'],
    ['0.30', '0.2', { minImprovement: '0.1' }, false, true, 'better'],
    ['1e-3', '2e-3', { higherIsBetter: false }, false, true, 'better'],
    ['2e-3', '1e-3', { higherIsBetter: false }, false, false, 'not-better'],
    ['0.5', '0.5', { higherIsBetter: false }, false, false, 'not-better'],
    ['-1.5', '-1', { higherIsBetter: false }, false, true, 'better'], // lower loss, negative values
    ['-0.5', '-1', {}, false, true, 'better'],
    ['-1', '-0.5', {}, false, false, 'not-better'],
    ['0.909', '0.9', { minRelativeImprovement: '0.01' }, false, true, 'better'], // exactly 1 %
    ['0.9089', '0.9', { minRelativeImprovement: '0.01' }, false, false, 'not-better'],
    ['0.1', '0', { minRelativeImprovement: '0.5' }, false, true, 'better'], // relative ignored at 0
    [
      '-1.01',
      '-1',
      { higherIsBetter: false, minRelativeImprovement: '0.01' },
      false,
      true,
      'better'
    ],
    ['0.85', undefined, { threshold: '0.9' }, false, false, 'below-threshold'],
    ['0.9', undefined, { threshold: '0.9' }, false, true, 'first'], // meeting the bar is enough
    ['0.95', '0.99', { threshold: '0.9' }, false, false, 'not-better'],
    ['0.2', '0.1', { higherIsBetter: false, threshold: '0.15' }, false, false, 'below-threshold'],
    ['0.1', '0.5', {}, true, true, 'forced'],
    ['0.1', undefined, { threshold: '0.9' }, true, true, 'forced'] // force overrides the threshold
  ] as const)(
    '%s vs %s with %j, force %s → %s %s',
    (cand, champ, overrides, force, register, reason) => {
      const decision = decide(
        new Big(cand),
        champ === undefined ? undefined : champion(champ),
        rule(overrides),
        force
      )
      expect(decision.register).toBe(register)
      expect(decision.reason).toBe(reason)
      expect(decision.why.length).toBeGreaterThan(10)
    }
  )

  test('improvement is exact and sign-adjusted', () => {
    expect(decide(new Big('0.3'), champion('0.2'), rule(), false).improvement?.toString()).toBe(
      '0.1'
    )
    expect(
      decide(
        new Big('0.2'),
        champion('0.3'),
        rule({ higherIsBetter: false }),
        false
      ).improvement?.toString()
    ).toBe('0.1')
  })

  test('the sentence names both scores and the reason', () => {
    const decision = decide(new Big('0.9'), champion('0.95', '7'), rule(), false)
    expect(decision.why).toContain('0.9')
    expect(decision.why).toContain('v7')
    expect(decision.why).toContain('0.95')
  })
})

describe('decide with guardrails', () => {
  const guarded = (text: string, overrides: Parameters<typeof rule>[0] = {}): Rule => ({
    ...rule(overrides),
    guardrails: parseGuardrails(text)
  })
  const values = (record: Record<string, string>): Map<string, Measured> =>
    new Map(Object.entries(record).map(([name, text]) => [name, { text, value: new Big(text) }]))
  const championWith = (value: string, properties: Record<string, string>) => ({
    version: '3',
    value: new Big(value),
    properties: { accuracy: value, ...properties }
  })
  const rules = 'latency_ms <= champion * 1.10\nrecall >= 0.8'

  test.each([
    // candidate score, champion score, candidate metrics, champion metrics, force, register, reason
    [
      '0.98',
      '0.95',
      { latency_ms: '105', recall: '0.85' },
      { latency_ms: '100' },
      false,
      true,
      'better'
    ],
    [
      '0.98',
      '0.95',
      { latency_ms: '110', recall: '0.8' },
      { latency_ms: '100' },
      false,
      true,
      'better'
    ], // bars met exactly
    [
      '0.98',
      '0.95',
      { latency_ms: '130', recall: '0.85' },
      { latency_ms: '100' },
      false,
      false,
      'guardrail-failed'
    ], // better but slower
    [
      '0.98',
      '0.95',
      { latency_ms: '105', recall: '0.79' },
      { latency_ms: '100' },
      false,
      false,
      'guardrail-failed'
    ], // absolute bar
    [
      '0.90',
      '0.95',
      { latency_ms: '50', recall: '0.9' },
      { latency_ms: '100' },
      false,
      false,
      'not-better'
    ], // the score still decides
    [
      '0.90',
      '0.95',
      { latency_ms: '500', recall: '0.9' },
      { latency_ms: '100' },
      false,
      false,
      'not-better'
    ],
    ['0.98', undefined, { latency_ms: '500', recall: '0.85' }, {}, false, true, 'first'], // no champion: relative passes
    ['0.98', undefined, { latency_ms: '50', recall: '0.5' }, {}, false, false, 'guardrail-failed'], // absolute still applies
    ['0.98', '0.95', { latency_ms: '500', recall: '0.85' }, {}, false, true, 'better'], // champion lacks it: passes
    [
      '0.98',
      '0.95',
      { latency_ms: '130', recall: '0.5' },
      { latency_ms: '100' },
      true,
      true,
      'forced'
    ],
    [
      '0.90',
      '0.95',
      { latency_ms: '130', recall: '0.5' },
      { latency_ms: '100' },
      true,
      true,
      'forced'
    ]
  ] as const)(
    '%s vs %s, %j vs %j, force %s → %s %s',
    (cand, champ, measured, recorded, force, register, reason) => {
      const decision = decide(
        new Big(cand),
        champ === undefined ? undefined : championWith(champ, recorded),
        guarded(rules),
        force,
        values(measured)
      )
      expect(decision.register).toBe(register)
      expect(decision.reason).toBe(reason)
      expect(decision.guardrails.map(g => g.name)).toEqual(['latency_ms', 'recall'])
    }
  )

  test('a better but slower model: refused, and the sentence names the failing guardrail', () => {
    const decision = decide(
      new Big('0.98'),
      championWith('0.95', { latency_ms: '100' }),
      guarded(rules),
      false,
      values({ latency_ms: '130', recall: '0.85' })
    )
    expect(decision).toMatchObject({
      register: false,
      reason: 'guardrail-failed',
      metricPassed: true
    })
    expect(decision.improvement?.toString()).toBe('0.03')
    expect(decision.why).toBe(
      'Not registered: guardrail latency_ms 130 is not <= 110 (champion * 1.10), although 0.98 beats champion v3 0.95 by 0.03.'
    )
    expect(decision.guardrails).toEqual([
      {
        name: 'latency_ms',
        op: '<=',
        bound: 'champion * 1.10',
        limit: '110',
        candidate: '130',
        champion: '100',
        passed: false
      },
      {
        name: 'recall',
        op: '>=',
        bound: '0.8',
        limit: '0.8',
        candidate: '0.85',
        champion: '',
        passed: true
      }
    ])
    expect(decision.warnings).toEqual([])
  })

  test('every failing guardrail is named', () => {
    const decision = decide(
      new Big('0.98'),
      undefined,
      guarded('f1 >= 0.9\nlatency_ms <= 100'),
      false,
      values({ f1: '0.5', latency_ms: '101' })
    )
    expect(decision.why).toBe(
      'Not registered: guardrails f1 0.5 is not >= 0.9; latency_ms 101 is not <= 100, although it would be the first version with a score.'
    )
  })

  test('the champion lacks the metric: passes, with a warning saying so', () => {
    const decision = decide(
      new Big('0.98'),
      championWith('0.95', {}),
      guarded(rules),
      false,
      values({ latency_ms: '500', recall: '0.85' })
    )
    expect(decision.reason).toBe('better')
    expect(decision.warnings).toEqual([
      "Guardrail 'latency_ms <= champion * 1.10' passes without a comparison: champion v3 has no 'latency_ms' property."
    ])
  })

  test('force overrides failing guardrails and says which', () => {
    const decision = decide(
      new Big('0.90'),
      championWith('0.95', { latency_ms: '100' }),
      guarded(rules),
      true,
      values({ latency_ms: '130', recall: '0.85' })
    )
    expect(decision).toMatchObject({ register: true, reason: 'forced', metricPassed: false })
    expect(decision.why).toContain(
      'It overrides the failing guardrails: latency_ms 130 is not <= 110'
    )
    expect(decision.guardrails.map(g => g.passed)).toEqual([false, true])
  })

  test('a score that fails on its own still names failing guardrails', () => {
    const decision = decide(
      new Big('0.90'),
      championWith('0.95', { latency_ms: '100' }),
      guarded(rules),
      false,
      values({ latency_ms: '130', recall: '0.85' })
    )
    expect(decision.reason).toBe('not-better')
    expect(decision.why).toMatch(
      /is worse by 0\.05\. Failing guardrails too: latency_ms 130 is not <= 110/
    )
  })

  test('lower is better and threshold apply to the score as before', () => {
    const decision = decide(
      new Big('0.2'),
      championWith('0.1', { latency_ms: '100' }),
      guarded(rules, { higherIsBetter: false, threshold: '0.15' }),
      false,
      values({ latency_ms: '100', recall: '0.9' })
    )
    expect(decision.reason).toBe('below-threshold')
    expect(decision.guardrails.every(g => g.passed)).toBe(true)
  })

  test('without guardrails the decision lists none', () => {
    const decision = decide(new Big('0.98'), champion('0.95'), rule(), false)
    expect(decision).toMatchObject({
      reason: 'better',
      metricPassed: true,
      guardrails: [],
      warnings: []
    })
  })
})

describe('parseDecimal', () => {
  test.each(['0.9667', '1e-3', '-2', '+0.5', '  0.1 ', '.5', '5.', '1E+2'])('accepts %j', text => {
    expect(parseDecimal(text)).toBeDefined()
  })
  test.each([
    '',
    'abc',
    'NaN',
    'Infinity',
    '-Infinity',
    '0x10',
    '1,5',
    '1e',
    '--1',
    '0.9 0.8',
    undefined
  ])('rejects %j', text => {
    expect(parseDecimal(text)).toBeUndefined()
  })
  test.each([
    ['1e999999999', '1e999999999'], // crashed the process
    ['1e-99999999', '1e-99999999'], // took minutes and 4 GB
    ['-1e1001', '-1e1001'],
    ['1e-1001', '1e-1001'],
    ['1e-1001 written out', '0.' + '0'.repeat(1000) + '1'],
    ['1e1001 written out', '1' + '0'.repeat(1001)],
    ['101 significant digits', '1.' + '1'.repeat(100)],
    ['an exponent of 400 digits', '1e' + '9'.repeat(400)]
  ])('rejects a decimal beyond the bounds: %s', (_label, text) => {
    const started = Date.now()
    expect(parseDecimal(text)).toBeUndefined()
    expect(Date.now() - started).toBeLessThan(1000)
  })
  test.each([
    ['1e1000', '1e1000', '1e+1000'],
    ['1e400, beyond a binary double', '1e400', '1e+400'],
    ['-1e-1000', '-1e-1000', '-1e-1000'],
    ['100 significant digits', '1.' + '1'.repeat(99), '1.' + '1'.repeat(99)],
    ['trailing zeros, not significant', '1' + '0'.repeat(200) + 'e-200', '1'],
    ['1e-991 written out', '0.' + '0'.repeat(990) + '1', '1e-991'],
    ['zero with a large exponent', '0e99999999', '0']
  ])('accepts a decimal at the bounds: %s', (_label, text, shown) => {
    expect(parseDecimal(text)?.toString()).toBe(shown)
  })
  test('DECIMAL_BOUNDS says what is accepted', () => {
    expect(DECIMAL_BOUNDS).toEqual({ significantDigits: 100, exponent: 1000 })
  })
  test('keeps every digit', () => {
    expect(parseDecimal('0.123456789012345678901234567890')?.toString()).toBe(
      '0.12345678901234567890123456789'
    )
  })
})
