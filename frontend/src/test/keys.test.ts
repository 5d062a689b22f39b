import { describe, expect, it } from 'vitest'
import type { BudgetEvent, UsageRecord } from '../api/types'
import { barState, parseLimits } from '../keys/budget'
import { budgetText } from '../pages/BudgetBanner'
import { addUse } from '../pages/monitor'
import { answerOf } from '../pages/RequestDetail'

describe('budget helpers', () => {
  it('reads the limits form: empty is no limit, bad numbers are errors', () => {
    const { limits, errors } = parseLimits({ usd_per_day: '1.5', tokens_per_day: '100', requests_per_minute: '', tokens_per_month: '2.5', usd_per_month: '-1' })
    expect(limits).toEqual({ usd_per_day: 1.5, tokens_per_day: 100 })
    expect(Object.keys(errors).sort()).toEqual(['tokens_per_month', 'usd_per_month'])
  })

  it('colours a bar amber from 80 % and red at 100 %, capped at full', () => {
    expect(barState({ spent: 79, limit: 100 })).toEqual({ percent: 79, level: 'ok' })
    expect(barState({ spent: 80, limit: 100 }).level).toBe('warn')
    expect(barState({ spent: 105, limit: 100 })).toEqual({ percent: 100, level: 'over' })
    expect(barState({ spent: 1, limit: 0 }).level).toBe('over')
  })

  it('counts a request into each budget by what it meters', () => {
    const r = { cost_usd: 0.25, total_tokens: 40 } as UsageRecord
    const use = [
      { budget: 'usd_per_day', spent: 0.5, limit: 1, fraction: 0.5 },
      { budget: 'tokens_per_day', spent: 60, limit: 100, fraction: 0.6 },
      { budget: 'requests_per_minute', spent: 1, limit: 2, fraction: 0.5 },
    ]
    expect(addUse(use, r)?.map((u) => [u.spent, u.fraction])).toEqual([[0.75, 0.75], [100, 1], [2, 1]])
  })

  it('says which budget crossed, for whom, and what happens now', () => {
    const e: BudgetEvent = { type: 'budget', key_id: 'key_1', key_name: 'ci', budget: 'tokens_per_day', threshold: 80, spent: 85, limit: 100 }
    expect(budgetText(e)).toBe('Key “ci” has used 80 % of its tokens per day budget (85 of 100).')
    expect(budgetText({ ...e, key_id: null, threshold: 100, spent: 100 })).toMatch(/^The connector is over its tokens per day budget \(100 of 100\): its requests are refused\./)
  })
})

describe('request detail', () => {
  it('takes content, reasoning and tool calls from the logged completion', () => {
    const a = answerOf({ choices: [{ message: { content: 'Hi', reasoning_content: 'think', tool_calls: [{ id: 't1' }] } }] })
    expect(a).toEqual({ content: 'Hi', reasoning: 'think', toolCalls: [{ id: 't1' }] })
    expect(answerOf(null)).toEqual({ content: '', reasoning: '', toolCalls: [] })
  })
})
