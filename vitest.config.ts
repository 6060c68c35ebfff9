import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/run-lock.setup.ts'],
    // Counts the fault suite's faults over every file and prints the tally at the end.
    globalSetup: ['test/fault-tally.global.ts'],
    // Peers are real processes and the checks count kernel objects: one file at a time.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
})
