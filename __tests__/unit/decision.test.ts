import { Big } from 'big.js'
import { DECIMAL_BOUNDS, decide, parseDecimal, type Rule } from '../../src/decision.js'

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
