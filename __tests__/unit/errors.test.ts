import { scrub } from '../../src/errors.js'

describe('scrub', () => {
  test('removes SAS signatures but keeps the rest of the URL', () => {
    const out = scrub(
      'PUT https://acct.blob.core.windows.net/c/b?sv=2021&se=2030-01-01&sp=cw&sig=abc%2Fdef%3D failed'
    )
    expect(out).not.toContain('abc%2Fdef')
    expect(out).toContain('sig=***')
    expect(out).toContain('sv=2021')
  })
  test('removes bearer tokens and JWTs', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4eHh4eHh4In0.c2lnbmF0dXJlc2lnbmF0dXJl'
    expect(scrub(`Authorization: Bearer ${jwt}`)).not.toContain('eyJzdWIi')
    expect(scrub(`token ${jwt} here`)).toBe('token *** here')
  })
  test('removes client secrets in form bodies and JSON', () => {
    expect(scrub('client_secret=s3cr3t&scope=x')).toBe('client_secret=***&scope=x')
    expect(scrub('{"client_secret":"s3cr3t"}')).not.toContain('s3cr3t')
  })
})
