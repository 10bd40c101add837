/**
 * Text that came from a user, a dataset or the store, made safe for the format it lands in: HTML, Markdown (which
 * passes raw HTML through to the page) and fenced code blocks.
 */
import { maxOf } from './numbers.js';

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML[c]);
}

/**
 * A string as literal Markdown inline text: no raw HTML, links, emphasis, code spans or table cells can come out of
 * it, and it stays on one line. Renders back to the same characters (placed after other text: a heading's '#', a cell's '|').
 */
export function mdText(s: string): string {
  return String(s)
    .replace(/\r\n?|\n/g, ' ')
    .replace(/[\\`*[\]|~!]/g, (c) => `\\${c}`)
    .replace(/[&<>]/g, (c) => HTML[c]);
}

/** The longest run of backticks in the text. */
function longestTicks(text: string): number {
  return maxOf(text.matchAll(/`+/g), (m) => m[0].length, 0);
}

/** A fenced code block whose fence is longer than any run of backticks in the text, so the text cannot close it. */
export function codeBlock(lang: string, text: string): string[] {
  const fence = '`'.repeat(Math.max(3, longestTicks(text) + 1));
  return [`${fence}${lang}`, text, fence];
}

/** A string as Markdown inline code (backticks inside are fenced by longer runs). */
export function mdCode(s: string): string {
  const text = String(s).replace(/\r\n?|\n/g, ' ');
  const tick = '`'.repeat(longestTicks(text) + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${tick}${pad}${text}${pad}${tick}`;
}

/** A string for a terminal table: control characters (newlines, escape sequences) shown as \u escapes. */
export function printable(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this escapes.
  return String(s).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
