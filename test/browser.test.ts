import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { renderHtmlReport } from '../src/report/html.js'
import { parseRun } from '../src/report/load.js'
import { ROOT, tempFile } from './helpers.js'

/**
 * The HTML report in a real browser: the charts are drawn, visible and not blank, and
 * the page asks for nothing outside its own file. Needs a Chromium
 * (scripts/install-chromium.sh installs Debian's); without one the test skips, saying why.
 */

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const path = join(dir, name)
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // not in this directory
    }
  }
  return undefined
}

function findChromium(): string | undefined {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    const path = onPath(name)
    if (path) return path
  }
  try {
    const own = chromium.executablePath()
    if (own && existsSync(own)) return own
  } catch {
    // playwright-core has no browser of its own unless one was downloaded
  }
  return undefined
}

const exe = findChromium()
if (!exe)
  console.log(
    'browser test skipped: no chromium, chromium-browser or google-chrome on PATH, and no playwright browser; run scripts/install-chromium.sh to enable it',
  )

/** Where the first screen of the full-run report is kept (CI prints the path and keeps the file). */
export const SCREENSHOT = process.env.IPCBENCH_SCREENSHOT ?? '/tmp/ipcbench-report-screenshot.png'
const MAX_CHART_PX = 1200

describe('the HTML report in a browser', () => {
  it.skipIf(!exe)(
    'a full run at 1400 px, as a person sees it: every chart drawn and bounded, the summary legible, "what to use" there',
    async () => {
      const fixture = join(ROOT, 'test', 'fixtures', 'full-run.json')
      const run = parseRun(readFileSync(fixture, 'utf8'), fixture)
      const htmlPath = tempFile('full-report.html')
      writeFileSync(htmlPath, await renderHtmlReport([run]))
      const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox'], headless: true })
      try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
        await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' })
        await page.screenshot({ path: SCREENSHOT })
        console.log(`screenshot of the first screen: ${SCREENSHOT}`)

        const charts = await page.$$eval('section.chart', (sections) =>
          sections.map((s) => {
            const svg = s.querySelector('svg')
            if (!svg) return { id: s.id, drawn: 0, height: 0, width: 0, visible: false }
            const box = svg.getBoundingClientRect()
            const marks = [...svg.querySelectorAll('g.role-mark > path, g.role-mark > line, g.role-mark > text')]
            const drawn = marks.filter((m) => {
              const b = (m as unknown as { getBBox(): { width: number; height: number } }).getBBox()
              return b.width > 0 || b.height > 0
            }).length
            const style = (globalThis as unknown as { getComputedStyle(e: unknown): { visibility: string; display: string } }).getComputedStyle(svg)
            return { id: s.id, drawn, height: box.height, width: box.width, visible: style.visibility !== 'hidden' && style.display !== 'none' }
          }),
        )
        expect(charts.length).toBe(7)
        for (const c of charts) {
          expect(c.visible, c.id).toBe(true)
          expect(c.drawn, c.id).toBeGreaterThan(10)
          expect(c.width, c.id).toBeGreaterThan(400)
          expect(c.height, c.id).toBeLessThanOrEqual(MAX_CHART_PX)
        }
        console.log(`chart heights at 1400 px: ${charts.map((c) => `${c.id.replace(/^chart-/, '')} ${c.height.toFixed(0)}`).join(', ')}`)

        expect(await page.locator('table.advice tbody tr').count()).toBeGreaterThan(8)
        expect(await page.locator('table.advice caption').textContent()).toContain('What to use')

        // Every piece of text in the summary (findings, table cells, heads) against every other: no two boxes overlap.
        const boxes = await page.$$eval('section.glance li, section.glance th, section.glance td, section.glance caption, section.glance h2', (els) =>
          els.map((e) => {
            const r = e.getBoundingClientRect()
            return { text: (e.textContent ?? '').slice(0, 40), x0: r.left, y0: r.top, x1: r.right, y1: r.bottom }
          }),
        )
        expect(boxes.length).toBeGreaterThan(50)
        const overlaps: string[] = []
        for (let i = 0; i < boxes.length; i++)
          for (let j = i + 1; j < boxes.length; j++) {
            const [a, b] = [boxes[i], boxes[j]]
            // A pixel of shared border is not an overlap.
            if (a.x0 < b.x1 - 1 && b.x0 < a.x1 - 1 && a.y0 < b.y1 - 1 && b.y0 < a.y1 - 1) overlaps.push(`"${a.text}" / "${b.text}"`)
          }
        expect(overlaps).toEqual([])
        // Nothing of the summary runs off the page sideways.
        const scrollW = await page.evaluate(
          () => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth,
        )
        expect(scrollW).toBeLessThanOrEqual(1400)
      } finally {
        await browser.close()
      }
    },
    60_000,
  )

  it.skipIf(!exe)(
    'shows at least six drawn charts, fetches nothing, and is not blank',
    async () => {
      // Read as the report command reads it: the run@1 fixture brought up to date (its warnings were strings).
      const fixture = join(ROOT, 'test', 'fixtures', 'run-a.json')
      const run = parseRun(readFileSync(fixture, 'utf8'), fixture)
      const htmlPath = tempFile('report.html')
      writeFileSync(htmlPath, await renderHtmlReport([run]))

      const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox'], headless: true })
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
        await page.goto('about:blank')
        const blank = await page.screenshot({ fullPage: true })

        const outside: string[] = []
        page.on('request', (req) => {
          if (!req.url().startsWith('file:') && !req.url().startsWith('data:')) outside.push(req.url())
        })
        await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' })

        // Per inline SVG: its box, and the data marks vega drew in it (points, lines, rules, bars).
        const svgs = await page.$$eval('main svg', (els) =>
          els.map((svg) => {
            const box = svg.getBoundingClientRect()
            const marks = svg.querySelectorAll('g.role-mark > path, g.role-mark > line, g.role-mark > text')
            const drawn = [...marks].filter((m) => {
              // Runs in the page: an SVG element has getBBox (this project's types have no DOM lib).
              const b = (m as unknown as { getBBox(): { width: number; height: number } }).getBBox()
              return b.width > 0 || b.height > 0
            })
            const style = (globalThis as unknown as { getComputedStyle(e: unknown): { visibility: string; display: string } }).getComputedStyle(svg)
            return {
              width: box.width,
              height: box.height,
              marks: marks.length,
              drawn: drawn.length,
              visible: style.visibility !== 'hidden' && style.display !== 'none',
            }
          }),
        )
        const charts = svgs.filter((s) => s.visible && s.width > 200 && s.height > 100 && s.drawn > 0)
        expect(charts.length, JSON.stringify(svgs)).toBeGreaterThanOrEqual(6)
        expect(await page.locator('g.mark-symbol.role-mark path').count()).toBeGreaterThan(50)
        expect(await page.locator('g.mark-line.role-mark path').count()).toBeGreaterThan(10)
        expect(await page.locator('table tbody tr').count()).toBeGreaterThan(50)
        expect(outside).toEqual([])

        const shot = await page.screenshot({ fullPage: true })
        // A white page compresses to almost nothing; the drawn report to far more.
        expect(shot.length).toBeGreaterThan(blank.length * 20)
        expect(shot.readUInt32BE(20)).toBeGreaterThan(2000) // PNG height: the full page, charts and tables
      } finally {
        await browser.close()
      }
    },
    30_000,
  )
})
