// Fault injection: an ordered list of rules, each good for `times` requests. The server asks
// `take(routeId, method)` once per request, after the latency wait and before the handler.

export interface FaultRule {
  /** A route id (`arm.job.get`), a prefix ending in `.*` (`blob.*`), or `*` for every route. */
  route: string
  method?: string
  times: number
  /** `lost-answer`: the request is applied in full, then the connection is cut before the
   * answer (a write that happened, though the client never heard so). */
  kind: 'status' | 'drop' | 'delay' | 'lost-answer'
  /** For `status`: the HTTP status to answer with (default 503). */
  status?: number
  /** For `status`: sent as the Retry-After header. */
  retryAfterSeconds?: number
  /** For `delay`: extra wait before the request is handled normally. */
  delayMs?: number
  /** For `drop`: read this many request-body bytes first, then cut the connection. */
  afterBytes?: number
}

export interface Faults {
  add(rule: FaultRule | FaultRule[]): void
  clear(): void
  /** Faults injected so far, per route id. */
  stats(): Record<string, number>
  /** Rules still armed (with their remaining `times`). */
  pending(): FaultRule[]
}

export interface FaultEngine extends Faults {
  take(routeId: string, method: string): FaultRule | undefined
}

const KINDS = ['status', 'drop', 'delay', 'lost-answer']

export function validateRule(rule: FaultRule): FaultRule {
  if (!rule || typeof rule.route !== 'string') throw new Error('fault rule needs a route')
  if (!KINDS.includes(rule.kind)) throw new Error(`fault kind must be one of ${KINDS.join(', ')}`)
  const times = rule.times ?? 1
  if (!Number.isInteger(times) || times < 1)
    throw new Error('fault times must be a positive integer')
  return { ...rule, times }
}

export function createFaults(): FaultEngine {
  let rules: FaultRule[] = []
  const injected: Record<string, number> = {}
  const matches = (rule: FaultRule, routeId: string, method: string): boolean =>
    (rule.route === '*' ||
      rule.route === routeId ||
      (rule.route.endsWith('.*') && routeId.startsWith(rule.route.slice(0, -1)))) &&
    (!rule.method || rule.method.toUpperCase() === method)

  return {
    add(rule) {
      for (const r of Array.isArray(rule) ? rule : [rule]) rules.push(validateRule(r))
    },
    clear() {
      rules = []
    },
    stats: () => ({ ...injected }),
    pending: () => rules.map(r => ({ ...r })),
    take(routeId, method) {
      const rule = rules.find(r => matches(r, routeId, method))
      if (!rule) return undefined
      rule.times -= 1
      if (rule.times <= 0) rules = rules.filter(r => r !== rule)
      injected[routeId] = (injected[routeId] ?? 0) + 1
      return rule
    }
  }
}
