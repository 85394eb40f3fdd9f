/** cli-table3's own width measure (string-width, ANSI codes ignored): the one it pads and truncates by. */
declare module 'cli-table3/src/utils.js' {
  export function strlen(text: string): number;
}
