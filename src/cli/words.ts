/** `1 block`, `2 blocks`: a count with its noun (regular plurals only). */
export function plural(count: number, noun: string): string {
  return `${count} ${count === 1 ? noun : `${noun}s`}`;
}

/** `text` cut to `max` characters, with an ellipsis when cut. */
export function ellipsis(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
