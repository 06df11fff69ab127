// Hugging Face post-processors: add the special tokens a model expects around one sequence or a
// pair (`[CLS] A [SEP] B [SEP]`, `<s> A`). Supported: TemplateProcessing, BertProcessing,
// RobertaProcessing, ByteLevel (changes no ids), Sequence.
import { TokenizerError } from '../errors.js';
import type { ComponentJson } from './json.js';

/** One token of an encoding on its way out. */
export interface EncodedToken {
  id: number;
  /** [start, end) in the original text; [0, 0] for added special tokens. */
  start: number;
  end: number;
  /** Added by the post-processor or a special added token. */
  special: boolean;
  /** 0 for the first sequence, 1 for the second (BERT's token_type_ids). */
  typeId: number;
}

/** A post-processor: the tokens of one or two sequences in, the final tokens out. */
export type PostProcessor = (a: EncodedToken[], b: EncodedToken[] | null) => EncodedToken[];

const special = (id: number, typeId: number): EncodedToken => ({
  id,
  start: 0,
  end: 0,
  special: true,
  typeId,
});
const withType = (tokens: EncodedToken[], typeId: number) => tokens.map((t) => ({ ...t, typeId }));

type TemplatePart =
  | { SpecialToken: { id: string; type_id: number } }
  | { Sequence: { id: 'A' | 'B'; type_id: number } };

/** Builds the post-processor a tokenizer.json describes. */
export function createPostProcessor(json: ComponentJson): PostProcessor {
  switch (json.type) {
    case 'TemplateProcessing': {
      const specials = (json.special_tokens ?? {}) as Record<string, { ids: number[] }>;
      const render = (template: TemplatePart[], a: EncodedToken[], b: EncodedToken[] | null) =>
        template.flatMap((part) => {
          if ('Sequence' in part)
            return withType(part.Sequence.id === 'A' ? a : (b ?? []), part.Sequence.type_id);
          const entry = specials[part.SpecialToken.id];
          if (!entry)
            throw new TokenizerError(
              'corrupt_file',
              `TemplateProcessing: special token ${JSON.stringify(part.SpecialToken.id)} is not in special_tokens`,
            );
          return entry.ids.map((id) => special(id, part.SpecialToken.type_id));
        });
      return (a, b) => render((b ? json.pair : json.single) as TemplatePart[], a, b);
    }
    case 'BertProcessing':
    case 'RobertaProcessing': {
      const [, sep] = json.sep as [string, number];
      const [, cls] = json.cls as [string, number];
      const roberta = json.type === 'RobertaProcessing';
      return (a, b) => {
        const out = [special(cls, 0), ...withType(a, 0), special(sep, 0)];
        if (b) {
          const typeId = roberta ? 0 : 1;
          if (roberta) out.push(special(sep, 0));
          out.push(...withType(b, typeId), special(sep, typeId));
        }
        return out;
      };
    }
    case 'ByteLevel':
      return (a, b) => (b ? [...a, ...withType(b, 1)] : a);
    case 'Sequence': {
      const parts = ((json.processors as ComponentJson[]) ?? []).map(createPostProcessor);
      // a pair is joined by the first processor; later ones see one sequence
      return (a, b) =>
        parts.reduce<[EncodedToken[], EncodedToken[] | null]>(
          ([x, y], p) => [p(x, y), null],
          [a, b],
        )[0];
    }
    default:
      throw new TokenizerError(
        'unsupported',
        `tokenizer.json: post-processor type ${JSON.stringify(json.type)} is not supported; supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence`,
      );
  }
}
