// Minimal HS256 JWTs. Tokens only need to round-trip through the emulator itself (it both issues
// and checks them), so a shared HMAC key is enough; clients treat them as opaque strings.
import { createHmac, timingSafeEqual } from 'node:crypto'

export type Claims = Record<string, unknown> & { exp?: number; aud?: string; iss?: string }

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url')

export function signJwt(claims: Claims, key: Buffer): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
  const body = b64url(JSON.stringify(claims))
  const sig = createHmac('sha256', key).update(`${head}.${body}`).digest('base64url')
  return `${head}.${body}.${sig}`
}

/** Returns the claims when the signature matches `key`, else undefined. Expiry is the caller's
 * business, because callers answer it with different error messages. */
export function verifyJwt(token: string, key: Buffer): Claims | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  const expected = createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest()
  const given = Buffer.from(parts[2], 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  try {
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Claims
  } catch {
    return undefined
  }
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)
