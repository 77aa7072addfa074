/**
 * Labelled examples as the JSONL `dynabert train` reads (src/train/data.ts):
 * one `{"text": …, "label": <integer id>}` object per line, each line ended by "\n".
 */
export function examplesToJsonl(examples: readonly { readonly text: string; readonly label: number }[]): string {
  let out = "";
  for (const e of examples) out += JSON.stringify({ text: e.text, label: e.label }) + "\n";
  return out;
}
