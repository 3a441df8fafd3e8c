/** One benchmark figure, as `pnpm bench --json` prints it. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
}
