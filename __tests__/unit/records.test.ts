import { toVersionInfo } from '../../src/azureml/models.js'
import { ownValue, stringMap } from '../../src/records.js'

describe('own keys only', () => {
  test.each(['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'])(
    "'%s' is not found in a map that lacks it",
    key => {
      expect(ownValue({ accuracy: '0.9' }, key)).toBeUndefined()
      expect(key in stringMap({ accuracy: '0.9' })).toBe(false)
      expect(toVersionInfo({ name: '1', properties: { properties: {} } }, key)).toMatchObject({
        value: undefined,
        rawValue: undefined
      })
    }
  )
  test("a map's own entries are found, whatever their name", () => {
    expect(ownValue({ constructor: '0.9' }, 'constructor')).toBe('0.9')
    expect(stringMap({ toString: 'SVC', n: 3, gone: null })).toEqual(
      Object.assign(Object.create(null), { toString: 'SVC', n: '3' })
    )
    expect(
      toVersionInfo({ name: '1', properties: { properties: { valueOf: '0.5' } } }, 'valueOf')
        .rawValue
    ).toBe('0.5')
  })
})
