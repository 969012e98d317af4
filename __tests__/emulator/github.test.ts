import { getOctokit } from '@actions/github'
import type { Emulator } from '../../emulator/index.js'
import { start } from './helpers.js'

// The GitHub REST routes of the pull request comment, driven by @actions/github's Octokit.
let emu: Emulator
beforeAll(async () => {
  emu = await start()
})
afterAll(async () => {
  await emu?.stop()
})

const octokit = (token: string) => getOctokit(token, { baseUrl: emu.github.apiUrl })
const pr = { owner: 'octo', repo: 'repo', issue_number: 5 }

describe('GitHub REST: issue comments', () => {
  test('create, list through pages, update', async () => {
    const gh = octokit(emu.github.token)
    const created = await gh.rest.issues.createComment({ ...pr, body: 'first' })
    expect(created.status).toBe(201)
    expect(created.data).toMatchObject({ body: 'first', user: { login: 'github-actions[bot]' } })
    for (let i = 0; i < 4; i++) await gh.rest.issues.createComment({ ...pr, body: `n${i}` })
    await gh.rest.issues.createComment({ ...pr, issue_number: 6, body: 'elsewhere' })

    const page = await gh.rest.issues.listComments({ ...pr, per_page: 2 })
    expect(page.data.map(c => c.body)).toEqual(['first', 'n0'])
    expect(page.headers.link).toMatch(/page=2>; rel="next"/)
    const all = await gh.paginate(gh.rest.issues.listComments, { ...pr, per_page: 2 })
    expect(all.map(c => c.body)).toEqual(['first', 'n0', 'n1', 'n2', 'n3'])

    const updated = await gh.rest.issues.updateComment({
      owner: 'octo',
      repo: 'repo',
      comment_id: created.data.id,
      body: 'second'
    })
    expect(updated.data.body).toBe('second')
    expect(emu.github.comments('octo', 'repo', 5).map(c => c.body)[0]).toBe('second')
    expect(emu.github.comments('octo', 'repo', 6)).toHaveLength(1)
  })

  test('a wrong token is 401; read-only mode answers writes with 403 in GitHub dialect', async () => {
    await expect(octokit('ghs_wrong').rest.issues.listComments(pr)).rejects.toMatchObject({
      status: 401
    })
    emu.github.setReadOnly(true)
    try {
      const gh = octokit(emu.github.token)
      expect((await gh.rest.issues.listComments(pr)).status).toBe(200)
      await expect(gh.rest.issues.createComment({ ...pr, body: 'x' })).rejects.toMatchObject({
        status: 403,
        message: expect.stringContaining('Resource not accessible by integration')
      })
      await expect(
        gh.rest.issues.updateComment({ owner: 'octo', repo: 'repo', comment_id: 1, body: 'x' })
      ).rejects.toMatchObject({ status: 403 })
    } finally {
      emu.github.setReadOnly(false)
    }
  })

  test('updating a comment of another repository is 404', async () => {
    const gh = octokit(emu.github.token)
    const { data } = await gh.rest.issues.createComment({ ...pr, body: 'mine' })
    await expect(
      gh.rest.issues.updateComment({ owner: 'octo', repo: 'other', comment_id: data.id, body: 'x' })
    ).rejects.toMatchObject({ status: 404 })
  })
})
