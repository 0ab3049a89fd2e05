/** The one export of Bun's test module the portable entry uses (Bun's own types are not installed). */
declare module 'bun:test' {
  export function test(name: string, fn: () => Promise<void> | void, timeoutMs?: number): void
}
