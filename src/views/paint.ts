// The one colour painter of every view (plans, drift reports, progress, Output's warning and
// error prefixes). Whether to colour is decided once, by Output (a terminal, no NO_COLOR, no CI);
// a view is only told yes or no.

/** The colours mrsk uses: the plan's symbols (+ green, ~ yellow, - red), headers bold, causes dim. */
export type Colour = 'red' | 'green' | 'yellow' | 'cyan' | 'bold' | 'dim';

/** Paints text in a colour, or returns it as it is. */
export type Paint = (colour: Colour, text: string) => string;

const CODES: Readonly<Record<Colour, number>> = { red: 31, green: 32, yellow: 33, cyan: 36, bold: 1, dim: 2 };

/**
 * A painter that colours when `color` is true. Empty text stays empty: a reset code around
 * nothing would only make a blank cell look non-empty to a line-length count.
 */
export function painter(color: boolean | undefined): Paint {
  return (colour, text) => (color && text ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text);
}
