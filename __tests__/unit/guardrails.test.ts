import { Big } from 'big.js'
import { UserError } from '../../src/errors.js'
import {
  GuardrailSyntaxError,
  evaluateGuardrails,
  parseGuardrails,
  readGuardrailValues,
  type Measured
} from '../../src/guardrails.js'

/** A rule's shape as plain text, for comparing parses without Big internals. */
const shape = (text: string) =>
  parseGuardrails(text).map(rule => ({
    name: rule.name,
    op: rule.op,
    bound:
      rule.bound.kind === 'absolute'
        ? rule.bound.value.toString()
        : rule.bound.arithmetic
          ? `champion${rule.bound.arithmetic.op}${rule.bound.arithmetic.operand.toString()}`
          : 'champion',
    text: rule.boundText
  }))

const measured = (values: Record<string, string>): Map<string, Measured> =>
  new Map(Object.entries(values).map(([name, text]) => [name, { text, value: new Big(text) }]))

describe('parseGuardrails: good lines', () => {
  test.each([
    ['f1 >= 0.80', { name: 'f1', op: '>=', bound: '0.8', text: '0.80' }],
    ['latency_ms <= 120', { name: 'latency_ms', op: '<=', bound: '120', text: '120' }],
    ['loss < 1e-3', { name: 'loss', op: '<', bound: '0.001', text: '1e-3' }],
    ['delta > -2', { name: 'delta', op: '>', bound: '-2', text: '-2' }],
    ['recall >= champion', { name: 'recall', op: '>=', bound: 'champion', text: 'champion' }],
    [
      'recall >= champion - 0.02',
      { name: 'recall', op: '>=', bound: 'champion-0.02', text: 'champion - 0.02' }
    ],
    [
      'latency_ms <= champion * 1.10',
      { name: 'latency_ms', op: '<=', bound: 'champion*1.1', text: 'champion * 1.10' }
    ],
    [
      'auc > champion + 0.001',
      { name: 'auc', op: '>', bound: 'champion+0.001', text: 'champion + 0.001' }
    ],
    // spaces around the operator are optional: a name holds no operator character
    [
      'p95.latency<=champion*1.1',
      { name: 'p95.latency', op: '<=', bound: 'champion*1.1', text: 'champion * 1.1' }
    ],
    ['  f1   >=   0.8  ', { name: 'f1', op: '>=', bound: '0.8', text: '0.8' }],
    ['f1 >= 0.8  # the floor', { name: 'f1', op: '>=', bound: '0.8', text: '0.8' }],
    [
      'class/minority-recall >= 0.5',
      { name: 'class/minority-recall', op: '>=', bound: '0.5', text: '0.5' }
    ]
  ])('%j', (line, expected) => {
    expect(shape(line)).toEqual([expected])
  })

  test('several lines, blank lines and comments, CRLF', () => {
    const text =
      '# what must not regress\r\n\r\nf1 >= 0.80\r\n   # indented comment\n\nlatency_ms <= champion * 1.10\n'
    expect(shape(text).map(rule => `${rule.name} ${rule.op} ${rule.text}`)).toEqual([
      'f1 >= 0.80',
      'latency_ms <= champion * 1.10'
    ])
  })

  test('nothing but comments is no rule', () => {
    expect(parseGuardrails('# none yet\n\n')).toEqual([])
  })
})

describe('parseGuardrails: bad lines', () => {
  test.each([
    'f1',
    'f1 0.8',
    'f1 >=',
    '>= 0.8',
    'f1 == 0.8',
    'f1 = 0.8',
    'f1 => 0.8',
    'f1 != 0.8',
    'f1 >= high',
    'f1 >= 0.8 0.9',
    'f1 >= 0,8',
    'f1 >= NaN',
    'f1 >= Infinity',
    'f1 >= champion / 2',
    'f1 >= champion -',
    'f1 >= champion - x',
    'f1 >= champion - 0.02 - 0.01',
    'f1 >= Champion',
    'f1 >= champ - 0.02',
    'f1 >= 0.02 + champion',
    'f1 >= champion 0.02',
    'f1 > = 0.8',
    'f1 >= < 0.8',
    'mean f1 >= 0.8'
  ])('%j', line => {
    let error: unknown
    try {
      parseGuardrails(`f1 >= 0.5\n\n${line}`)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(GuardrailSyntaxError)
    const message = (error as Error).message
    // names the line (by number and text) and the expected form, on one line
    expect(message).toContain(`line 3 '${line.trim()}'`)
    expect(message).toContain('NAME OP BOUND')
    expect(message).toContain('champion * D')
    expect(message).not.toContain('\n')
  })
})

describe('evaluateGuardrails', () => {
  const rules = parseGuardrails(
    'f1 >= 0.80\nlatency_ms <= champion * 1.10\nrecall >= champion - 0.02\nauc > champion'
  )
  const champion = {
    version: '4',
    properties: { f1: '0.5', latency_ms: '100', recall: '0.90', auc: '0.91', accuracy: '0.9' }
  }

  test('every rule against the candidate and the champion, exactly', () => {
    const { results, warnings } = evaluateGuardrails(
      rules,
      measured({ f1: '0.80', latency_ms: '110', recall: '0.88', auc: '0.9100001' }),
      champion
    )
    expect(warnings).toEqual([])
    expect(results).toEqual([
      {
        name: 'f1',
        op: '>=',
        bound: '0.80',
        limit: '0.8',
        candidate: '0.80',
        champion: '0.5',
        passed: true
      },
      {
        name: 'latency_ms',
        op: '<=',
        bound: 'champion * 1.10',
        limit: '110',
        candidate: '110',
        champion: '100',
        passed: true
      },
      // meeting the bar exactly is enough for >= and <=
      {
        name: 'recall',
        op: '>=',
        bound: 'champion - 0.02',
        limit: '0.88',
        candidate: '0.88',
        champion: '0.90',
        passed: true
      },
      {
        name: 'auc',
        op: '>',
        bound: 'champion',
        limit: '0.91',
        candidate: '0.9100001',
        champion: '0.91',
        passed: true
      }
    ])
  })

  test('a bar missed by the smallest amount fails; strict operators fail on equality', () => {
    const { results } = evaluateGuardrails(
      rules,
      measured({ f1: '0.7999999', latency_ms: '110.0000001', recall: '0.8799', auc: '0.91' }),
      champion
    )
    expect(results.map(r => r.passed)).toEqual([false, false, false, false])
  })

  test('exact decimals: 0.1 * 3 is 0.3 (in floating point 0.30000000000000004, and 0.3 would fail)', () => {
    const [rule] = parseGuardrails('cost >= champion * 3')
    const { results } = evaluateGuardrails([rule], measured({ cost: '0.3' }), {
      version: '1',
      properties: { cost: '0.1' }
    })
    expect(results[0]).toMatchObject({ limit: '0.3', passed: true })
  })

  test('a champion without the metric: relative rules pass with a warning, absolute ones still apply', () => {
    const { results, warnings } = evaluateGuardrails(
      rules,
      measured({ f1: '0.7', latency_ms: '500', recall: '0.1', auc: '0.1' }),
      { version: '2', properties: { accuracy: '0.9', recall: 'n/a' } }
    )
    expect(results.map(r => [r.name, r.passed, r.limit, r.champion])).toEqual([
      ['f1', false, '0.8', ''],
      ['latency_ms', true, '', ''],
      ['recall', true, '', 'n/a'],
      ['auc', true, '', '']
    ])
    expect(warnings).toEqual([
      "Guardrail 'latency_ms <= champion * 1.10' passes without a comparison: champion v2 has no 'latency_ms' property.",
      "Guardrail 'recall >= champion - 0.02' passes without a comparison: champion v2 records 'recall' as 'n/a', not a number.",
      "Guardrail 'auc > champion' passes without a comparison: champion v2 has no 'auc' property."
    ])
  })

  test('no champion at all: relative rules pass, silently (the first version)', () => {
    const { results, warnings } = evaluateGuardrails(
      rules,
      measured({ f1: '0.9', latency_ms: '500', recall: '0.1', auc: '0.1' }),
      undefined
    )
    expect(results.every(r => r.passed)).toBe(true)
    expect(warnings).toEqual([])
  })

  test('only own properties count', () => {
    const [rule] = parseGuardrails('constructor <= champion')
    const { results, warnings } = evaluateGuardrails([rule], measured({ constructor: '1' }), {
      version: '1',
      properties: {}
    })
    expect(results[0]).toMatchObject({ champion: '', passed: true })
    expect(warnings).toHaveLength(1)
  })
})

describe('readGuardrailValues', () => {
  const rules = parseGuardrails('latency_ms <= 120\nf1 >= 0.8\nlatency_ms <= champion')
  const where = 'the tags of run pj1'

  test('reads each metric once, as written and as a decimal', async () => {
    const asked: string[] = []
    const values = await readGuardrailValues(
      rules,
      async name => {
        asked.push(name)
        return { latency_ms: ' 95.50 ', f1: '0.81' }[name]
      },
      where
    )
    expect(asked).toEqual(['latency_ms', 'f1'])
    expect(values.get('latency_ms')?.text).toBe('95.50')
    expect(values.get('latency_ms')?.value.eq('95.5')).toBe(true)
    expect(values.get('f1')?.text).toBe('0.81')
  })

  test('a missing metric is an error naming it and where it looked', async () => {
    const read = readGuardrailValues(
      rules,
      async name => (name === 'f1' ? '0.9' : undefined),
      where
    )
    await expect(read).rejects.toThrow(UserError)
    await expect(read).rejects.toThrow(
      "Guardrail metric 'latency_ms' not found in the tags of run pj1"
    )
  })

  test('every missing metric is named at once', async () => {
    await expect(readGuardrailValues(rules, async () => undefined, where)).rejects.toThrow(
      "'latency_ms', 'f1' not found"
    )
  })

  test('a value that is not a decimal is an error naming it', async () => {
    await expect(
      readGuardrailValues(rules, async name => (name === 'f1' ? 'high' : '1'), where)
    ).rejects.toThrow(
      "Guardrail metric 'f1' in the tags of run pj1 is 'high', not a finite decimal"
    )
  })
})
