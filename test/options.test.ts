import { describe, expect, it } from 'vitest'
import { UsageError } from '../src/core/errors.js'
import { MECHANISMS } from '../src/mechanisms/registry.js'
import { closest, DEFAULTS, parseSizes, resolveRunOptions } from '../src/harness/plan/options.js'

const resolve = (raw: Parameters<typeof resolveRunOptions>[0]) => resolveRunOptions(raw, MECHANISMS, 'test-run')
const message = (raw: Parameters<typeof resolveRunOptions>[0]): string => {
  try {
    resolve(raw)
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError)
    return (err as Error).message
  }
  throw new Error('expected a UsageError')
}

describe('option validation names the option and the rule', () => {
  it.each([
    [{ sizes: '0' }, '--sizes: "0" is not a positive size (use e.g. 64,1k,64k,1m)'],
    [{ sizes: '1q' }, '--sizes: "1q" is not a size (use e.g. 64,1k,64k,1m)'],
    [{ sizes: '64,,1k' }, '--sizes: "64,,1k" has an empty entry (use e.g. 64,1k,64k,1m)'],
    [{ sizes: '2' }, '--sizes: "2" is below the 4-byte minimum (every message carries a 32-bit sequence number)'],
    [{ sizes: '1g' }, '--sizes: "1g" is not a size (use e.g. 64,1k,64k,1m)'],
    [{ repetitions: '-1' }, '--repetitions: -1 is outside 1..1000'],
    [{ repetitions: 'three' }, '--repetitions: "three" is not a whole number'],
    [{ duration: 'forever' }, '--duration: "forever" is not a duration (use e.g. 500ms, 2s, 1m)'],
    [{ duration: '1ms' }, '--duration: 1ms is outside 10 ms..600 s'],
    [{ warmup: '1.5' }, '--warmup: "1.5" is not a whole number'],
    [{ targetSamples: '-5' }, '--target-samples: -5 is outside 0..100000000'],
    [{ targetSamples: 'lots' }, '--target-samples: "lots" is not a whole number'],
    [{ targetRme: 'abc' }, '--target-rme: "abc" is not a percentage (use e.g. 5, or 0 for every repetition)'],
    [{ targetRme: '-1' }, '--target-rme: -1 is outside 0..100 (use e.g. 5, or 0 for every repetition)'],
    [{ targetRme: '' }, '--target-rme: "" is not a percentage (use e.g. 5, or 0 for every repetition)'],
    [{ modes: 'blocking,fast' }, '--modes: "fast" is not one of blocking, nonblocking, busy-poll'],
    [{ modes: 'blockin' }, '--modes: "blockin" is not one of blocking, nonblocking, busy-poll (did you mean "blocking"?)'],
    [{ endpoints: 'host' }, '--endpoints: "host" is not one of process, thread'],
    [{ patterns: 'ping' }, '--patterns: "ping" is not one of pingpong, stream, fanin, oneway, load'],
    [{ rates: '50%,x' }, '--rates: "x" is neither a share like 50% nor messages per second like 20000 or 20k (1 to 1e9)'],
    [{ pairs: '1,300' }, '--pairs: 300 is outside 1..256'],
    [{ pairPlacement: 'far' }, '--pair-placement: "far" is not one of auto, within-node, across-nodes, same-cpu'],
    [{ senders: '0' }, '--senders: 0 is outside 1..64'],
    [{ senders: '2,x' }, '--senders: "x" is not a whole number (use e.g. 1,2,4)'],
    [{ pin: 'both' }, '--pin: "both" is not one of auto, none, same, split'],
    [{ timeout: 'soon' }, '--timeout: "soon" is not a duration (use e.g. 500ms, 2s, 1m)'],
    [{ mechanisms: ['fifoo'] }, 'unknown mechanism "fifoo" (did you mean "fifo"?); "ipcbench list" shows them all'],
    [{ mechanisms: ['carrier-pigeon'] }, 'unknown mechanism "carrier-pigeon"; "ipcbench list" shows them all'],
  ])('%j', (raw, expected) => {
    expect(message(raw)).toBe(expected)
  })
})

describe('defaults', () => {
  it('are complete and --quick is smaller', () => {
    const full = resolve({})
    const quick = resolve({ quick: true })
    expect(full.repetitions).toBe(DEFAULTS.full.repetitions)
    expect(quick.repetitions).toBe(3)
    expect(quick.sizesBytes.pingpong.length).toBeLessThan(full.sizesBytes.pingpong.length)
    expect(full.mechanisms).toEqual(MECHANISMS.map((m) => m.id))
    expect(full.pin).toBe('auto')
    expect(full.floor).toBe(true)
    expect(full.out).toMatch(/results\/test-run\.json$/)
    // Fan-in is in the full matrix at 1, 2 and 4 senders; --quick asks only the textbook question, four senders at 64 B.
    expect(full.senders).toEqual([1, 2, 4])
    expect(quick.senders).toEqual([4])
    expect(quick.sizesBytes.fanin).toEqual([64])
    expect(resolve({ senders: '4,1,4' }).senders).toEqual([1, 4])
  })
  it('the sample target: 5000, 2000 with --quick, 0 for a --duration asked for, or as given', () => {
    expect(resolve({}).targetSamples).toBe(5000)
    expect(resolve({ quick: true }).targetSamples).toBe(2000)
    expect(resolve({ duration: '2s' }).targetSamples).toBe(0)
    expect(resolve({ duration: '2s', targetSamples: '300' }).targetSamples).toBe(300)
    expect(resolve({ targetSamples: '0' }).targetSamples).toBe(0)
  })
  it('the early stop target: 5%, 0 to turn it off, a fraction or a % allowed', () => {
    expect(resolve({}).targetRmePct).toBe(5)
    expect(resolve({ quick: true }).targetRmePct).toBe(5)
    expect(resolve({ targetRme: '0' }).targetRmePct).toBe(0)
    expect(resolve({ targetRme: '2.5' }).targetRmePct).toBe(2.5)
    expect(resolve({ targetRme: '3%' }).targetRmePct).toBe(3)
  })
  it('--sizes applies to every pattern, sorted and unique', () => {
    expect(resolve({ sizes: '1k,64,1k' }).sizesBytes).toEqual({ pingpong: [64, 1024], stream: [64, 1024], fanin: [64, 1024] })
    expect(parseSizes('64k,1m')).toEqual([65536, 1048576])
  })
  it('keeps only the named lists, in canonical order', () => {
    expect(resolve({ modes: 'busy-poll,blocking' }).modes).toEqual(['blocking', 'busy-poll'])
  })
})

describe('closest', () => {
  it('suggests near names only', () => {
    expect(closest('unix-strem', ['unix-stream', 'tcp'])).toBe('unix-stream')
    expect(closest('zzzzzz', ['unix-stream', 'tcp'])).toBeUndefined()
  })
})
