/** commander's argParser for a repeatable option (`--x a --x b` → ['a', 'b']); no default array, so the help prints none. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]
