// Small DOM helpers for the views.

/** Creates an element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/** A labelled range slider; `onInput` gets the value. */
export function slider(
  id: string,
  label: string,
  min: number,
  max: number,
  step: number,
  value: number,
): HTMLLabelElement {
  const input = h('input', {
    id,
    type: 'range',
    min: String(min),
    max: String(max),
    step: String(step),
    value: String(value),
  });
  const shown = h('output', { for: id }, String(value));
  input.addEventListener('input', () => {
    shown.textContent = input.value;
  });
  return h('label', { class: 'slider' }, label, input, shown);
}

/** A stable pastel colour for token number `i`. */
export function tokenColour(i: number): string {
  return `hsl(${(i * 67) % 360} 70% 85%)`;
}

/** The longest text the views accept from a paste or a file. */
export const MAX_TEXT = 200_000;

/** Why `text` cannot be used, or null: empty, too long, or not text (NUL bytes, invalid UTF-8). */
export function textProblem(text: string): string | null {
  if (text.trim() === '') return 'Type or paste some text first.';
  if (text.length > MAX_TEXT)
    return `That is ${text.length.toLocaleString('en')} characters; the playground takes up to ${MAX_TEXT.toLocaleString('en')}.`;
  if (text.includes('\u0000') || text.includes('\ufffd'))
    return 'That does not look like text (it has NUL bytes or invalid UTF-8); try a .txt or .md file.';
  return null;
}
