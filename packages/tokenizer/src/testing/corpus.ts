/**
 * A varied corpus for comparing token ids with tiktoken: every major script, emoji sequences,
 * combining marks, whitespace of every kind, digits, contractions in all cases, code, JSON,
 * URLs, random Unicode (seeded) and pathological repeats. Used by the tests and the benchmark.
 */

/** Samples that each exercise one feature of the pre-tokenizers. */
export const FEATURE_SAMPLES: readonly string[] = [
  '',
  'hello world',
  'Hello, World! How are you today?',
  // contractions in every case, and the long s that Rust folds to s
  "I'm you're he's we've they'll I'd it's can't won't",
  "I'M YOU'RE HE'S WE'VE THEY'LL I'D IT'S CAN'T",
  "i'M yOu'Re hE'S wE'vE tHeY'Ll i'D it'ſ 'Ss 'sS",
  "rock 'n' roll, ''quoted'', ' s, 's'",
  // scripts
  'Ça va? Élève, naïve façade, Øresund, Straße, İstanbul, ǅemal',
  'Ελληνικά: Καλημέρα κόσμε, ΑΒΓΔ αβγδ',
  'Русский: Привет, мир! Съешь же ещё этих мягких французских булок.',
  'العربية: مرحبا بالعالم، كيف حالك؟ ١٢٣٤٥',
  'עברית: שלום עולם! מה שלומך?',
  'हिन्दी: नमस्ते दुनिया। संस्कृतम् ०१२३४५६७८९',
  'বাংলা: হ্যালো বিশ্ব',
  'ไทย: สวัสดีชาวโลก ภาษาไทยไม่มีช่องว่าง',
  '中文：你好，世界！我们今天去哪里？一二三四五',
  '日本語：こんにちは世界。カタカナとひらがなと漢字。ｈａｌｆ－ｗｉｄｔｈ ｶﾀｶﾅ',
  '한국어: 안녕하세요 세계! 반갑습니다.',
  'ქართული: გამარჯობა მსოფლიო; Հայերեն: Բարեւ աշխարհ; አማርኛ: ሰላም ልዑል',
  'தமிழ்: வணக்கம் உலகம்; ગુજરાતી; ਪੰਜਾਬੀ; ᠮᠣᠩᠭᠣᠯ; ᏣᎳᎩ; ⵜⴰⵎⴰⵣⵉⵖⵜ',
  // emoji: ZWJ families, skin tones, flags, keycaps, variation selectors
  '👩‍👩‍👧‍👦 👨🏽‍💻 🧑🏿‍🤝‍🧑🏻 👍🏼👍🏽👍🏾 🇫🇷🇯🇵🏴󠁧󠁢󠁳󠁣󠁴󠁿 1️⃣ #️⃣ ❤️ ☺︎ 🫠🪿',
  // combining marks
  'e\u0301 a\u0308 n\u0303 Z\u0351\u0360\u0361\u0362 q\u0307\u0323 \u0301\u0301 a\u20dd',
  'Zalgo: Z̵̡̢̛̗̘̙̜̝̞̟̠̊̋̌̍̎̏̐̑̒̓̔a̸̧̨̛̠̣̤̥̦̩̪l̷̡̛g̶̡o̵',
  // whitespace of every kind
  ' \t \n \r\n \r \v \f \u00a0 \u1680 \u2000\u2001\u2002\u200a \u2028 \u2029 \u202f \u205f \u3000 \u0085 \ufeff x',
  'a  b   c    d\t\te\n\n\nf\r\n\r\ng   \n   h \u00a0\u00a0 i',
  '    indented\n        more\n\t\ttabs\n  \n\n',
  'trailing spaces   ',
  '   ',
  '\n',
  ' \u0085\u0085 \ufeff\ufeff x\u0085y',
  // probes where JavaScript's \s (U+FEFF yes, U+0085 no) or a missing (?i:) fold would split
  // differently from tiktoken's Rust engine (found by a randomized search against tiktoken)
  ' \ufeff\u0085',
  ' \u00851',
  'ea \ufeff\u017f',
  ' \ufeff!s!',
  '!\n\n\u0085',
  ' \ufeff\u0085\u212a',
  "\t\ufeff'eK",
  "\n1\u0085'a",
  '\u212a \u0085\u017f',
  "\ufeff's",
  " \u0085'KK",
  "\t\u0085'a",
  ' \ufeffT',
  "\u0085'sa",
  "x'S y'ſ z'LL w'Re",
  // numbers
  '1 12 123 1234 12345 123456 1234567890123456789012345678901234567890',
  '3.14159 -42 +7 1e-10 0x1F 1,000,000 ½ ² ³ Ⅻ ١٢٣ ४५६ ๑๒๓ 𝟙𝟚𝟛',
  // code, JSON, URLs
  'function add(a: number, b: number): number {\n  return a + b; // sum\n}\n',
  'def f(x):\n    if x > 0:\n        return x ** 2\n    return -x\n\n\nprint(f(3))\n',
  '#include <stdio.h>\nint main(void) { printf("%d\\n", 42); return 0; }\n',
  '{"name": "llmkit", "version": "0.1.0", "tags": ["a", "b"], "n": null, "ok": true, "x": 1.5e3}',
  'https://example.com/path/to/page?query=1&lang=en#section-2 mailto:a@b.co ftp://x.y/z',
  '<div class="a">Hello &amp; welcome</div><!-- comment --><br/>',
  "SELECT * FROM users WHERE id = 42 AND name LIKE '%bob%';",
  '$ ls -la | grep "\\.ts$" && echo "done" >> /tmp/log.txt',
  '<|endoftext|> <|fim_prefix|> <|im_start|> plain text around special-looking strings',
  '!!!??? ... --- *** ### @@@ ^^^ ~~~ ``` \'\'\' """ ((())) [[[]]] {{{}}} ///\\\\\\',
  // pathological repeats
  'a'.repeat(5000),
  ' '.repeat(5000),
  '\n'.repeat(3000),
  '1'.repeat(5000),
  '😀'.repeat(2000),
  'ab'.repeat(3000),
  '.!'.repeat(2500),
  `${' '.repeat(2000)}x${'\t'.repeat(2000)}`,
  'é'.repeat(3000),
  '中'.repeat(3000),
  // lone surrogates (tiktoken sees U+FFFD, as TextEncoder makes them)
  'lone \ud800 high, lone \udc00 low, \ud83d reversed \ude00\ud83d',
];

/** A small seeded generator (mulberry32), so random samples are the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random Unicode strings drawn from every plane, weighted towards the BMP and ASCII. */
export function randomUnicode(count: number, seed = 1): string[] {
  const random = seededRandom(seed);
  const out: string[] = [];
  for (let s = 0; s < count; s++) {
    const length = 1 + Math.floor(random() * 60);
    let text = '';
    for (let i = 0; i < length; i++) {
      const r = random();
      let cp: number;
      if (r < 0.35) cp = 0x20 + Math.floor(random() * 0x5f);
      else if (r < 0.45) cp = [0x20, 0x0a, 0x09, 0x0d, 0x27][Math.floor(random() * 5)];
      else if (r < 0.8) cp = Math.floor(random() * 0xd800);
      else if (r < 0.9) cp = 0xe000 + Math.floor(random() * 0x2000);
      else cp = 0x10000 + Math.floor(random() * 0x100000);
      text += String.fromCodePoint(cp);
    }
    out.push(text);
  }
  return out;
}

/**
 * A mixed multilingual and code corpus of roughly `bytes` UTF-8 bytes: the feature samples
 * (without the pathological repeats) cycled with varied separators.
 */
export function mixedCorpus(bytes: number): string {
  const pieces = FEATURE_SAMPLES.filter((s) => s.length < 400);
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const piece = pieces[i % pieces.length];
    parts.push(piece);
    size += Buffer.byteLength(piece) + 1;
  }
  return parts.join('\n');
}
